"""The FastAPI app: `create_app(settings)` builds it complete, with no module globals.

The settings (`serving.config`), the store's engine and session factory live on
`app.state`; a test builds as many apps as it likes, each on its own database. An empty
database is migrated when the app is created (as `amanah db upgrade` would); one at an
older revision is refused with the command to run. `/healthz` says the process answers;
`/readyz` says whether it can serve: the database answers `SELECT 1`, the audit chain
can be appended to (a probe entry added and rolled back), a model is loaded and the
profiles are recent (older than `serving.scoring.STALE_PROFILE_DAYS`: degraded).

The model lives in a `serving.model_holder.ModelHolder` (`app.state.model_holder`;
`app.state.model` reads its current model): loaded when the app is created from
`settings.model_uri` (default `models:/amanah-pd@champion`) in the MLflow store of
`AMANAH_MLFLOW_TRACKING_URI`, else from the last good copy in the model cache (readiness
degraded), and swapped for a new champion by `POST /v1/admin/model:reload` and by a check
every `AMANAH_MODEL_CHECK_SECONDS` (started by the lifespan). A test passes its own
`AmanahModel` as `create_app(settings, model=...)`; an `AMANAH_MODEL_URI` naming a local
artifact folder is served the same way, as given (nothing swaps it). With no model at all
the app still starts, `/readyz` reports the model check failed (503 unavailable) and
scoring answers 503
`model_unavailable`, never a default score. The current profiles come from
`AMANAH_FEATURES_DIR` (`serving.config.features_dir`); a folder without a build leaves
the app without profiles, and scoring answers 503 `profiles_unavailable`.

Around the routes: the request id (`serving.errors`), Prometheus metrics with `/metrics`
(`serving.metrics`, one registry per app and so per worker) and the body size limit
(`serving.body_limit`); rate and velocity limits are route dependencies (`serving.limits`).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from features.profile_store import ProfileStore, ProfileStoreError
from serving.api import api_router
from serving.audit import AuditEvent, append
from serving.body_limit import BodyLimitMiddleware
from serving.config import ApiSettings, features_dir, load_settings
from serving.console import UPLOADS
from serving.console import install as install_console
from serving.cpu_pinning import pin_worker
from serving.deps import document_bearer_keys
from serving.errors import add_problem_handlers
from serving.group_commit import GroupCommitter
from serving.limits import RateLimiter
from serving.log_redaction import install_access_log_redaction
from serving.metrics import Metrics, MetricsMiddleware, metrics_router
from serving.model_holder import ModelHolder, PeriodicCheck, ServingState, holder_for
from serving.scoring import STALE_PROFILE_DAYS
from serving.store import current_revision, database_url, make_engine, sessions, upgrade
from serving.store.database import require_store, unreachable

if TYPE_CHECKING:
    from models.artifact import AmanahModel

logger = logging.getLogger(__name__)

# a rebuilt features folder is served within this many seconds (`ProfileStore`)
PROFILES_RECHECK_SECONDS = 1.0

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


def check_model(holder: ModelHolder) -> Check:
    """Whether a model serves: failed without one, degraded from the cache or after a
    refused or failed reload (the full reason is logged and answered to the admin)."""
    status, detail = holder.health()
    return Check(status=status, detail=detail)


def check_audit(factory: sessionmaker[Session]) -> Check:
    """Whether a score could be audited: a probe entry appended (the chain's lock taken,
    its head read, a row inserted) in a transaction that is rolled back."""
    try:
        with factory() as session:
            append(session, AuditEvent(actor="readyz", action="readiness.probe", subject="-"))
            session.rollback()
    except SQLAlchemyError as exc:
        logger.warning("readiness: the audit chain cannot be appended to: %s",
                       type(exc).__name__)  # fmt: skip
        return Check(status="failed", detail="the audit chain cannot be appended to")
    return Check(status="ok")


def check_profiles(profiles: ProfileStore | None, today: date) -> Check:
    """Failed without profiles; degraded when their as-of day is more than
    `STALE_PROFILE_DAYS` before `today` (every score is flagged stale then)."""
    if profiles is None:
        return Check(status="failed", detail="no member profiles: scoring answers 503")
    age = (today - profiles.as_of).days
    if age > STALE_PROFILE_DAYS:
        said = f"profiles as of {profiles.as_of.isoformat()}: {age} days old"
        return Check(status="degraded", detail=said)
    return Check(status="ok")


def load_profiles(settings: ApiSettings) -> ProfileStore | None:
    """The current profiles of `features_dir(settings)`, or None (logged) without a build."""
    try:
        return ProfileStore(features_dir(settings), recheck_seconds=PROFILES_RECHECK_SECONDS)
    except ProfileStoreError as exc:
        logger.warning("no member profiles: %s", exc)
        return None


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


def settle_heap(_model: object = None) -> None:
    """Keep what the service holds for its life (model, profiles, app) out of the cyclic
    garbage collector's full passes (`gc.freeze`); after a model swap, collect once first
    so the old model's cycles are freed. Why: a full pass walked all of it, 131-145 ms
    each in a wrk run (2 in 14 s, measured by `gc.callbacks`, one worker), stopping every
    request in flight: at 200 requests/s that alone is more than 1% of answers late by
    over 100 ms; frozen, the passes took 2.5-2.7 ms (the first after start, over what the
    first requests loaded, 120 ms once). Objects frozen are still freed by reference
    counting; a swap pays one full pass, and the app's end unfreezes."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


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
        cpu = pin_worker()  # `amanah serve` only: a CPU of its own (`serving.cpu_pinning`)
        if cpu is not None:
            logger.info("worker %d pinned to CPU %d", os.getpid(), cpu)
        # a committer of this run: one closed by an earlier run's shutdown refuses writes
        _app.state.committer = GroupCommitter(engine)
        check = PeriodicCheck(_app.state.model_holder, chosen.model_check_seconds)
        check.start()
        gc.freeze()  # the model, profiles and app as loaded: see `settle_heap`
        try:
            yield
        finally:
            check.stop()
            _app.state.committer.close()  # scores after this are refused
            engine.dispose()
            gc.unfreeze()  # what the app held is collectable again

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
    app.state.committer = GroupCommitter(engine)  # the writes of `POST /v1/scores`
    app.state.profiles = load_profiles(chosen)  # before the model: its checks read them
    app.state = ServingState(app.state, holder_for(chosen, model, lambda: app.state.profiles))
    app.state.rate_limiter = RateLimiter.from_settings(chosen)
    app.state.metrics = Metrics()
    app.state.metrics.set_model(getattr(app.state, "model", None))
    app.state.model_holder.on_swap.append(app.state.metrics.set_model)  # hot swaps too
    app.state.model_holder.on_swap.append(settle_heap)
    app.add_middleware(BodyLimitMiddleware, max_bytes=chosen.max_body_bytes, larger=UPLOADS)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    add_problem_handlers(app)  # added last: the request id is the outermost middleware
    app.include_router(api_router)
    document_bearer_keys(app)
    app.include_router(metrics_router)
    install_console(app)
    install_access_log_redaction()  # console paths name members

    @app.get("/healthz", tags=["probes"])
    def healthz() -> Health:
        """The process answers (liveness)."""
        return Health()

    @app.get("/readyz", tags=["probes"], responses={503: {"model": Readiness}})
    def readyz(request: Request, engine: EngineDep, response: Response) -> Readiness:
        """Whether the service can serve: 200 ready or degraded, 503 unavailable."""
        state = request.app.state
        ready = readiness({
            "database": check_database(engine), "audit": check_audit(state.sessions),
            "model": check_model(state.model_holder),
            "profiles": check_profiles(state.profiles, datetime.now(UTC).date()),
        })  # fmt: skip
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
