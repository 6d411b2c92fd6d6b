"""The API's dependencies as `Annotated` aliases: a route names what it needs, once.

- `SessionDep`: a session of the app's store for this request, closed after it (the route
  commits; anything not committed is rolled back on close). On SQLite the key is read in
  a transaction of its own that takes no write lock (`serving.store.database.reads_only`),
  committed before the route's own begins, except for a route marked `reading_first`
  (its checks go on reading in it, and it commits before it writes).
- `PartnerDep`: the partner and scopes of the `Authorization: Bearer` key; a missing,
  malformed, unknown or revoked key (or a disabled partner) answers 401 `unauthorized`
  with `WWW-Authenticate: Bearer`, the same for each so an answer tells nothing of keys.
- `require_scope(scope)`: a dependency that passes the principal through when its key has
  `scope`, else 403 `forbidden_scope`. Use it instead of `PartnerDep` on a route, so the
  route checks its permission in one place.
- `ScoringDep`: what the scoring routes need, in one dependency: the settings, the model
  (none loaded answers 503 `model_unavailable`, never a default score) and the current
  profiles (none built answers 503 `profiles_unavailable`).
- `ProfilesDep`, `SettingsDep`: the profiles (the same 503) and the settings alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.config import ApiSettings
from serving.errors import DomainError
from serving.security import Scope
from serving.store.database import reads_only
from serving.store.repo import Principal, authenticate

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


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

BEARER_SCHEME = "HTTPBearer"  # the scheme's name in the OpenAPI document
KEYED_PATHS = "/v1/"  # every route under it needs a key (`document_bearer_keys`)


def bearer_key(request: Request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header (the scheme in any case); None
    without one, which `_principal` answers with its own 401 problem.

    Read here rather than by FastAPI's `HTTPBearer` dependency: a security scheme in a
    route's dependencies makes FastAPI work out OAuth scopes for every dependency of the
    tree on every request, about 6% of a score's time under py-spy."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def document_bearer_keys(app: FastAPI) -> None:
    """Declare the key in the app's OpenAPI document as `HTTPBearer` did: the scheme under
    `components.securitySchemes` and a `security` requirement on every operation under
    `/v1/` (each of them has `_principal` among its dependencies)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = plain()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[BEARER_SCHEME] = {
            "type": "http", "scheme": "bearer", "description": "An Amanah API key: amk_live_...",
        }  # fmt: skip
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(KEYED_PATHS):
                for operation in operations.values():
                    operation["security"] = [{BEARER_SCHEME: []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


READS_FIRST = "amanah_reads_first"  # attribute of a route function: see `reads_first`


def reading_first(endpoint: EndpointT) -> EndpointT:
    """Mark a route whose checks only read and which commits before its first write: the
    key's read transaction is left open for its checks (one transaction fewer a request:
    on SQLite a DEFERRED BEGIN and its COMMIT, each through the session's machinery)."""
    setattr(endpoint, READS_FIRST, True)
    return endpoint


def reads_first(request: Request) -> bool:
    """Whether the request's route is marked `reading_first`."""
    route = request.scope.get("route")
    return bool(getattr(getattr(route, "endpoint", None), READS_FIRST, False))


def _principal(session: SessionDep, request: Request) -> Principal:
    deferred = reads_only(session)
    presented = bearer_key(request)
    found = authenticate(session, presented) if presented is not None else None
    if deferred and not reads_first(request):
        session.commit()  # SQLite: the key's read ends here; the route's own begins after
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
        return scoped(principal, scope)

    return checked


def scoped(principal: Principal, scope: Scope) -> Principal:
    """`principal` when its key has `scope`, else 403 `forbidden_scope`: the check of
    `require_scope`, for a dependency that does more than check (`serving.limits`)."""
    if scope not in principal.scopes:
        raise ForbiddenScopeError(
            f"This API key lacks the scope {scope.value!r} this route requires.",
            f"Kunci API ini tidak memiliki cakupan {scope.value!r} yang diperlukan.",
        )
    return principal


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


async def _profiles(request: Request) -> ProfileStore:
    profiles: ProfileStore | None = getattr(request.app.state, "profiles", None)
    if profiles is None:
        raise ProfilesUnavailableError(
            "No member profiles are loaded, so no score can be given; try again later.",
            "Profil anggota belum dimuat, sehingga skor tidak dapat diberikan; coba lagi nanti.",
        )
    return profiles


ProfilesDep = Annotated[ProfileStore, Depends(_profiles)]


@dataclass(frozen=True)
class Scoring:
    """What a request's scores are made with: the settings, the model of the holder's
    current snapshot (taken once for the request: a hot swap while it runs does not change
    the model it is scored by) and the current profiles."""

    settings: ApiSettings
    model: AmanahModel
    profiles: ProfileStore


async def _scoring(request: Request) -> Scoring:
    """The settings, the model and the profiles in one dependency, with their 503s: each
    dependency a route names costs FastAPI a solve on every request, and the three taken
    apart (four uses on `POST /v1/scores`) were 5% of a score's server CPU (wrk, one
    worker, SQLite: 357-362 to 380-389 requests/s in the same sitting)."""
    return Scoring(await _settings(request), await _model(request), await _profiles(request))


ScoringDep = Annotated[Scoring, Depends(_scoring)]
