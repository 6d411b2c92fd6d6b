"""The FastAPI app: `create_app(settings)` builds it complete, with no module globals.

The settings (`serving.config`), the store's engine and session factory live on
`app.state`; a test builds as many apps as it likes, each on its own database. An empty
database is migrated when the app is created (as `amanah db upgrade` would); one at an
older revision is refused with the command to run. `/healthz` says the process answers;
`/readyz` says whether it can serve: the database must answer `SELECT 1`; the model check
reports "pending" until the model holder exists (scoring routes come with it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from serving.config import ApiSettings, load_settings
from serving.errors import add_problem_handlers
from serving.store import current_revision, database_url, make_engine, sessions, upgrade
from serving.store.database import require_store, unreachable

logger = logging.getLogger(__name__)

CheckStatus = Literal["ok", "degraded", "failed", "pending"]
ReadyStatus = Literal["ready", "degraded", "unavailable"]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Check(BaseModel):
    """One readiness check. `failed` makes the service unavailable, `degraded` makes it
    degraded, `pending` (a part not built yet) counts for neither."""

    status: CheckStatus
    detail: str = ""


class Readiness(BaseModel):
    status: ReadyStatus
    checks: dict[str, Check]


def readiness(checks: Mapping[str, Check]) -> Readiness:
    """The overall answer of `/readyz` from its checks (200 unless `unavailable`)."""
    found = {check.status for check in checks.values()}
    status: ReadyStatus = (
        "unavailable" if "failed" in found else "degraded" if "degraded" in found else "ready"
    )
    return Readiness(status=status, checks=dict(checks))


def check_database(engine: Engine) -> Check:
    """`SELECT 1` on the store. The reason of a failure is logged, not answered: `/readyz`
    needs no key and should not tell a stranger where the database lives."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("readiness: %s", unreachable(engine.url.render_as_string(), exc))
        return Check(status="failed", detail="the database does not answer")
    return Check(status="ok")


def check_model(request: Request) -> Check:
    holder = getattr(request.app.state, "model_holder", None)
    if holder is None:
        return Check(status="pending", detail="not loaded yet")
    return Check(status="ok")  # the model holder will report its own state


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


def prepared_engine(url: str) -> Engine:
    """An engine on a store at the newest revision; an empty database is migrated first.

    Raises StoreError (one line) when the URL is unusable, the database unreachable or
    behind the newest revision."""
    if current_revision(url) is None:
        upgrade(url)
    require_store(url)
    return make_engine(url)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The API on `settings` (default: :func:`serving.config.load_settings`, from the
    environment). Raises SettingsError or StoreError, each one line."""
    chosen = settings if settings is not None else load_settings()
    engine = prepared_engine(database_url(chosen))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Amanah scoring API",
        summary="Explained credit scores for members of Koperasi Merah Putih cooperatives.",
        version=_version(),
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = chosen
    app.state.engine = engine
    app.state.sessions = sessions(engine)
    add_problem_handlers(app)

    @app.get("/healthz", tags=["probes"])
    def healthz() -> Health:
        """The process answers (liveness)."""
        return Health()

    @app.get("/readyz", tags=["probes"], responses={503: {"model": Readiness}})
    def readyz(request: Request, engine: EngineDep, response: Response) -> Readiness:
        """Whether the service can serve: 200 ready or degraded, 503 unavailable."""
        ready = readiness({"database": check_database(engine), "model": check_model(request)})
        if ready.status == "unavailable":
            response.status_code = 503
        return ready

    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("amanah")
    except PackageNotFoundError:
        return "0+unknown"
