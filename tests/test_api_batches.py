"""`POST /v1/score-batches`, the application rows of every score, and `append_many`: one
app per database (SQLite and PostgreSQL) for the module, with the session's trained model
and built profiles (conftest)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from features.application import LoanRequest
from features.profile_store import ProfileStore
from serving.app import create_app
from serving.audit import AuditEvent, append, append_many, verify
from serving.batch_scoring import LoanApplication, score_applications
from serving.config import load_settings
from serving.errors import PROBLEM_JSON
from serving.scoring import ScoringError, score_application
from serving.security import member_ref_from_number
from serving.store import repo
from serving.store.tables import Application, AuditEntry, IdempotencyRecord, Score
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
PURPOSE = "credit_scoring"
CONSENTED = 20  # members of the granted cooperative with a consent
VOLATILE = ("id", "scored_at", "request_id")  # what differs between two scorings


@dataclass(frozen=True)
class World:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # who -> API key
    ok: list[tuple[str, str]]  # consented members: (cooperative_id, member_number)
    members: dict[str, tuple[str, str]]  # case -> member
    consents: dict[tuple[str, str], str]  # member -> consent id


def _number(member_id: str) -> tuple[str, str]:
    coop, _, number = member_id.rpartition("-")
    return coop, number


@pytest.fixture(scope="module")
def world(
    api_database: str,
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    medium_features: Path,
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("batch-api")
    settings = load_settings(
        database_url=api_database, environment="development", pii_key=PII_KEY.decode(),
        features_dir=medium_features, mlflow_tracking_uri=f"sqlite:///{tmp / 'none.db'}",
        member_scores_per_day=0,  # on only where a test says so (the velocity test below)
    )  # fmt: skip
    app = create_app(settings, trained.model)
    store = ProfileStore(medium_features)
    coops = sorted({m.rpartition("-")[0] for m in store.members()})
    granted, other = coops[0], coops[1]
    inside = store.members(granted)
    ok = [_number(m) for m in inside[:CONSENTED]]
    members = {
        "none": _number(inside[CONSENTED]), "revoked": _number(inside[CONSENTED + 1]),
        "ungranted": _number(store.members(other)[0]), "unknown": (granted, "A99999"),
    }  # fmt: skip
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    consents: dict[tuple[str, str], str] = {}
    with app.state.sessions() as session:
        a = repo.add_partner(session, "Fintech A", actor=ADMIN)
        b = repo.add_partner(session, "Bank B", actor=ADMIN)
        keys["a"] = repo.create_key(
            session, a, ["batches", "scores:write", "scores:read"], actor=ADMIN
        )[1]
        keys["a_write"] = repo.create_key(session, a, ["scores:write"], actor=ADMIN)[1]
        revoked_row, keys["a_revoked"] = repo.create_key(session, a, ["batches"], actor=ADMIN)
        repo.revoke_key(session, revoked_row.prefix, actor=ADMIN)
        keys["b"] = repo.create_key(session, b, ["batches", "scores:read"], actor=ADMIN)[1]
        repo.grant(session, a, granted, actor=ADMIN)
        repo.grant(session, b, granted, actor=ADMIN)
        for coop, number in [*ok, members["revoked"], members["ungranted"], members["unknown"]]:
            ref = member_ref_from_number(coop, number, PII_KEY).ref
            row = repo.give_consent(
                session, a, ref, coop, PURPOSE, now + timedelta(days=90), actor=ADMIN,
                at=now - timedelta(seconds=1),
            )  # fmt: skip
            consents[coop, number] = row.id
        repo.revoke_consent(session, a, consents[members["revoked"]], actor=ADMIN)
        session.commit()
    with TestClient(app) as client:
        yield World(app, client, keys, ok, members, consents)


def _item(member: tuple[str, str], amount: int = 5_000_000, **extra: Any) -> dict[str, Any]:
    coop, number = member
    return {
        "member": {"cooperative_id": coop, "member_number": number},
        "loan": {"amount": amount, "tenor_months": 12, "purpose": "modal usaha"},
        **extra,
    }


def _batch(
    world: World, items: list[dict[str, Any]], who: str | None = "a", key: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {world.keys[who]}"} if who else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    return world.client.post("/v1/score-batches", json={"items": items}, headers=headers)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def _counts(world: World) -> tuple[int, ...]:
    with world.app.state.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Score, Application, AuditEntry, IdempotencyRecord)
        )


def _stable(score: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in score.items() if k not in VOLATILE}


def test_a_batch_scores_every_item_readable_one_by_one(world: World) -> None:
    items = [_item(m, amount=1_000_000 * (i + 1)) for i, m in enumerate(world.ok[:3])]
    response = _batch(world, items)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"].startswith("sb_") and body["request_id"] == response.headers["x-request-id"]
    assert body["counts"] == {"received": 3, "scored": 3, "failed": 0}
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert "/v1/score-batches" in world.app.openapi()["paths"]
    headers = {"Authorization": f"Bearer {world.keys['a']}"}
    for result in body["results"]:
        assert result["status"] == 201 and "problem" not in result
        score = result["score"]
        assert score["id"].startswith("sc_") and 0 < score["pd"] < 1 and score["reasons"]
        read = world.client.get(f"/v1/scores/{score['id']}", headers=headers)
        assert read.status_code == 200 and read.json() == score, read.text
    with world.app.state.sessions() as session:
        for i, result in enumerate(body["results"]):
            row = session.get(Score, result["score"]["id"])
            assert row is not None and row.application_id is not None
            application = session.get(Application, row.application_id)
            assert application is not None
            coop, number = world.ok[i]
            assert application.member_ref == member_ref_from_number(coop, number, PII_KEY).ref
            assert (application.amount, application.tenor_months) == (1_000_000 * (i + 1), 12)
            assert application.purpose == "business_expansion"
            assert application.consent_id == world.consents[coop, number]
            assert application.partner_id == row.partner_id and application.cooperative_id == coop
            assert application.request_id == body["request_id"]


def test_a_mixed_batch_answers_each_item_in_order(world: World) -> None:
    bad_loan = _item(world.ok[1])
    bad_loan["loan"]["purpose"] = "liburan ke bulan"
    items = [
        _item(world.ok[0]), _item(world.members["unknown"]), _item(world.ok[2]),
        _item(world.members["none"]), bad_loan, _item(world.members["ungranted"]),
        _item(world.members["revoked"]), _item(world.ok[3], consent_id=world.consents[world.ok[4]]),
    ]  # fmt: skip
    before = _counts(world)
    body = _batch(world, items).json()
    assert [r["status"] for r in body["results"]] == [201, 404, 201, 404, 422, 404, 404, 404]
    assert [r["index"] for r in body["results"]] == list(range(len(items)))
    assert body["counts"] == {"received": 8, "scored": 2, "failed": 6}
    problems = [r["problem"] for r in body["results"] if r["status"] != 201]
    assert [p["code"] for p in problems] == ["member_not_found"] * 2 + ["invalid_loan"] + [
        "member_not_found"
    ] * 3
    unknown = problems[0]
    assert all(p == unknown for p in problems if p["code"] == "member_not_found")
    assert unknown["detail_id"] and unknown["title"] == "Member not found"
    assert problems[2]["detail"].startswith("loan.purpose")
    # the same answer as one POST /v1/scores for each kind of miss
    single = world.client.post(
        "/v1/scores", json=_item(world.members["ungranted"]),
        headers={"Authorization": f"Bearer {world.keys['a_write']}"},
    )  # fmt: skip
    assert _problem(single, 404, "member_not_found")["detail"] == unknown["detail"]
    after = _counts(world)
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (2, 2, 2)


def test_a_member_of_an_ungranted_cooperative_is_a_404_item(world: World) -> None:
    # partner A holds a consent for this member, but not the cooperative's grant
    body = _batch(world, [_item(world.members["ungranted"])]).json()
    assert body["counts"] == {"received": 1, "scored": 0, "failed": 1}
    (result,) = body["results"]
    assert result["status"] == 404 and result["problem"]["code"] == "member_not_found"


def test_over_the_limit_is_422_naming_items_and_the_limit(world: World) -> None:
    settings = world.app.state.settings
    world.app.state.settings = settings.model_copy(update={"max_batch_items": 2})
    try:
        before = _counts(world)
        response = _batch(world, [_item(m) for m in world.ok[:3]])
        problem = _problem(response, 422, "batch_too_large")
        assert problem["detail"].startswith("items:") and "at most 2 " in problem["detail"]
        assert "amanah score-batch" in problem["detail"] and problem["detail_id"]
        assert _counts(world) == before
        assert _batch(world, [_item(m) for m in world.ok[:2]]).status_code == 200
    finally:
        world.app.state.settings = settings


def test_no_items_is_422(world: World) -> None:
    problem = _problem(_batch(world, []), 422, "validation_error")
    assert any(e["field"] == "items" for e in problem["errors"]), problem
    strict = world.client.post(
        "/v1/score-batches", json={"items": [_item(world.ok[0])], "extra": 1},
        headers={"Authorization": f"Bearer {world.keys['a']}"},
    )  # fmt: skip
    assert any(e["field"] == "extra" for e in _problem(strict, 422, "validation_error")["errors"])


def test_no_key_and_a_revoked_key_are_401(world: World) -> None:
    for who in (None, "a_revoked"):
        response = _batch(world, [_item(world.ok[0])], who=who)
        _problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_key_without_the_batches_scope_is_403(world: World) -> None:
    before = _counts(world)
    _problem(_batch(world, [_item(world.ok[0])], who="a_write"), 403, "forbidden_scope")
    assert _counts(world) == before


def test_another_partner_cannot_read_the_batchs_scores(world: World) -> None:
    body = _batch(world, [_item(m) for m in world.ok[:2]]).json()
    headers = {"Authorization": f"Bearer {world.keys['b']}"}
    for result in body["results"]:
        read = world.client.get(f"/v1/scores/{result['score']['id']}", headers=headers)
        _problem(read, 404, "score_not_found")
    # and B, granted the cooperative but holding no consent, scores nobody
    theirs = _batch(world, [_item(world.ok[0])], who="b").json()
    assert theirs["results"][0]["problem"]["code"] == "member_not_found"


def test_an_idempotent_replay_writes_nothing_new(world: World) -> None:
    key = f"batch-{uuid.uuid4().hex}"
    items = [_item(world.ok[5]), _item(world.members["unknown"]), _item(world.ok[6])]
    first = _batch(world, items, key=key)
    assert first.status_code == 200, first.text
    before = _counts(world)
    again = _batch(world, items, key=key)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _counts(world) == before
    # the whole member id is the same member: the same request
    spelled = [dict(items[0], member={"cooperative_id": world.ok[5][0],
                                      "member_number": "-".join(world.ok[5])}), *items[1:]]  # fmt: skip
    assert _batch(world, spelled, key=key).json() == first.json()
    other = _batch(world, [_item(world.ok[5], amount=1_000_000), *items[1:]], key=key)
    _problem(other, 409, "idempotency_key_reused")
    assert _counts(world) == before


def test_a_replay_does_not_answer_a_score_whose_consent_was_revoked(world: World) -> None:
    key = f"batch-{uuid.uuid4().hex}"
    member = world.ok[7]
    items = [_item(member), _item(world.ok[8])]
    first = _batch(world, items, key=key).json()
    assert [r["status"] for r in first["results"]] == [201, 201]
    with world.app.state.sessions() as session:
        partner = session.scalar(
            select(Score.partner_id).where(Score.id == first["results"][0]["score"]["id"])
        )
        assert partner is not None
        repo.revoke_consent(session, partner, world.consents[member], actor=ADMIN)
        session.commit()
    again = _batch(world, items, key=key).json()
    assert [r["status"] for r in again["results"]] == [404, 201]
    assert again["results"][0]["problem"]["code"] == "member_not_found"
    assert again["counts"] == {"received": 2, "scored": 1, "failed": 1}
    assert again["results"][1] == first["results"][1]


def test_a_batch_item_equals_the_single_score_of_the_same_request(world: World) -> None:
    items = [
        _item(world.ok[9]),
        _item(world.ok[10], amount=25_000_000),
        {**_item(world.ok[11], amount=2_000_000),
         "loan": {"amount": 2_000_000, "tenor_months": 6, "purpose": "stok", "product": "modal usaha",
                  "flat_monthly_rate": 0.02, "declared_monthly_income": 4_000_000,
                  "declared_household_expenses": 1_500_000, "income_verified": True}},
    ]  # fmt: skip
    batch = _batch(world, items).json()
    headers = {"Authorization": f"Bearer {world.keys['a_write']}"}
    for item, result in zip(items, batch["results"], strict=True):
        single = world.client.post("/v1/scores", json=item, headers=headers)
        assert single.status_code == 201, single.text
        assert _stable(result["score"]) == _stable(single.json())


def test_a_full_batch_is_scored_and_chained(world: World) -> None:
    limit = world.app.state.settings.max_batch_items
    spare = world.ok[13:]  # members no other test scores
    items = [_item(spare[i % len(spare)], amount=1_000_000 + 10_000 * i) for i in range(limit)]
    before = _counts(world)
    body = _batch(world, items).json()
    assert body["counts"] == {"received": limit, "scored": limit, "failed": 0}
    assert len({r["score"]["id"] for r in body["results"]}) == limit
    after = _counts(world)
    assert [a - b for a, b in zip(after[:3], before[:3], strict=True)] == [limit] * 3


def test_the_single_score_writes_its_application(world: World) -> None:
    coop, number = world.ok[12]
    item = _item((coop, number), consent_id=world.consents[coop, number])
    item["loan"].update(declared_monthly_income=3_500_000, declared_household_expenses=900_000)
    response = world.client.post(
        "/v1/scores", json=item, headers={"Authorization": f"Bearer {world.keys['a_write']}"}
    )
    assert response.status_code == 201, response.text
    with world.app.state.sessions() as session:
        row = session.get(Score, response.json()["id"])
        assert row is not None and row.application_id is not None
        application = session.get(Application, row.application_id)
        assert application is not None and application.id.startswith("app_")
        assert (
            application.member_ref
            == row.member_ref
            == member_ref_from_number(coop, number, PII_KEY).ref
        )
        assert application.consent_id == world.consents[coop, number]
        assert (application.declared_income, application.declared_expenses) == (3_500_000, 900_000)
        assert application.received_at == row.scored_at
        assert application.request_id == response.headers["x-request-id"]


def test_the_audit_chain_verifies_with_one_entry_per_score(world: World) -> None:
    assert _batch(world, [_item(m) for m in world.ok[:4]]).status_code == 200
    with world.app.state.sessions() as session:
        assert verify(session).intact
        scores = set(session.scalars(select(Score.id)))
        audited = list(
            session.scalars(select(AuditEntry.subject).where(AuditEntry.action == "score.create"))
        )
        assert scores and sorted(audited) == sorted(scores)


def test_append_many_chains_as_repeated_append_would(world: World) -> None:
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    events = [
        AuditEvent(actor="ptn_x", action="test.append", subject=f"sc_{i}", model_version="3",
                   input_digest="a" * 64, output_digest=None, at=at + timedelta(microseconds=i))
        for i in range(5)
    ]  # fmt: skip
    fields = ("seq", "prev_hash", "hash", "canonical", "at", "subject")
    with world.app.state.sessions() as session:
        appended = [append(session, e) for e in events]
        one_by_one = [tuple(getattr(r, f) for f in fields) for r in appended]
        session.rollback()
        together = [tuple(r[f] for f in fields) for r in append_many(session, events)]
        assert append_many(session, []) == []
        session.commit()
        assert together == one_by_one
        assert verify(session).intact
        stored = session.scalars(
            select(AuditEntry).where(AuditEntry.seq >= together[0][0]).order_by(AuditEntry.seq)
        ).all()
        assert [(r.seq, r.hash) for r in stored] == [(t[0], t[2]) for t in together]


def test_batch_scoring_answers_as_score_application_key_for_key(
    trained: TrainingResult, medium_features: Path
) -> None:
    store = ProfileStore(medium_features)
    members = store.members()[::97][:12]
    today = datetime.now(UTC).date()
    requests = [
        LoanRequest(
            amount=1_500_000 + 700_000 * i, tenor_months=3 + 4 * i, purpose=purpose,
            flat_monthly_rate=0.01 + 0.002 * i, application_date=today,
            declared_monthly_income=3_000_000 if i % 2 else None,
            declared_household_expenses=800_000 if i % 3 else None,
            income_verified=(None, True, False)[i % 3],
        )
        for i, purpose in enumerate(["modal usaha", "stok", "education", "health"] * 3)
    ]  # fmt: skip
    batch = [LoanApplication(m, r) for m, r in zip(members, requests, strict=True)]
    batch.insert(3, LoanApplication("KMP-9999-Z00000", requests[0]))
    outcomes = score_applications(trained.model, store, batch)
    assert isinstance(outcomes[3], ScoringError)
    del outcomes[3], batch[3]
    for application, outcome in zip(batch, outcomes, strict=True):
        assert outcome == score_application(
            trained.model, store, application.member_id, application.request
        )


def test_a_member_named_past_the_velocity_limit_is_a_429_item(world: World) -> None:
    """Earlier scores of the member and earlier items of the same batch both count."""
    member = world.ok[-1]
    ref = member_ref_from_number(*member, PII_KEY).ref
    limit = 4
    settings = world.app.state.settings
    with world.app.state.sessions() as session:
        before = session.scalar(
            select(func.count()).select_from(Score).where(Score.member_ref == ref)
        )
    world.app.state.settings = settings.model_copy(update={"member_scores_per_day": limit})
    try:
        answer = _batch(world, [_item(member, 5_000_000 + i) for i in range(limit + 2)])
    finally:
        world.app.state.settings = settings
    assert answer.status_code == 200, answer.text
    statuses = [r["status"] for r in answer.json()["results"]]
    allowed = max(0, limit - (before or 0))
    assert statuses == [201] * allowed + [429] * (limit + 2 - allowed)
    refused = answer.json()["results"][-1]["problem"]
    assert refused["code"] == "member_velocity" and refused["detail_id"]
