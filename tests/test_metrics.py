"""`/metrics`: request counters and latency by route template, scores by grade and decision,
the serving model; no member, NIK or key in the exposition. One app on SQLite with the
session's trained model (conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from starlette.datastructures import State

from features.profile_store import ProfileStore
from serving.app import create_app
from serving.config import load_settings
from serving.metrics import UNMATCHED, Metrics, count_score, route_template
from serving.security import member_ref_from_number
from serving.store import repo
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
NIK = "3171012345678901"


@dataclass(frozen=True)
class World:
    app: FastAPI
    client: TestClient
    key: str
    prefix: str
    member: tuple[str, str]
    member_ref: str
    score: dict[str, Any]
    missing: str


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, trained: TrainingResult, medium_features: Path
) -> World:
    """The app after a few requests: a score created and read, one not found, a NIK, an
    unknown path."""
    tmp = tmp_path_factory.mktemp("metrics")
    settings = load_settings(
        database_url=f"sqlite:///{tmp / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features,
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
    )  # fmt: skip
    app = create_app(settings, trained.model)
    member_id = ProfileStore(medium_features).members()[0]
    coop, _, number = member_id.rpartition("-")
    ref = member_ref_from_number(coop, number, PII_KEY).ref
    now = datetime.now(UTC)
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Fintech A", actor=ADMIN)
        row, key = repo.create_key(session, partner, ["scores:write", "scores:read"], actor=ADMIN)
        repo.grant(session, partner, coop, actor=ADMIN)
        repo.give_consent(session, partner, ref, coop, "credit_scoring", now + timedelta(days=9),
                          actor=ADMIN, at=now - timedelta(seconds=1))  # fmt: skip
        session.commit()
        prefix = row.prefix
    client = TestClient(app)
    loan = {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"}
    body = {"member": {"cooperative_id": coop, "member_number": number}, "loan": loan}
    created = client.post("/v1/scores", json=body, headers=_headers(key))
    assert created.status_code == 201, created.text
    score = created.json()
    assert client.get(f"/v1/scores/{score['id']}", headers=_headers(key)).status_code == 200
    missing = "sc_" + "0" * 32
    assert client.get(f"/v1/scores/{missing}", headers=_headers(key)).status_code == 404
    by_nik = client.post("/v1/scores", json={"member": {"nik": NIK}, "loan": loan},
                         headers=_headers(key))  # fmt: skip
    assert by_nik.status_code in (404, 422), by_nik.text
    assert client.get(f"/nope/{number}").status_code == 404
    assert client.get("/healthz").status_code == 200
    return World(app, client, key, prefix, (coop, number), ref, score, missing)


def _scrape(world: World) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """The exposition text and its samples: (name, sorted labels) -> value."""
    response = world.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    return response.text, samples


def _value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_requests_are_counted_by_route_template_and_status(world: World) -> None:
    _, samples = _scrape(world)
    requests = "amanah_http_requests_total"
    assert _value(samples, requests, method="POST", route="/v1/scores", status="201") == 1
    by_id = "/v1/scores/{score_id}"
    assert _value(samples, requests, method="GET", route=by_id, status="200") == 1
    assert _value(samples, requests, method="GET", route=by_id, status="404") == 1
    assert _value(samples, requests, method="GET", route="/healthz", status="200") == 1
    assert _value(samples, requests, method="GET", route=UNMATCHED, status="404") == 1
    routes = {dict(labels).get("route") for (name, labels) in samples if name == requests}
    assert routes <= {"/v1/scores", by_id, "/healthz", UNMATCHED}, routes  # no raw path
    assert "/metrics" not in routes


def test_latency_is_a_histogram_from_a_millisecond_to_two_seconds(world: World) -> None:
    _, samples = _scrape(world)
    name = "amanah_http_request_duration_seconds"
    labels = {"method": "POST", "route": "/v1/scores"}
    assert _value(samples, f"{name}_count", **labels) == 2  # the score and the NIK
    total = _value(samples, f"{name}_sum", **labels)
    assert total is not None and 0 < total < 30
    edges = {dict(k).get("le") for (n, k) in samples if n == f"{name}_bucket"}
    assert {"0.001", "2.0", "+Inf"} <= edges
    assert _value(samples, f"{name}_bucket", le="+Inf", **labels) == 2


def test_a_score_is_counted_by_its_grade_and_decision(world: World) -> None:
    _, samples = _scrape(world)
    grade, decision = world.score["grade"], world.score["decision"]
    assert _value(samples, "amanah_scores_total", grade=grade, decision=decision) == 1
    scored = [v for (n, _), v in samples.items() if n == "amanah_scores_total"]
    assert sum(scored) == 1  # the read, the 404s and the NIK counted no score


def test_the_serving_model_is_named_then_swapped(world: World) -> None:
    identity = world.app.state.model.identity()
    _, samples = _scrape(world)
    info = {labels: v for (n, labels), v in samples.items() if n == "amanah_model_info"}
    expected = {
        "name": identity["name"] or "unregistered",
        "version": identity["version"] or "unregistered",
        "alias": identity["alias"] or "",
    }
    assert info == {tuple(sorted(expected.items())): 1.0}
    metrics: Metrics = world.app.state.metrics
    try:
        metrics.set_model({"name": "amanah-pd", "version": "7", "alias": "champion"})
        _, samples = _scrape(world)
        info = {labels: v for (n, labels), v in samples.items() if n == "amanah_model_info"}
        assert info == {(("alias", "champion"), ("name", "amanah-pd"), ("version", "7")): 1.0}
        metrics.set_model(None)
        _, samples = _scrape(world)
        assert not [n for (n, _) in samples if n == "amanah_model_info"]
    finally:
        metrics.set_model(world.app.state.model)


def test_no_member_nik_or_key_in_the_exposition(world: World) -> None:
    text, _ = _scrape(world)
    coop, number = world.member
    for secret in (world.key, world.prefix, number, f"{coop}-{number}", world.member_ref, NIK,
                   world.score["id"], world.missing):  # fmt: skip
        assert secret not in text


def test_each_app_has_its_own_registry(world: World) -> None:
    other, again = Metrics(), Metrics()  # the global registry would refuse the second
    state = State()
    state.metrics = other
    count_score(state, "Z", "review")
    assert b'amanah_scores_total{decision="review",grade="Z"} 1.0' in other.exposition()
    assert b'grade="Z"' not in again.exposition()
    _, samples = _scrape(world)
    assert _value(samples, "amanah_scores_total", grade="Z", decision="review") is None


def test_route_template_without_a_route_is_unmatched() -> None:
    assert route_template({"path": "/v1/scores/sc_1"}) == UNMATCHED
