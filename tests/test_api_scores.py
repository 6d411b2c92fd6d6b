"""`POST /v1/scores` and `GET /v1/scores/{id}`: happy path, keys, scopes, tenancy, consent,
strict bodies, no model; the audit chain after it all. One app per module on SQLite, with
the session's trained model and built profiles (conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from features.profile_store import ProfileStore
from serving.api.scores import member_id_of
from serving.app import create_app
from serving.audit import verify
from serving.config import ApiSettings, load_settings
from serving.errors import PROBLEM_JSON
from serving.security import member_ref_from_number
from serving.store import repo
from serving.store.tables import AuditEntry, Score
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
PURPOSE = "credit_scoring"


@dataclass(frozen=True)
class World:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # who -> API key
    members: dict[str, tuple[str, str]]  # case -> (cooperative_id, member_number)
    consents: dict[str, str]  # case -> consent id


def _settings(tmp: Path, features: Path, database: str | None = None) -> ApiSettings:
    """The test app's settings: `database` (default a SQLite file in `tmp`), no MLflow store."""
    return load_settings(
        database_url=database or f"sqlite:///{tmp / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=features,
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
    )  # fmt: skip


def _number(member_id: str) -> tuple[str, str]:
    coop, _, number = member_id.rpartition("-")
    return coop, number


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    medium_features: Path,
    api_database: str,
) -> World:
    tmp = tmp_path_factory.mktemp("api")
    app = create_app(_settings(tmp, medium_features, api_database), trained.model)
    store = ProfileStore(medium_features)
    coops = sorted({m.rpartition("-")[0] for m in store.members()})
    granted, other = coops[0], coops[1]
    first = store.members(granted)[:4]
    members = {
        "ok": _number(first[0]), "revoked": _number(first[1]), "none": _number(first[2]),
        "expired": _number(first[3]), "ungranted": _number(store.members(other)[0]),
        "unknown": (granted, "A99999"),
    }  # fmt: skip
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    consents: dict[str, str] = {}
    with app.state.sessions() as session:
        a = repo.add_partner(session, "Fintech A", actor=ADMIN)
        b = repo.add_partner(session, "Bank B", actor=ADMIN)
        keys["a"] = repo.create_key(session, a, ["scores:write", "scores:read"], actor=ADMIN)[1]
        keys["a_read"] = repo.create_key(session, a, ["scores:read"], actor=ADMIN)[1]
        keys["a_write"] = repo.create_key(session, a, ["scores:write"], actor=ADMIN)[1]
        revoked_row, keys["a_revoked"] = repo.create_key(session, a, ["scores:write"], actor=ADMIN)
        repo.revoke_key(session, revoked_row.prefix, actor=ADMIN)
        keys["b"] = repo.create_key(session, b, ["scores:write", "scores:read"], actor=ADMIN)[1]
        repo.grant(session, a, granted, actor=ADMIN)
        repo.grant(session, b, granted, actor=ADMIN)
        for case in ("ok", "revoked", "expired", "ungranted", "unknown"):
            coop, number = members[case]
            ref = member_ref_from_number(coop, number, PII_KEY).ref
            at = now - timedelta(days=30) if case == "expired" else now - timedelta(seconds=1)
            until = now - timedelta(days=1) if case == "expired" else now + timedelta(days=90)
            row = repo.give_consent(session, a, ref, coop, PURPOSE, until, actor=ADMIN, at=at)
            consents[case] = row.id
        repo.revoke_consent(session, a, consents["revoked"], actor=ADMIN)
        session.commit()
    return World(app, TestClient(app), keys, members, consents)


def _body(member: tuple[str, str], **extra: Any) -> dict[str, Any]:
    coop, number = member
    return {
        "member": {"cooperative_id": coop, "member_number": number},
        "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
        **extra,
    }


def _post(world: World, who: str | None, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {world.keys[who]}"} if who else {}
    return world.client.post("/v1/scores", json=body, headers=headers)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def test_member_number_or_whole_member_id_is_one_member() -> None:
    assert member_id_of("KMP-0026", "A00006") == ("KMP-0026-A00006", "A00006")
    assert member_id_of("KMP-0026", " KMP-0026-A00006 ") == ("KMP-0026-A00006", "A00006")


def test_score_created_then_read_back(world: World) -> None:
    response = _post(world, "a", _body(world.members["ok"]))
    assert response.status_code == 201, response.text
    score = response.json()
    assert score["id"].startswith("sc_") and 0 < score["pd"] < 1
    assert score["grade"] and score["decision"] and score["reasons"]
    assert {"code", "group", "factor", "direction", "text_id", "text_en"} <= set(
        score["reasons"][0]
    )
    assert score["request_id"] == response.headers["x-request-id"]
    assert score["profile_as_of"] == ProfileStore(world.app.state.profiles.root).as_of.isoformat()
    read = world.client.get(
        f"/v1/scores/{score['id']}", headers={"Authorization": f"Bearer {world.keys['a_read']}"}
    )
    assert read.status_code == 200 and read.json() == score
    # the whole member id names the same member, and the consent may be named
    again = _post(
        world, "a", _body((world.members["ok"][0], "-".join(world.members["ok"])),
                          consent_id=world.consents["ok"]),
    )  # fmt: skip
    assert again.status_code == 201, again.text


def test_no_key_and_revoked_key_are_401(world: World) -> None:
    for who in (None, "a_revoked"):
        response = _post(world, who, _body(world.members["ok"]))
        _problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    bad = world.client.get("/v1/scores/sc_x", headers={"Authorization": "Bearer amk_live_nope"})
    _problem(bad, 401, "unauthorized")


def test_wrong_scope_is_403(world: World) -> None:
    _problem(_post(world, "a_read", _body(world.members["ok"])), 403, "forbidden_scope")
    created = _post(world, "a", _body(world.members["ok"])).json()
    read = world.client.get(
        f"/v1/scores/{created['id']}", headers={"Authorization": f"Bearer {world.keys['a_write']}"}
    )
    _problem(read, 403, "forbidden_scope")


def test_another_partners_score_is_the_same_404_as_a_missing_one(world: World) -> None:
    created = _post(world, "a", _body(world.members["ok"])).json()
    headers = {"Authorization": f"Bearer {world.keys['b']}"}
    theirs = _problem(world.client.get(f"/v1/scores/{created['id']}", headers=headers), 404,
                      "score_not_found")  # fmt: skip
    missing = _problem(world.client.get("/v1/scores/sc_missing", headers=headers), 404,
                       "score_not_found")  # fmt: skip
    assert theirs["title"] == missing["title"]


@pytest.mark.parametrize("case", ["ungranted", "none", "revoked", "expired", "unknown"])
def test_members_out_of_reach_answer_like_an_unknown_member(world: World, case: str) -> None:
    body = _problem(_post(world, "a", _body(world.members[case])), 404, "member_not_found")
    assert (
        body["detail"]
        == _problem(_post(world, "a", _body(world.members["unknown"])), 404, "member_not_found")[
            "detail"
        ]
    )


def test_a_consent_of_another_member_or_partner_does_not_count(world: World) -> None:
    other = _body(world.members["none"], consent_id=world.consents["ok"])
    _problem(_post(world, "a", other), 404, "member_not_found")
    # partner B is granted the cooperative but holds no consent of its own
    _problem(_post(world, "b", _body(world.members["ok"])), 404, "member_not_found")


def test_unknown_field_is_422_naming_it(world: World) -> None:
    body = _body(world.members["ok"])
    body["loan"]["interest"] = 0.02
    problem = _problem(_post(world, "a", body), 422, "validation_error")
    assert any(e["field"] == "loan.interest" for e in problem["errors"]), problem
    extra = _problem(_post(world, "a", {**_body(world.members["ok"]), "nama": "x"}), 422,
                     "validation_error")  # fmt: skip
    assert any(e["field"] == "nama" for e in extra["errors"]), extra


def test_a_nik_the_index_does_not_know_is_the_same_404(world: World) -> None:
    """(NIKs the index knows are scored in tests/test_api_consents.py.)"""
    body = {**_body(world.members["ok"]), "member": {"nik": "6471010101900001"}}
    problem = _problem(_post(world, "a", body), 404, "member_not_found")
    assert "6471010101900001" not in str(problem)


def test_a_loan_word_that_is_unknown_is_422(world: World) -> None:
    body = _body(world.members["ok"])
    body["loan"]["purpose"] = "liburan ke bulan"
    _problem(_post(world, "a", body), 422, "invalid_loan")


def test_no_model_is_503_never_a_default_score(world: World) -> None:
    model = world.app.state.model
    world.app.state.model = None
    try:
        _problem(_post(world, "a", _body(world.members["ok"])), 503, "model_unavailable")
        ready = world.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["model"]["status"] == "failed"
    finally:
        world.app.state.model = model


def test_an_app_without_a_model_store_starts_without_a_model(
    tmp_path: Path, medium_features: Path
) -> None:
    app = create_app(_settings(tmp_path, medium_features))
    assert app.state.model is None and app.state.profiles is not None


def test_an_app_started_a_second_time_still_scores(
    tmp_path: Path, trained: TrainingResult, medium_features: Path
) -> None:
    """A second start (a test client entered twice, an embedding that restarts the app)
    gets a group committer of its own: the first shutdown closed the one it had."""
    app = create_app(_settings(tmp_path, medium_features), trained.model)
    member = _number(ProfileStore(medium_features).members()[0])
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Fintech C", actor=ADMIN)
        key = repo.create_key(session, partner, ["scores:write"], actor=ADMIN)[1]
        repo.grant(session, partner, member[0], actor=ADMIN)
        ref = member_ref_from_number(*member, PII_KEY).ref
        until = datetime.now(UTC) + timedelta(days=1)
        repo.give_consent(session, partner, ref, member[0], PURPOSE, until, actor=ADMIN)
        session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(2):
        with TestClient(app) as client:
            answer = client.post("/v1/scores", json=_body(member), headers=headers)
            assert answer.status_code == 201, answer.text


def test_audit_chain_holds_one_score_create_per_score(world: World) -> None:
    assert _post(world, "a", _body(world.members["ok"])).status_code == 201
    with world.app.state.sessions() as session:
        assert verify(session).intact
        scores = set(session.scalars(select(Score.id)))
        audited = list(
            session.scalars(select(AuditEntry.subject).where(AuditEntry.action == "score.create"))
        )
        assert scores and sorted(audited) == sorted(scores)
        assert session.scalar(select(func.count()).select_from(AuditEntry)) > len(scores)


def test_a_score_is_two_transactions_the_reads_then_the_writes(world: World) -> None:
    """The key, the consent and the idempotency record are read in one transaction (the
    route is `reading_first`); the rows and the audit entry are written in a second."""
    begun: list[object] = []
    engine = world.app.state.engine

    def count(connection: object) -> None:
        begun.append(connection)

    event.listen(engine, "begin", count)
    try:
        headers = {"Authorization": f"Bearer {world.keys['a']}", "Idempotency-Key": "two-tx"}
        body = _body(world.members["ok"])
        response = world.client.post("/v1/scores", json=body, headers=headers)
    finally:
        event.remove(engine, "begin", count)
    assert response.status_code == 201, response.text
    assert len(begun) == 2
