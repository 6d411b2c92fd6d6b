"""The API's dependencies as `Annotated` aliases: a route names what it needs, once.

- `SessionDep`: a session of the app's store for this request, closed after it (the route
  commits; anything not committed is rolled back on close).
- `PartnerDep`: the partner and scopes of the `Authorization: Bearer` key; a missing,
  malformed, unknown or revoked key (or a disabled partner) answers 401 `unauthorized`
  with `WWW-Authenticate: Bearer`, the same for each so an answer tells nothing of keys.
- `require_scope(scope)`: a dependency that passes the principal through when its key has
  `scope`, else 403 `forbidden_scope`. Use it instead of `PartnerDep` on a route, so the
  route checks its permission in one place.
- `ModelDep`: the app's model; none loaded answers 503 `model_unavailable`, never a default
  score. `ProfilesDep`: the current profiles; none built answers 503
  `profiles_unavailable`.
- `SettingsDep`: the app's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.config import ApiSettings
from serving.errors import DomainError
from serving.security import Scope
from serving.store.repo import Principal, authenticate


class UnauthorizedError(DomainError):
    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"
    title = "Unauthorized"


class ForbiddenScopeError(DomainError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden_scope"
    title = "Forbidden"


class ModelUnavailableError(DomainError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "model_unavailable"
    title = "No model is loaded"


class ProfilesUnavailableError(DomainError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "profiles_unavailable"
    title = "No member profiles are loaded"


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ApiSettings, Depends(_settings)]


def _session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]

# auto_error=False: a missing header is answered by `_principal` as our own 401 problem
_bearer = HTTPBearer(auto_error=False, description="An Amanah API key: amk_live_...")


def _principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    found = authenticate(session, credentials.credentials) if credentials is not None else None
    if found is None:
        raise UnauthorizedError(
            "A valid API key is required: send `Authorization: Bearer <key>`.",
            "Diperlukan kunci API yang berlaku: kirim `Authorization: Bearer <kunci>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


PartnerDep = Annotated[Principal, Depends(_principal)]


def require_scope(scope: Scope) -> Callable[[Principal], Principal]:
    """A dependency: the request's principal when its key has `scope`, else 403."""

    def checked(principal: PartnerDep) -> Principal:
        if scope not in principal.scopes:
            raise ForbiddenScopeError(
                f"This API key lacks the scope {scope.value!r} this route requires.",
                f"Kunci API ini tidak memiliki cakupan {scope.value!r} yang diperlukan.",
            )
        return principal

    return checked


def _model(request: Request) -> AmanahModel:
    model: AmanahModel | None = getattr(request.app.state, "model", None)
    if model is None:
        raise ModelUnavailableError(
            "No model is loaded, so no score can be given; try again later.",
            "Belum ada model yang dimuat, sehingga skor tidak dapat diberikan; coba lagi nanti.",
        )
    return model


ModelDep = Annotated[AmanahModel, Depends(_model)]


def _profiles(request: Request) -> ProfileStore:
    profiles: ProfileStore | None = getattr(request.app.state, "profiles", None)
    if profiles is None:
        raise ProfilesUnavailableError(
            "No member profiles are loaded, so no score can be given; try again later.",
            "Profil anggota belum dimuat, sehingga skor tidak dapat diberikan; coba lagi nanti.",
        )
    return profiles


ProfilesDep = Annotated[ProfileStore, Depends(_profiles)]
