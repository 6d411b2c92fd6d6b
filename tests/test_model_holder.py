"""The model in service: loading without process-wide MLflow state, the champion swapped in
by a reload or the periodic check, refused versions, the last good copy when the registry
is unreachable, none at all, and hot swaps under concurrent scoring on a real server.

One MLflow SQLite store per module holds the session's trained model logged once and
registered twice (versions 1 and 2) and a version 3 whose artifact names a feature the
profiles lack."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import mlflow
import pyarrow.parquet as pq
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from features.application import REQUEST_FEATURES, SALES_INDEX_COLUMNS
from features.catalog import CATALOG
from features.profile_store import PROFILES, ProfileStore
from models.registry import (
    CHAMPION,
    MODEL_NAME,
    download_version,
    load,
    log_training,
    resolve_version,
    signature_inputs,
)
from serving.app import create_app
from serving.config import ApiSettings, load_settings
from serving.model_holder import POINTER, ModelHolder, refusal, serving_inputs
from serving.security import member_ref_from_number
from serving.store import repo
from tests.conftest import PII_KEY
from tests.helpers import free_port

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
PURPOSE = "credit_scoring"


@dataclass(frozen=True)
class Registry:
    uri: str
    store: Path  # the SQLite file
    renamed: str  # the feature version 3 names instead of one the profiles hold
    original: str


def _rename(value: Any, old: str, new: str) -> Any:
    """`value` with every string (and key) equal to `old` replaced by `new`."""
    if isinstance(value, dict):
        return {_rename(k, old, new): _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    return new if value == old else value


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory, trained: TrainingResult, medium_features: Path
) -> Registry:
    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    logged = log_training(trained, source="test", uri=uri)  # version 1
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    # version 2: the same logged model's files registered again (logging twice costs
    # seconds; by its models:/ URI the registry would look the model up process-wide)
    logged_model = client.get_logged_model(str(logged["model_uri"]).removeprefix("models:/"))
    client.create_model_version(MODEL_NAME, source=logged_model.artifact_location,
                                run_id=logged["run_id"])  # fmt: skip
    # version 3: version 1's pyfunc with one numeric profile feature renamed throughout
    columns = serving_inputs(ProfileStore(medium_features)) or frozenset()
    model = trained.model
    original = next(
        f for f in model.features
        if f not in model.categories and f not in REQUEST_FEATURES and f in columns
    )  # fmt: skip
    renamed = f"{original}_not_profiled"
    edited = root / "edited"
    artifact = download_version(MODEL_NAME, "1", uri, edited)
    spec = json.loads((artifact / "model.json").read_text("utf-8"))
    (artifact / "model.json").write_text(json.dumps(_rename(spec, original, renamed)), "utf-8")
    mlmodel = artifact.parent.parent / "MLmodel"
    mlmodel.write_text(mlmodel.read_text("utf-8").replace(f'"{original}"', f'"{renamed}"'))
    client.create_model_version(MODEL_NAME, source=artifact.parent.parent.as_uri())
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, "1")
    return Registry(uri, root / "mlflow.db", renamed, original)


def _champion(registry: Registry, version: str) -> None:
    MlflowClient(tracking_uri=registry.uri, registry_uri=registry.uri).set_registered_model_alias(
        MODEL_NAME, CHAMPION, version
    )


@contextmanager
def _unreachable(registry: Registry) -> Iterator[None]:
    """The registry's store gone for the block (moved away, then back)."""
    away = registry.store.with_suffix(".away")
    registry.store.rename(away)
    try:
        yield
    finally:
        away.rename(registry.store)


def _holder(registry: Registry, cache: Path, features: Path | None = None) -> ModelHolder:
    profiles = ProfileStore(features) if features is not None else None
    return ModelHolder(f"models:/{MODEL_NAME}@{CHAMPION}", registry.uri, cache, lambda: profiles)


# ------------------------------------------------------------------ the registry client
def test_a_load_leaves_mlflow_process_wide_state_alone(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", elsewhere)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", elsewhere)
    before = mlflow.get_tracking_uri()
    _champion(registry, "1")
    # the process-wide URIs name another (missing) store: a load reading them would fail
    assert load(f"models:/{MODEL_NAME}@{CHAMPION}", registry.uri).identity()["version"] == "1"
    assert resolve_version(f"models:/{MODEL_NAME}/2", registry.uri) == (MODEL_NAME, "2", None)
    assert mlflow.get_tracking_uri() == before
    assert os.environ["MLFLOW_TRACKING_URI"] == elsewhere
    assert os.environ["MLFLOW_REGISTRY_URI"] == elsewhere
    assert not (tmp_path / "elsewhere").exists()


def test_a_plain_artifact_folder_still_loads(
    registry: Registry, tmp_path: Path, trained: TrainingResult
) -> None:
    trained.model.save(tmp_path / "model")
    assert load(str(tmp_path / "model")).features == trained.model.features
    # and a downloaded pyfunc folder declares the model's inputs in its signature
    artifact = download_version(MODEL_NAME, "2", registry.uri, tmp_path / "pyfunc")
    declared = signature_inputs(artifact)
    assert declared is not None and sorted(n for n, _ in declared) == sorted(trained.model.features)
    # read as MLflow's type names ("string", "double"), so the check accepts its own version
    # (read as "DataType.string" once, the server refused every registered version)
    assert not any("." in kind for _, kind in declared), declared
    assert refusal(trained.model, set(trained.model.features), signature=declared) is None


# ------------------------------------------------------------------ the checks (pure)
def test_refusal_names_what_the_serving_path_cannot_give(trained: TrainingResult) -> None:
    model = trained.model
    everything = set(model.features)
    assert refusal(model, everything) is None
    assert refusal(model, None) is None  # no profiles: nothing to compare with
    lacking = sorted(everything)[0]
    assert lacking in str(refusal(model, everything - {lacking}))
    numeric = next(f for f in model.features if f not in model.categories)
    flipped = [replace(f, dtype="category") if f.name == numeric else f for f in CATALOG]
    assert numeric in str(refusal(model, everything, catalog=flipped))
    signature = [(f, "string" if f in model.categories else "double") for f in model.features]
    assert refusal(model, everything, signature=signature) is None
    assert "signature" in str(refusal(model, everything, signature=signature[1:]))
    retyped = [(n, "string") if n == numeric else (n, t) for n, t in signature]
    assert numeric in str(refusal(model, everything, signature=retyped))


def test_profiles_built_before_the_sales_index_cannot_serve_a_model_reading_it(
    trained: TrainingResult, medium_features: Path, tmp_path: Path
) -> None:
    """A profile store without the calendar-month sales index would give every member a
    missing `term_sales_index`: a model that uses it is refused on it, named."""
    assert "term_sales_index" in trained.model.features
    assert refusal(trained.model, serving_inputs(ProfileStore(medium_features))) is None
    old = tmp_path / "features"
    shutil.copytree(medium_features, old)
    for part in (old / PROFILES).glob("*.parquet"):
        table = pq.read_table(part)
        pq.write_table(table.drop_columns(list(SALES_INDEX_COLUMNS)), part)
    reason = refusal(trained.model, serving_inputs(ProfileStore(old)))
    assert reason is not None and "term_sales_index" in reason


# ------------------------------------------------------------------ reloads
def test_the_champion_is_swapped_in_and_kept_as_the_last_good_copy(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    _champion(registry, "1")
    holder = _holder(registry, tmp_path / "cache", medium_features)
    first = holder.start()
    assert first is not None and (first.version, first.source) == ("1", "registry")
    assert holder.health() == ("ok", "")
    unchanged = holder.reload()
    assert not unchanged.swapped and unchanged.refused_reason is None
    assert holder.current() is first  # the same snapshot: nothing was downloaded again
    _champion(registry, "2")
    outcome = holder.reload()
    assert outcome.swapped and outcome.previous is first
    assert outcome.current is holder.current() and outcome.current is not None
    assert (outcome.current.version, outcome.current.alias) == ("2", CHAMPION)
    assert outcome.current.model.identity()["version"] == "2"
    assert first.model.identity()["version"] == "1"  # a request holding v1 keeps v1
    pointer = json.loads((tmp_path / "cache" / POINTER).read_text("utf-8"))
    assert (pointer["name"], pointer["version"], pointer["alias"]) == (MODEL_NAME, "2", CHAMPION)
    kept = [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert kept == [pointer["folder"]]  # one copy, no download left behind
    assert registry.uri not in (tmp_path / "cache" / POINTER).read_text("utf-8")


def test_a_version_whose_features_the_profiles_lack_is_refused(
    registry: Registry, tmp_path: Path, medium_features: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _champion(registry, "1")
    holder = _holder(registry, tmp_path / "cache", medium_features)
    serving = holder.start()
    assert serving is not None and serving.version == "1"
    _champion(registry, "3")
    try:
        with caplog.at_level("WARNING", logger="serving.model_holder"):
            refused = holder.reload()
        assert not refused.swapped and refused.current is serving
        assert holder.current() is serving  # version 1 keeps serving
        assert refused.refused_reason is not None
        assert "version 3" in refused.refused_reason and registry.renamed in refused.refused_reason
        assert any(registry.renamed in r.getMessage() for r in caplog.records)
        status, detail = holder.health()
        assert status == "degraded" and "version 3 was refused" in detail
        assert "version 1 keeps serving" in detail
        pointer = json.loads((tmp_path / "cache" / POINTER).read_text("utf-8"))
        assert pointer["version"] == "1"  # the refused version is never the last good copy
        # asked again, the answer is remembered (no second download)
        assert holder.reload().refused_reason == refused.refused_reason
        assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".incoming")]
    finally:
        _champion(registry, "1")
    # without profiles the features cannot be compared, but the signature still is
    assert refusal(load(f"models:/{MODEL_NAME}/3", registry.uri), None) is None


def test_start_from_the_cached_copy_when_the_registry_is_unreachable(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    cache = tmp_path / "cache"
    _champion(registry, "2")
    try:
        assert _holder(registry, cache, medium_features).start() is not None
    finally:
        _champion(registry, "1")
    with _unreachable(registry):
        holder = _holder(registry, cache, medium_features)
        started = holder.start()
        assert started is not None and (started.version, started.source) == ("2", "cache")
        assert started.model.identity()["version"] == "2"
        status, detail = holder.health()
        assert status == "degraded" and "cached copy of version 2" in detail
        assert str(registry.store) not in detail  # where the store lives is logged only
        failed = holder.reload()
        assert not failed.swapped and "registry gave no version" in str(failed.refused_reason)
        assert holder.current() is started
    # the registry is back: its champion (version 1) replaces the cached copy
    back = holder.reload()
    assert back.swapped and back.current is not None
    assert (back.current.version, back.current.source) == ("1", "registry")
    assert holder.health() == ("ok", "")
    # a copy taken from another registry is not this one's
    other = ModelHolder(f"models:/{MODEL_NAME}@{CHAMPION}", f"sqlite:///{tmp_path / 'x.db'}",
                        cache)  # fmt: skip
    assert other.start() is None and other.health()[0] == "failed"


# ------------------------------------------------------------------ the app
@dataclass(frozen=True)
class World:
    app: FastAPI
    keys: dict[str, str]
    member: tuple[str, str]


def _settings(tmp: Path, registry: Registry, features: Path, **extra: Any) -> ApiSettings:
    chosen: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp / 'amanah.db'}", "environment": "development",
        "pii_key": PII_KEY.decode(), "features_dir": features,
        "mlflow_tracking_uri": registry.uri, "model_cache_dir": tmp / "cache",
        "model_check_seconds": 0,
    }  # fmt: skip
    return load_settings(**{**chosen, **extra})


def _world(app: FastAPI, features: Path) -> World:
    """A partner with a scoring key, an admin key and a read-only key, granted one
    cooperative, with a consent for one of its members."""
    store = ProfileStore(features)
    member_id = store.members()[0]
    coop, _, number = member_id.rpartition("-")
    now = datetime.now(UTC)
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Fintech A", actor=ADMIN)
        keys = {
            "score": repo.create_key(session, partner, ["scores:write"], actor=ADMIN)[1],
            "admin": repo.create_key(session, partner, ["admin"], actor=ADMIN)[1],
        }
        repo.grant(session, partner, coop, actor=ADMIN)
        ref = member_ref_from_number(coop, number, PII_KEY).ref
        repo.give_consent(session, partner, ref, coop, PURPOSE, now + timedelta(days=30),
                          actor=ADMIN, at=now - timedelta(seconds=1))  # fmt: skip
        session.commit()
    return World(app, keys, (coop, number))


def _score_body(world: World) -> dict[str, Any]:
    coop, number = world.member
    return {
        "member": {"cooperative_id": coop, "member_number": number},
        "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
    }


def _bearer(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.keys[who]}"}


def test_no_registry_and_no_cache_is_no_model_and_503(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    with _unreachable(registry):
        app = create_app(_settings(tmp_path, registry, medium_features))
    world = _world(app, medium_features)
    client = TestClient(app)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["model"]["status"] == "failed"
    scored = client.post("/v1/scores", json=_score_body(world), headers=_bearer(world, "score"))
    assert scored.status_code == 503 and scored.json()["code"] == "model_unavailable"
    assert "pd" not in scored.json()
    card = client.get("/v1/model", headers=_bearer(world, "score"))
    assert card.status_code == 503 and card.json()["code"] == "model_unavailable"


def test_the_app_starts_from_the_cache_degraded_then_recovers_by_reload(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    _champion(registry, "1")
    settings = _settings(tmp_path, registry, medium_features)
    create_app(settings)  # leaves version 1 in the cache
    with _unreachable(registry):
        app = create_app(_settings(tmp_path / "second", registry, medium_features,
                                   model_cache_dir=tmp_path / "cache"))  # fmt: skip
    world = _world(app, medium_features)
    client = TestClient(app)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["model"]["status"] == "degraded"
    scored = client.post("/v1/scores", json=_score_body(world), headers=_bearer(world, "score"))
    assert scored.status_code == 201 and scored.json()["model"]["version"] == "1"
    card = client.get("/v1/model", headers=_bearer(world, "score")).json()
    assert (card["version"], card["source"]) == ("1", "cache")
    answer = client.post("/v1/admin/model:reload", headers=_bearer(world, "admin"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["previous"]["source"] == "cache" and body["current"]["source"] == "registry"
    assert body["refused_reason"] is None
    assert client.get("/readyz").json()["checks"]["model"]["status"] == "ok"


def test_the_periodic_check_swaps_in_a_new_champion(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    _champion(registry, "1")
    app = create_app(_settings(tmp_path, registry, medium_features, model_check_seconds=0.2))
    assert app.state.model_holder.current().version == "1"
    try:
        with TestClient(app):  # the lifespan starts the check, and stops it on leaving
            _champion(registry, "2")
            deadline = time.monotonic() + 30
            while app.state.model_holder.current().version != "2":
                assert time.monotonic() < deadline, "the periodic check did not swap"
                time.sleep(0.1)
        assert not [t for t in threading.enumerate() if t.name == "amanah-model-check"]
    finally:
        _champion(registry, "1")


def test_a_given_model_is_never_replaced_from_the_registry(
    registry: Registry, tmp_path: Path, medium_features: Path, trained: TrainingResult
) -> None:
    app = create_app(_settings(tmp_path, registry, medium_features), trained.model)
    snapshot = app.state.model_holder.current()
    assert snapshot.source == "given" and app.state.model is trained.model
    outcome = app.state.model_holder.reload()
    assert not outcome.swapped and "given" in str(outcome.refused_reason)
    assert app.state.model_holder.current() is snapshot
    assert not (tmp_path / "cache").exists()  # nothing was asked of the registry


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    """`app` on a real uvicorn server in this process (a thread), its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def test_hot_swaps_under_concurrent_scoring_fail_no_request(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    _champion(registry, "1")
    # one member scored many times over: no rate or per-member limit here
    unlimited = {"rate_limit_per_minute": 0, "member_scores_per_day": 0}
    app = create_app(_settings(tmp_path, registry, medium_features, **unlimited))
    world = _world(app, medium_features)
    answers: list[tuple[int, str | None]] = []
    done = threading.Event()

    def score() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while not done.is_set():
                got = client.post("/v1/scores", json=_score_body(world),
                                  headers=_bearer(world, "score"))  # fmt: skip
                version = got.json().get("model", {}).get("version") if got.is_success else None
                answers.append((got.status_code, version))

    outcomes = []
    try:
        with _served(app) as base, httpx.Client(base_url=base, timeout=60) as admin:
            workers = [threading.Thread(target=score) for _ in range(4)]
            for worker in workers:
                worker.start()
            for version in ("2", "1", "2", "1"):
                time.sleep(0.3)
                _champion(registry, version)
                answer = admin.post("/v1/admin/model:reload", headers=_bearer(world, "admin"))
                assert answer.status_code == 200, answer.text
                outcomes.append(answer.json())
            time.sleep(0.3)
            done.set()
            for worker in workers:
                worker.join(60)
    finally:
        done.set()
        _champion(registry, "1")
    assert [(o["swapped"], o["current"]["version"]) for o in outcomes] == [
        (True, "2"), (True, "1"), (True, "2"), (True, "1"),
    ]  # fmt: skip
    statuses = {status for status, _ in answers}
    assert statuses == {201}, [a for a in answers if a[0] != 201][:5]
    assert {version for _, version in answers} == {"1", "2"}
    assert len(answers) >= 20


def test_the_admin_reload_needs_the_admin_scope(
    registry: Registry, tmp_path: Path, medium_features: Path
) -> None:
    _champion(registry, "1")
    app = create_app(_settings(tmp_path, registry, medium_features))
    world = _world(app, medium_features)
    client = TestClient(app)
    assert client.post("/v1/admin/model:reload").status_code == 401
    wrong = client.post("/v1/admin/model:reload", headers=_bearer(world, "score"))
    assert wrong.status_code == 403 and wrong.json()["code"] == "forbidden_scope"
    same = client.post("/v1/admin/model:reload", headers=_bearer(world, "admin")).json()
    assert same["swapped"] is False and same["previous"] == same["current"]
    assert same["current"]["version"] == "1"


def test_a_cache_folder_that_is_not_there_is_made_on_first_use(
    registry: Registry, tmp_path: Path
) -> None:
    _champion(registry, "1")
    cache = tmp_path / "deep" / "cache"
    assert _holder(registry, cache).start() is not None
    assert (cache / POINTER).is_file()
