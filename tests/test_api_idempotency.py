"""`Idempotency-Key` on `POST /v1/scores`: replay, reuse with another body, partners apart,
no header, a bad key, and concurrent requests with one key (real threads, and the
IntegrityError path forced by hiding a committed record from the first lookup). One app
per module on SQLite, built like `tests.test_api_scores`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import serving.api.scores as scores_api
from features.profile_store import ProfileStore
from serving import idempotency
from serving.app import create_app
from serving.audit import verify
from serving.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER, Claim
from serving.security import member_ref_from_number
from serving.store import repo
from serving.store.tables import AuditEntry, IdempotencyRecord, Score
from tests.conftest import PII_KEY
from tests.test_api_scores import ADMIN, PURPOSE, _body, _number, _problem, _settings

if TYPE_CHECKING:
    from models.training import TrainingResult


@dataclass(frozen=True)
class Api:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # partner -> API key with scores:write
    member: tuple[str, str]  # a member both partners may score


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    medium_features: Path,
    api_database: str,
) -> Api:
    tmp = tmp_path_factory.mktemp("idem")
    app = create_app(_settings(tmp, medium_features, api_database), trained.model)
    store = ProfileStore(medium_features)
    coop = sorted({m.rpartition("-")[0] for m in store.members()})[0]
    member = _number(store.members(coop)[0])
    ref = member_ref_from_number(*member, PII_KEY).ref
    until = datetime.now(UTC) + timedelta(days=90)
    keys: dict[str, str] = {}
    with app.state.sessions() as session:
        for name in ("a", "b"):
            partner = repo.add_partner(session, f"Partner {name}", actor=ADMIN)
            keys[name] = repo.create_key(session, partner, ["scores:write"], actor=ADMIN)[1]
            repo.grant(session, partner, coop, actor=ADMIN)
            at = datetime.now(UTC) - timedelta(seconds=1)
            repo.give_consent(session, partner, ref, coop, PURPOSE, until, actor=ADMIN, at=at)
        session.commit()
    return Api(app, TestClient(app), keys, member)


def _post(
    api: Api, who: str, body: dict[str, Any], key: str | None, client: TestClient | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {api.keys[who]}"}
    if key is not None:
        headers[IDEMPOTENCY_HEADER] = key
    return (client or api.client).post("/v1/scores", json=body, headers=headers)


def _counts(api: Api) -> tuple[int, int, int]:
    """(scores, audit score.create entries, idempotency records)."""
    with api.app.state.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Score)) or 0,
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "score.create")
            )
            or 0,
            session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0,
        )


def test_same_key_and_body_replays_and_writes_nothing(api: Api) -> None:
    first = _post(api, "a", _body(api.member), "replay-1")
    assert first.status_code == 201, first.text
    assert REPLAYED_HEADER.lower() not in first.headers
    before = _counts(api)
    again = _post(api, "a", _body(api.member), "replay-1")
    assert again.status_code == 201, again.text
    assert again.headers[REPLAYED_HEADER] == "true"
    assert again.json() == first.json() and again.content == first.content
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    # the whole member id names the same member: the same body
    coop, number = api.member
    same = _post(api, "a", _body((coop, f"{coop}-{number}")), "replay-1")
    assert same.status_code == 201 and same.headers[REPLAYED_HEADER] == "true"
    assert _counts(api) == before


def test_same_key_with_another_body_is_409(api: Api) -> None:
    assert _post(api, "a", _body(api.member), "reused-1").status_code == 201
    before = _counts(api)
    other = _body(api.member)
    other["loan"]["amount"] = 6_000_000
    problem = _problem(_post(api, "a", other, "reused-1"), 409, "idempotency_key_reused")
    assert problem["detail"] and problem["detail_id"]
    assert IDEMPOTENCY_HEADER in problem["detail"]
    assert _counts(api) == before


def test_another_partner_with_the_same_key_is_independent(api: Api) -> None:
    a = _post(api, "a", _body(api.member), "shared-1")
    b = _post(api, "b", _body(api.member), "shared-1")
    assert a.status_code == b.status_code == 201, b.text
    assert REPLAYED_HEADER.lower() not in b.headers
    assert a.json()["id"] != b.json()["id"]


def test_no_header_gives_two_scores(api: Api) -> None:
    before = _counts(api)
    one = _post(api, "a", _body(api.member), None)
    two = _post(api, "a", _body(api.member), None)
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert _counts(api) == (before[0] + 2, before[1] + 2, before[2])


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_long_key_is_422_naming_the_header(api: Api, key: str) -> None:
    before = _counts(api)
    problem = _problem(_post(api, "a", _body(api.member), key), 422, "invalid_idempotency_key")
    assert IDEMPOTENCY_HEADER in problem["detail"] and problem["detail_id"]
    assert _counts(api) == before


def test_a_key_of_255_characters_is_accepted(api: Api) -> None:
    assert _post(api, "a", _body(api.member), "k" * 255).status_code == 201


def test_concurrent_requests_with_one_key_make_one_score(api: Api) -> None:
    before = _counts(api)
    start = threading.Barrier(4)
    answers: list[Any] = []

    def post() -> None:
        client = TestClient(api.app)
        start.wait()
        answers.append(_post(api, "a", _body(api.member), "race-1", client))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get(REPLAYED_HEADER) == "true" for a in answers) == 3
    assert _counts(api) == (before[0] + 1, before[1] + 1, before[2] + 1)


@pytest.mark.parametrize("loan_amount", [5_000_000, 7_000_000])
def test_a_key_committed_by_another_request_meanwhile_rolls_back_and_answers_it(
    api: Api, monkeypatch: pytest.MonkeyPatch, loan_amount: int
) -> None:
    """The race's losing side, forced: the record is committed, but the first lookup does
    not see it, so the request scores and its commit fails on the unique (partner, key)."""
    key = f"lost-race-{loan_amount}"
    first = _post(api, "a", _body(api.member), key)
    assert first.status_code == 201
    before = _counts(api)
    hidden = [True]

    def lookup_misses_once(session: Session, claim: Claim) -> IdempotencyRecord | None:
        if hidden:
            hidden.pop()
            return None
        return idempotency.stored(session, claim)

    monkeypatch.setattr(scores_api, "stored", lookup_misses_once)
    body = _body(api.member)
    body["loan"]["amount"] = loan_amount
    response = _post(api, "a", body, key)
    assert not hidden, "the route did not look the key up"
    if loan_amount == 5_000_000:
        assert response.status_code == 201 and response.headers[REPLAYED_HEADER] == "true"
        assert response.json() == first.json()
    else:
        _problem(response, 409, "idempotency_key_reused")
    assert _counts(api) == before
    with api.app.state.sessions() as session:
        assert verify(session).intact
