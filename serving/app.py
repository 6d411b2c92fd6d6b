"""The FastAPI app: `create_app(settings)` builds it complete, with no module globals.

The settings (`serving.config`), the store's engine and session factory live on
`app.state`; a test builds as many apps as it likes, each on its own database. An empty
database is migrated when the app is created (as `amanah db upgrade` would); one at an
older revision is refused with the command to run. `/healthz` says the process answers;
`/readyz` says whether it can serve: the database must answer `SELECT 1` and a model must
be loaded.

The model is loaded once, when the app is created, from `settings.model_uri` (default
`models:/amanah-pd@champion`) in the MLflow store of `AMANAH_MLFLOW_TRACKING_URI`; a test
passes its own `AmanahModel` as `create_app(settings, model=...)`. A missing store, an
unknown alias or an artifact this code cannot read leaves the app without a model: it
still starts, `/readyz` reports the model check failed (503 unavailable) and scoring
answers 503 `model_unavailable`, never a default score. The current profiles come from
`AMANAH_FEATURES_DIR` (`serving.config.features_dir`); a folder without a build leaves
the app without profiles, and scoring answers 503 `profiles_unavailable`. No hot swap yet:
a new champion needs a restart.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from features.profile_store import ProfileStore, ProfileStoreError
from serving.api import api_router
from serving.config import ApiSettings, features_dir, load_settings
from serving.errors import add_problem_handlers
from serving.store import current_revision, database_url, make_engine, sessions, upgrade
from serving.store.database import require_store, unreachable

if TYPE_CHECKING:
    from models.artifact import AmanahModel

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
    """Whether a model is loaded; why it is not was logged when the app was created."""
    if getattr(request.app.state, "model", None) is None:
        return Check(status="failed", detail="no model loaded: scoring answers 503")
    return Check(status="ok")


def load_model(settings: ApiSettings) -> AmanahModel | None:
    """The model of `settings.model_uri`, or None (logged) when it cannot be loaded."""
    from models.registry import load

    try:
        return load(settings.model_uri, settings.mlflow_tracking_uri)
    # whatever the registry or the artifact raises (missing store, unknown alias, old
    # format, MLflow's own errors), the app starts without a model and says so
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.warning("no model loaded from %s: %s", settings.model_uri, first)
        return None


def load_profiles(settings: ApiSettings) -> ProfileStore | None:
    """The current profiles of `features_dir(settings)`, or None (logged) without a build."""
    try:
        return ProfileStore(features_dir(settings))
    except ProfileStoreError as exc:
        logger.warning("no member profiles: %s", exc)
        return None


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


def create_app(settings: ApiSettings | None = None, model: AmanahModel | None = None) -> FastAPI:
    """The API on `settings` (default: :func:`serving.config.load_settings`, from the
    environment), serving `model` (default: loaded from `settings.model_uri`, see the
    module docstring). Raises SettingsError or StoreError, each one line."""
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
    app.state.model = model if model is not None else load_model(chosen)
    app.state.profiles = load_profiles(chosen)
    add_problem_handlers(app)
    app.include_router(api_router)

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
