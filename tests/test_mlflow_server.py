"""Train, register, promote, load, serve and monitor against a real MLflow tracking server: a
`mlflow server` process started here on loopback, with its backend store in a PostgreSQL
database of this module and its artifacts in a temporary folder (docs/mlflow-server.md)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from sqlalchemy import create_engine, text

from features.settings import get_settings
from models.registry import CHAMPION, MODEL_NAME, load, promote, tracking_uri
from models.workflow import train_and_register
from serving.app import create_app
from serving.config import load_settings
from serving.monitor import run as run_monitor
from serving.store import repo
from tests.conftest import PII_KEY
from tests.helpers import free_port

ROUNDS = 60
START_SECONDS = 60


@dataclass(frozen=True)
class Server:
    url: str
    database: str
    artifacts: Path


@pytest.fixture(scope="module")
def server(postgres_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `mlflow server` on a free loopback port, stopped (and its log shown) after."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    artifacts, log = folder / "artifacts", folder / "server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", postgres_database,
        "--serve-artifacts", "--artifacts-destination", str(artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow server exited ({process.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer /health:\n{log.read_text()}")
            time.sleep(0.5)
        yield Server(url, postgres_database, artifacts)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log.read_text(errors="replace")[-4000:])  # shown by pytest when a test fails


@pytest.fixture
def on_server(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """AMANAH_MLFLOW_TRACKING_URI points at the server (settings are read once: cache
    cleared before and after)."""
    monkeypatch.setenv("AMANAH_MLFLOW_TRACKING_URI", server.url)
    get_settings.cache_clear()
    yield server
    get_settings.cache_clear()


def test_train_register_promote_load_serve_and_monitor_through_a_tracking_server(
    on_server: Server, medium_features: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tracking_uri() == on_server.url
    trained = train_and_register(
        medium_features, held_out=False, max_rounds=ROUNDS, family="lightgbm"
    )
    assert trained.version == "1" and trained.run_id
    decision = promote(force=True, reason="test of the tracking server")
    assert decision["promoted"], decision

    # the run, the version and its alias live on the server
    client = MlflowClient(tracking_uri=on_server.url, registry_uri=on_server.url)
    assert client.get_run(trained.run_id).info.status == "FINISHED"
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version) == "1"
    engine = create_engine(on_server.database)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM registered_models")).scalars()
            assert list(names) == [MODEL_NAME]
            runs = connection.execute(text("SELECT run_uuid FROM runs")).scalars()
            assert trained.run_id in set(runs)
            aliases = connection.execute(
                text("SELECT alias, version FROM registered_model_aliases")
            ).all()
            assert (CHAMPION, 1) in {(a, int(v)) for a, v in aliases}
    finally:
        engine.dispose()
    stored = {p.name for p in on_server.artifacts.rglob("*") if p.is_file()}
    assert {"MLmodel", "model.json", "report.json", "test_period.parquet"} <= stored

    # loading and scoring from the registry
    model = load(f"models:/{MODEL_NAME}@{CHAMPION}")
    assert model.identity()["version"] == "1"
    rows = trained.result.test.head(3)
    assert model.predict(rows)["pd"].between(0, 1).all()

    # the API loads the champion from the server
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features, model_check_seconds=0,
        model_cache_dir=tmp_path / "cache",
    )  # fmt: skip
    assert settings.mlflow_tracking_uri == on_server.url
    app = create_app(settings)
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Bank B", actor="test-admin")
        key = repo.create_key(session, partner, ["scores:read"], actor="test-admin")[1]
        session.commit()
    with TestClient(app) as api:
        card = api.get("/v1/model", headers={"Authorization": f"Bearer {key}"})
    assert card.status_code == 200, card.text
    assert card.json()["version"] == "1"

    # monitoring reads the reference from the server and logs its figures there
    monkeypatch.setenv("AMANAH_DATABASE_URL", f"sqlite:///{tmp_path / 'no-store.db'}")
    get_settings.cache_clear()
    watched = run_monitor(
        medium_features, f"models:/{MODEL_NAME}@{CHAMPION}", tmp_path / "monitoring.html"
    )
    assert watched.run_id == trained.run_id and watched.recent_rows > 0
    logged = client.get_run(trained.run_id).data.metrics
    assert logged["monitor_recent_rows"] == watched.recent_rows
    assert "monitoring.html" in {p.name for p in on_server.artifacts.rglob("*")}
