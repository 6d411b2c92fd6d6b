"""The request body limit: 413 `body_too_large` by Content-Length or while a chunked body
is read (reading stops there), and a body at the limit reaches the app whole. The 413s
through the whole app on SQLite with a 2 KiB limit (no model needed); what passes through
the middleware in front of a route that echoes what it read."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.body_limit import BodyLimitMiddleware, declared_length
from serving.config import load_settings
from serving.errors import PROBLEM_JSON, add_problem_handlers
from serving.store import repo
from tests.conftest import PII_KEY

LIMIT = 2048
CHUNK = 256


@dataclass(frozen=True)
class World:
    client: TestClient
    headers: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("body")
    settings = load_settings(
        database_url=f"sqlite:///{tmp / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=tmp / "no-features", max_body_bytes=LIMIT,
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
    )  # fmt: skip
    app = create_app(settings)
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Fintech A", actor="test-admin")
        key = repo.create_key(session, partner, ["scores:write"], actor="test-admin")[1]
        session.commit()
    return World(TestClient(app), {"Authorization": f"Bearer {key}", **_json()})


@pytest.fixture(scope="module")
def echo() -> TestClient:
    """The middleware alone, in front of a route that answers what it read."""
    app = FastAPI()
    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT)
    add_problem_handlers(app)

    @app.post("/echo")
    async def echo_body(request: Request) -> dict[str, int]:
        body = await request.body()
        return {"bytes": len(body), "amount": json.loads(body)["loan"]["amount"]}

    return TestClient(app)


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _body(size: int) -> bytes:
    """A valid score request padded with JSON whitespace to exactly `size` bytes."""
    body = json.dumps(
        {
            "member": {"cooperative_id": "KMP-0001", "member_number": "A00001"},
            "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
        }
    ).encode()
    assert len(body) <= size
    return body[:-1] + b" " * (size - len(body)) + b"}"


def _too_large(response: Any) -> dict[str, Any]:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["code"] == "body_too_large" and problem["status"] == 413
    assert problem["max_bytes"] == LIMIT
    assert str(LIMIT) in problem["detail"] and str(LIMIT) in problem["detail_id"]
    assert problem["request_id"] == response.headers["x-request-id"]
    return problem


def test_a_body_at_the_limit_reaches_the_app_whole(echo: TestClient) -> None:
    body = _body(LIMIT)
    assert len(body) == LIMIT
    response = echo.post("/echo", content=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"bytes": LIMIT, "amount": 5_000_000}


def test_content_length_over_the_limit_is_413(world: World) -> None:
    response = world.client.post("/v1/scores", content=_body(LIMIT + 1), headers=world.headers)
    _too_large(response)
    # before authentication: no key is needed to be refused
    _too_large(world.client.post("/v1/scores", content=_body(LIMIT * 4), headers=_json()))


def _chunks(body: bytes, pulled: list[int]) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK):
        pulled.append(start)
        yield body[start : start + CHUNK]


def test_a_chunked_body_over_the_limit_is_413(world: World) -> None:
    response = world.client.post(
        "/v1/scores", content=_chunks(_body(LIMIT * 8), []), headers=world.headers
    )
    assert "content-length" not in response.request.headers  # sent chunked
    _too_large(response)


def _asgi_post(app: Any, chunks: list[bytes]) -> tuple[int, dict[str, Any], int]:
    """POST `chunks` as a chunked body straight into `app`: (status, JSON body, how many
    chunks the app pulled)."""
    pending = list(chunks)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if not pending:
            return {"type": "http.disconnect"}
        pulled += 1
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/echo", "raw_path": b"/echo", "root_path": "",
        "query_string": b"", "headers": [(b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), pulled


def test_reading_stops_at_the_chunk_that_crosses_the_limit(echo: TestClient) -> None:
    body = _body(LIMIT * 8)
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    status, problem, pulled = _asgi_post(echo.app, chunks)
    assert status == 413 and problem["code"] == "body_too_large"
    assert pulled == LIMIT // CHUNK + 1 < len(chunks)  # the crossing chunk is the last read
    whole = _body(LIMIT)
    status, answer, pulled = _asgi_post(echo.app, [whole[:CHUNK], whole[CHUNK:]])
    assert status == 200 and answer["bytes"] == LIMIT and pulled == 2


def test_a_chunked_body_under_the_limit_reaches_the_app_whole(echo: TestClient) -> None:
    pulled: list[int] = []
    response = echo.post("/echo", content=_chunks(_body(LIMIT), pulled))
    assert response.status_code == 200, response.text
    assert response.json() == {"bytes": LIMIT, "amount": 5_000_000}
    assert len(pulled) == LIMIT // CHUNK
    # and the same app refuses one byte more, chunked or not
    _too_large(echo.post("/echo", content=_chunks(_body(LIMIT + 1), [])))
    _too_large(echo.post("/echo", content=_body(LIMIT + 1)))


def test_declared_length_reads_only_a_plain_number() -> None:
    assert declared_length({"headers": [(b"content-length", b"12")]}) == 12
    assert declared_length({"headers": [(b"content-length", b"-1")]}) is None
    assert declared_length({"headers": [(b"transfer-encoding", b"chunked")]}) is None


def test_other_routes_are_limited_too(world: World) -> None:
    response = world.client.post("/healthz", content=b"x" * (LIMIT + 1))
    _too_large(response)


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """`app` on a real uvicorn server in a thread of this process; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def test_a_real_server_cuts_a_chunked_body(echo: TestClient) -> None:
    with _served(echo.app) as base, httpx.Client(base_url=base, timeout=10) as client:
        under = client.post("/echo", content=_chunks(_body(LIMIT), []))
        assert under.status_code == 200 and under.json()["bytes"] == LIMIT
        assert under.request.headers["transfer-encoding"] == "chunked"
        over = client.post("/echo", content=_chunks(_body(LIMIT * 4), []))
        assert over.status_code == 413 and over.json()["code"] == "body_too_large"
        assert over.headers["x-request-id"] == over.json()["request_id"]
