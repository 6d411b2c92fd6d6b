"""The API's dependencies as `Annotated` aliases: a route names what it needs, once.

- `SessionDep`: a session of the app's store for this request, closed after it (the route
  commits; anything not committed is rolled back on close). On SQLite the key is read in
  a transaction of its own that takes no write lock (`serving.store.database.reads_only`),
  committed before the route's own begins.
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

from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.config import ApiSettings
from serving.errors import DomainError
from serving.security import Scope
from serving.store.database import reads_only
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


# Dependencies that do no I/O are `async def`: FastAPI runs a sync one in its thread pool,
# a hop of about 0.1 ms each on a loaded machine, more while other threads hold the GIL. A
# score took twelve hops (the dependencies, the session's enter and exit, the route, the
# answer's validation); now three: the key, the member's consent, the route (and the
# session's close when a failure left its transaction open).


async def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ApiSettings, Depends(_settings)]


async def _session(request: Request) -> AsyncIterator[Session]:
    """A session for the request; made here without I/O (it connects at its first
    statement, in a sync dependency or route). Closing one whose transaction is still open
    rolls it back, a round trip: that is done in the thread pool, never on the loop."""
    factory: sessionmaker[Session] = request.app.state.sessions
    session = factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(_session)]

# auto_error=False: a missing header is answered by `_principal` as our own 401 problem
_bearer = HTTPBearer(auto_error=False, description="An Amanah API key: amk_live_...")


def _principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    deferred = reads_only(session)
    found = authenticate(session, credentials.credentials) if credentials is not None else None
    if deferred:  # SQLite: the key's read ends here; the route's transaction begins after
        session.commit()
    if found is None:
        raise UnauthorizedError(
            "A valid API key is required: send `Authorization: Bearer <key>`.",
            "Diperlukan kunci API yang berlaku: kirim `Authorization: Bearer <kunci>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


PartnerDep = Annotated[Principal, Depends(_principal)]


def require_scope(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the request's principal when its key has `scope`, else 403."""

    async def checked(principal: PartnerDep) -> Principal:
        if scope not in principal.scopes:
            raise ForbiddenScopeError(
                f"This API key lacks the scope {scope.value!r} this route requires.",
                f"Kunci API ini tidak memiliki cakupan {scope.value!r} yang diperlukan.",
            )
        return principal

    return checked


async def _model(request: Request) -> AmanahModel:
    """The model of the holder's current snapshot (`serving.model_holder`), taken once for
    the request: a hot swap while it runs does not change the model it is scored by."""
    holder = getattr(request.app.state, "model_holder", None)
    snapshot = holder.current() if holder is not None else None
    if snapshot is None:
        raise ModelUnavailableError(
            "No model is loaded, so no score can be given; try again later.",
            "Belum ada model yang dimuat, sehingga skor tidak dapat diberikan; coba lagi nanti.",
        )
    model: AmanahModel = snapshot.model
    return model


ModelDep = Annotated[AmanahModel, Depends(_model)]


async def _profiles(request: Request) -> ProfileStore:
    profiles: ProfileStore | None = getattr(request.app.state, "profiles", None)
    if profiles is None:
        raise ProfilesUnavailableError(
            "No member profiles are loaded, so no score can be given; try again later.",
            "Profil anggota belum dimuat, sehingga skor tidak dapat diberikan; coba lagi nanti.",
        )
    return profiles


ProfilesDep = Annotated[ProfileStore, Depends(_profiles)]
