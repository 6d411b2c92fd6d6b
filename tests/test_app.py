"""The app skeleton: probes, problem details for every error, settings, the real server."""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from serving.app import Check, create_app, readiness, settle_heap
from serving.config import DEFAULT_MODEL_URI, ApiSettings, SettingsError, load_settings
from serving.deps import BEARER_SCHEME, bearer_key
from serving.errors import PROBLEM_JSON, DomainError
from serving.store import StoreError, current_revision, make_engine
from serving.store.database import head_revision
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}


def _settings(tmp_path: Path, **overrides: object) -> ApiSettings:
    # no MLflow store: the app starts without a model and never reads the project's store
    chosen: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'amanah.db'}", "environment": "development",
        "mlflow_tracking_uri": f"sqlite:///{tmp_path / 'no-mlflow' / 'mlflow.db'}",
    }  # fmt: skip
    return load_settings(**{**chosen, **overrides})


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(_settings(tmp_path))


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def _assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM_JSON  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status and body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    return body


def test_create_app_migrates_an_empty_database(tmp_path: Path, app: FastAPI) -> None:
    assert current_revision(f"sqlite:///{tmp_path / 'amanah.db'}") == head_revision()
    assert app.state.settings.model_uri == DEFAULT_MODEL_URI


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


def test_readyz_unavailable_without_a_model(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["model"]["status"] == "failed"


def test_readyz_503_when_the_database_stops_answering(tmp_path: Path, app: FastAPI) -> None:
    app.state.engine.dispose()
    app.state.engine = make_engine(f"sqlite:///{tmp_path / 'gone' / 'missing.db'}")
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "failed"
    assert "gone" not in response.text  # where the database lives is logged, not answered


def test_the_served_heap_is_frozen_while_the_app_runs(app: FastAPI) -> None:
    """What the app holds is kept out of the collector's full passes while it serves
    (`settle_heap`), given back at its end, and settled again after a model swap."""
    with TestClient(app):
        assert gc.get_freeze_count() > 0
        assert settle_heap in app.state.model_holder.on_swap
        settle_heap()
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_readiness_rule() -> None:
    ok, pending = Check(status="ok"), Check(status="pending")
    assert readiness({"a": ok, "b": pending}).status == "ready"
    assert readiness({"a": ok, "b": Check(status="degraded")}).status == "degraded"
    assert readiness({"a": Check(status="failed"), "b": Check(status="degraded")}).status == (
        "unavailable"
    )


def test_a_bad_database_url_fails_at_creation(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        create_app(_settings(tmp_path, database_url="nosuchdb://somewhere/x"))


def test_request_id_is_echoed_when_plain(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = _assert_problem(client.get("/no/such/route"), 404, "not_found")
    assert body["type"] == "urn:amanah:problem:not_found"
    assert body["detail_id"]


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.post("/healthz")
    _assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


class _Loan(BaseModel):
    amount: int
    tenor_months: int


class _RefusedError(DomainError):
    status = 409
    code = "test_refused"
    title = "Refused"


def _test_router() -> APIRouter:
    router = APIRouter(prefix="/_test")

    @router.post("/loan")
    def loan(body: _Loan, limit: int = 10) -> dict[str, int]:
        return {"amount": body.amount}

    @router.get("/refused")
    def refused() -> None:
        raise _RefusedError("the thing was refused", "hal itu ditolak")

    @router.post("/boom")
    def boom() -> None:
        raise RuntimeError("boom in the middle of scoring")

    return router


def test_validation_error_names_each_field_and_its_location(
    app: FastAPI, client: TestClient
) -> None:
    app.include_router(_test_router())
    nik = "3201010101010001"
    response = client.post("/_test/loan?limit=many", json={"amount": nik + "x"})
    body = _assert_problem(response, 422, "validation_error")
    where = {(e["location"], e["field"]) for e in body["errors"]}  # type: ignore[attr-defined]
    assert where == {("body", "amount"), ("body", "tenor_months"), ("query", "limit")}
    assert "body.tenor_months" in str(body["detail"]) and "query.limit" in str(body["detail_id"])
    assert nik not in response.text  # the value sent is never echoed


def test_domain_error_carries_its_status_and_both_languages(
    app: FastAPI, client: TestClient
) -> None:
    app.include_router(_test_router())
    body = _assert_problem(client.get("/_test/refused"), 409, "test_refused")
    assert body["detail"] == "the thing was refused"
    assert body["detail_id"] == "hal itu ditolak"


def test_unexpected_error_is_a_500_problem_without_a_trace(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.include_router(_test_router())
    secret_body = {"nik": "3201010101010001"}
    with caplog.at_level(logging.ERROR, logger="serving.errors"):
        response = client.post("/_test/boom", json=secret_body)
    body = _assert_problem(response, 500, "internal_error")
    assert "Traceback" not in response.text and "boom" not in response.text
    logged = [r for r in caplog.records if r.name == "serving.errors"]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert str(body["request_id"]) in logged[0].getMessage()
    assert "3201010101010001" not in caplog.text


def test_openapi_is_3_1_and_docs_are_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert client.get("/docs").status_code == 200


def test_openapi_declares_the_bearer_key_on_every_v1_operation(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"][BEARER_SCHEME] == {
        "type": "http", "scheme": "bearer", "description": "An Amanah API key: amk_live_...",
    }  # fmt: skip
    keyed = {p: ops for p, ops in schema["paths"].items() if p.startswith("/v1/")}
    assert "/v1/scores" in keyed and "/v1/consents" in keyed
    for operations in keyed.values():
        for operation in operations.values():
            assert operation["security"] == [{BEARER_SCHEME: []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (None, None), ("", None), ("Bearer", None), ("Bearer   ", None),
        ("Basic amk_live_x", None), ("Bearer amk_live_x", "amk_live_x"),
        ("bearer amk_live_x ", "amk_live_x"), ("BEARER amk_live_x", "amk_live_x"),
    ],
)  # fmt: skip
def test_bearer_key_reads_only_a_bearer_authorization(header: str | None, key: str | None) -> None:
    headers = [] if header is None else [(b"authorization", header.encode())]
    assert bearer_key(Request({"type": "http", "headers": headers})) == key


@pytest.mark.parametrize("key", [None, "", "change-me", "CHANGE-ME-" + GOOD_KEY])
def test_production_refuses_a_missing_or_placeholder_pii_key(key: str | None) -> None:
    overrides: dict[str, object] = {"environment": "production", "pii_key": key}
    with pytest.raises(SettingsError, match="AMANAH_PII_KEY") as raised:
        load_settings(**overrides)
    assert "\n" not in str(raised.value)
    if key:
        assert key not in str(raised.value)


def test_production_accepts_a_real_key_and_development_needs_none() -> None:
    assert load_settings(environment="production", pii_key=GOOD_KEY).environment == "production"
    assert load_settings(environment="development", pii_key=None).pii_key is None


def test_settings_come_from_the_environment_when_the_app_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMANAH_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("AMANAH_ENVIRONMENT", "development")
    monkeypatch.setenv("AMANAH_MAX_BATCH_ITEMS", "250")
    app = create_app()
    assert app.state.settings.max_batch_items == 250
    assert (tmp_path / "env.db").exists()
    monkeypatch.setenv("AMANAH_MAX_BATCH_ITEMS", "0")
    with pytest.raises(SettingsError, match=r"^AMANAH_MAX_BATCH_ITEMS: "):
        create_app()


@pytest.mark.parametrize("pin", ["--pin", "--no-pin"])
def test_amanah_serve_runs_the_real_server(tmp_path: Path, pin: str) -> None:
    port = free_port()
    env = {**os.environ, "AMANAH_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
           "AMANAH_ENVIRONMENT": "development"}  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "serving.cli", "serve", "--port", str(port), pin],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                    assert json.load(answer) == {"status": "ok"}
                    break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"{base}/openapi.json", timeout=5) as answer:
            assert json.load(answer)["openapi"].startswith("3.1")
        if hasattr(os, "sched_getaffinity"):  # one worker: the serving process itself
            everywhere, served_on = os.sched_getaffinity(0), os.sched_getaffinity(server.pid)
            pinned = pin == "--pin" and len(everywhere) > 1
            assert len(served_on) == 1 if pinned else served_on == everywhere
    finally:
        server.terminate()
        code = server.wait(timeout=15)
        log.close()
    # uvicorn shuts down, then re-raises the signal it caught: -SIGTERM is a clean exit
    assert code in (0, -signal.SIGTERM), (tmp_path / "server.log").read_text()
    assert "Application shutdown complete" in (tmp_path / "server.log").read_text()
    assert (tmp_path / "served.db").exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--port", "0"], "--port"), (["--port", "http"], "--port"),
     (["--workers", "0"], "--workers"), (["--host", "no.such.host.invalid"], "--host")],
)  # fmt: skip
def test_serve_refuses_a_bad_address_in_one_line(args: list[str], named: str) -> None:
    from typer.testing import CliRunner

    from serving.cli import app as cli

    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], result.output
