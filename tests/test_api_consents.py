"""`/v1/consents`: create, read, list and revoke; keys, scopes, tenancy, strict bodies,
expiry, idempotency, NIK and member number as one member, revocation stopping scoring at
once, and the audit chain after it all. One app per database (SQLite and PostgreSQL) per
module, with the session's trained model and a copy of its built profiles whose NIK index
holds one NIK this test knows (the generator keeps no NIK in clear)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from features.identity import keyed_hash
from features.ledger.store import Ledger, write_partition
from features.pipeline import write_index
from features.profile_store import ProfileStore
from serving.app import create_app
from serving.audit import verify
from serving.config import load_settings
from serving.errors import PROBLEM_JSON
from serving.schemas import MAX_CONSENT_DAYS
from serving.security import member_ref_from_number
from serving.store import repo
from serving.store.tables import AuditEntry, Consent
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
NIK = "6471015203880042"
CASES = ("nik", "happy", "revoke", "idem", "list1", "list2", "list3", "expired", "other")


@dataclass(frozen=True)
class World:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # who -> API key
    members: dict[str, tuple[str, str]]  # case -> (cooperative_id, member_number)
    coops: dict[str, str]  # granted, second (also granted to A), ungranted
    consents: dict[str, str]  # case -> consent id made at setup


def _number(member_id: str) -> tuple[str, str]:
    coop, _, number = member_id.rpartition("-")
    return coop, number


@pytest.fixture(scope="module")
def features(
    tmp_path_factory: pytest.TempPathFactory, medium_ledger: Path, medium_features: Path
) -> tuple[Path, str]:
    """A copy of the built profiles whose NIK index knows `NIK`: the first member of the
    first cooperative is given its hash in a members-only copy of the ledger, and the
    index is written from that. Also that member's id."""
    root = tmp_path_factory.mktemp("consents")
    out = root / "features"
    shutil.copytree(medium_features, out, ignore=shutil.ignore_patterns("training"))
    ledger = root / "ledger"
    ledger.mkdir()
    shutil.copy(medium_ledger / "ledger.json", ledger)
    for table in ("cooperatives", "members"):  # all `write_index` reads
        shutil.copytree(medium_ledger / table, ledger / table)
    coop = Ledger(ledger).cooperative_ids()[0]
    members = Ledger(ledger).read("members", coop)
    members.loc[0, "nik_hash"] = keyed_hash(NIK, PII_KEY)
    write_partition(ledger, "members", coop, members)
    counts = write_index(out, Ledger(ledger))
    assert counts.niks > 0
    return out, str(members.loc[0, "member_id"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    features: tuple[Path, str],
) -> Iterator[World]:
    out, nik_member = features
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    url = (
        f"sqlite:///{tmp / 'amanah.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_database"))
    )
    settings = load_settings(
        database_url=url,
        environment="development",
        rate_limit_per_minute=0,  # the limit has its own tests (test_limits.py)
        pii_key=PII_KEY.decode(),
        features_dir=out,
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
    )
    app = create_app(settings, trained.model)
    store = ProfileStore(out)
    coops = sorted({m.rpartition("-")[0] for m in store.members()})
    granted = nik_member.rpartition("-")[0]
    second, ungranted = [c for c in coops if c != granted][:2]
    rest = [m for m in store.members(granted) if m != nik_member]
    members = {"nik": _number(nik_member)}
    members.update({case: _number(m) for case, m in zip(CASES[1:], rest, strict=False)})
    members["second"] = _number(store.members(second)[0])
    members["ungranted"] = _number(store.members(ungranted)[0])
    members["unknown"] = (granted, "A99999")
    keys: dict[str, str] = {}
    consents: dict[str, str] = {}
    now = datetime.now(UTC)
    with app.state.sessions() as session:
        a = repo.add_partner(session, "Fintech A", actor=ADMIN)
        b = repo.add_partner(session, "Bank B", actor=ADMIN)
        keys["a"] = repo.create_key(session, a, ["consents", "scores:write"], actor=ADMIN)[1]
        keys["a_scores"] = repo.create_key(session, a, ["scores:write"], actor=ADMIN)[1]
        revoked, keys["a_revoked"] = repo.create_key(session, a, ["consents"], actor=ADMIN)
        repo.revoke_key(session, revoked.prefix, actor=ADMIN)
        keys["b"] = repo.create_key(session, b, ["consents", "scores:write"], actor=ADMIN)[1]
        for coop in (granted, second):
            repo.grant(session, a, coop, actor=ADMIN)
        repo.grant(session, b, granted, actor=ADMIN)
        coop, number = members["expired"]
        consents["expired"] = repo.give_consent(
            session,
            a,
            member_ref_from_number(coop, number, PII_KEY).ref,
            coop,
            "credit_scoring",
            now - timedelta(days=1),
            actor=ADMIN,
            at=now - timedelta(days=30),
        ).id
        coop, number = members["other"]
        consents["b"] = repo.give_consent(
            session,
            b,
            member_ref_from_number(coop, number, PII_KEY).ref,
            coop,
            "credit_scoring",
            now + timedelta(days=30),
            actor=ADMIN,
        ).id
        session.commit()
    coop_names = {"granted": granted, "second": second, "ungranted": ungranted}
    yield World(app, TestClient(app), keys, members, coop_names, consents)
    app.state.engine.dispose()


def _auth(world: World, who: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.keys[who]}"} if who else {}


def _member(world: World, case: str, by: str = "number") -> dict[str, str]:
    if by == "nik":
        return {"nik": "6471 0152 0388 0042"}
    coop, number = world.members[case]
    return {"cooperative_id": coop, "member_number": number}


def _create(
    world: World,
    who: str | None,
    case: str,
    by: str = "number",
    idempotency_key: str | None = None,
    **fields: Any,
) -> Any:
    """POST a consent of the member of `case`; 90 days unless an expiry is given."""
    expiry = {} if {"expires_at", "valid_days"} & set(fields) else {"valid_days": 90}
    body = {"member": _member(world, case, by), **expiry, **fields}
    headers = _auth(world, who)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return world.client.post("/v1/consents", json=body, headers=headers)


def _score(world: World, who: str, case: str, by: str = "number", **extra: Any) -> Any:
    body = {
        "member": _member(world, case, by),
        "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
        **extra,
    }
    return world.client.post("/v1/scores", json=body, headers=_auth(world, who))


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def test_consent_created_read_listed_and_revoked(world: World) -> None:
    before = datetime.now(UTC)
    created = _create(world, "a", "happy")
    assert created.status_code == 201, created.text
    consent = created.json()
    assert consent["id"].startswith("cns_") and consent["status"] == "active"
    assert consent["cooperative_id"] == world.coops["granted"]
    assert consent["purpose"] == "credit_scoring" and consent["revoked_at"] is None
    granted = datetime.fromisoformat(consent["granted_at"])
    assert before <= granted <= datetime.now(UTC)
    assert datetime.fromisoformat(consent["expires_at"]) == granted + timedelta(days=90)
    read = world.client.get(f"/v1/consents/{consent['id']}", headers=_auth(world, "a"))
    assert read.status_code == 200 and read.json() == consent
    listed = world.client.get("/v1/consents", headers=_auth(world, "a")).json()
    assert consent in listed["items"]
    revoked = world.client.delete(f"/v1/consents/{consent['id']}", headers=_auth(world, "a"))
    assert revoked.status_code == 200, revoked.text
    answer = revoked.json()
    assert answer["status"] == "revoked" and answer["revoked_at"] is not None
    assert {k: v for k, v in answer.items() if k not in ("status", "revoked_at")} == {
        k: v for k, v in consent.items() if k not in ("status", "revoked_at")
    }
    again = world.client.delete(f"/v1/consents/{consent['id']}", headers=_auth(world, "a"))
    assert again.status_code == 200 and again.json() == answer  # unchanged
    read = world.client.get(f"/v1/consents/{consent['id']}", headers=_auth(world, "a"))
    assert read.json() == answer


def test_answers_never_carry_the_member(world: World) -> None:
    coop, number = world.members["nik"]
    ref = member_ref_from_number(coop, number, PII_KEY).ref
    for by in ("nik", "number"):
        created = _create(world, "a", "nik", by)
        assert created.status_code == 201, created.text
        listed = world.client.get("/v1/consents", headers=_auth(world, "a"))
        for text in (created.text, listed.text):
            assert number not in text and NIK not in text and ref not in text
    unknown = _problem(_create(world, "a", "unknown"), 404, "member_not_found")
    assert "A99999" not in str(unknown)


def test_no_key_and_revoked_key_are_401(world: World) -> None:
    consent = world.consents["expired"]
    for who in (None, "a_revoked"):
        headers = _auth(world, who)
        for response in (
            _create(world, who, "happy"),
            world.client.get("/v1/consents", headers=headers),
            world.client.get(f"/v1/consents/{consent}", headers=headers),
            world.client.delete(f"/v1/consents/{consent}", headers=headers),
        ):
            _problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_scope_is_403(world: World) -> None:
    consent = world.consents["expired"]
    headers = _auth(world, "a_scores")
    for response in (
        _create(world, "a_scores", "happy"),
        world.client.get("/v1/consents", headers=headers),
        world.client.get(f"/v1/consents/{consent}", headers=headers),
        world.client.delete(f"/v1/consents/{consent}", headers=headers),
    ):
        _problem(response, 403, "forbidden_scope")
    with world.app.state.sessions() as session:
        assert session.get(Consent, consent).revoked_at is None


def test_another_partners_consent_is_the_same_404_as_a_missing_one(world: World) -> None:
    theirs, headers = world.consents["b"], _auth(world, "a")
    answers = [
        _problem(
            world.client.get(f"/v1/consents/{theirs}", headers=headers), 404, "consent_not_found"
        ),
        _problem(
            world.client.get("/v1/consents/cns_missing", headers=headers), 404, "consent_not_found"
        ),
        _problem(
            world.client.delete(f"/v1/consents/{theirs}", headers=headers), 404, "consent_not_found"
        ),
        _problem(
            world.client.delete(f"/v1/consents/{'x' * 60}", headers=headers),
            404,
            "consent_not_found",
        ),
    ]
    assert len({a["title"] for a in answers}) == 1
    listed = world.client.get("/v1/consents?limit=200", headers=headers).json()["items"]
    assert theirs not in {c["id"] for c in listed}
    with world.app.state.sessions() as session:
        assert session.get(Consent, theirs).revoked_at is None
    # B sees its own
    mine = world.client.get(f"/v1/consents/{theirs}", headers=_auth(world, "b"))
    assert mine.status_code == 200 and mine.json()["status"] == "active"


def test_members_out_of_reach_answer_the_same_404(world: World) -> None:
    answers = [
        _problem(_create(world, "a", case), 404, "member_not_found")
        for case in ("ungranted", "unknown")
    ]
    unknown_nik = world.client.post(
        "/v1/consents",
        json={"member": {"nik": "6471019999990001"}, "valid_days": 30},
        headers=_auth(world, "a"),
    )
    answers.append(_problem(unknown_nik, 404, "member_not_found"))
    # B is not granted the second cooperative A is granted
    answers.append(_problem(_create(world, "b", "second"), 404, "member_not_found"))
    assert len({(a["title"], a["detail"]) for a in answers}) == 1
    # the cooperative A is granted answers
    assert _create(world, "a", "second").status_code == 201


def test_strict_body_and_expiry(world: World) -> None:
    unknown = _problem(_create(world, "a", "happy", nama="Siti"), 422, "validation_error")
    assert any(e["field"] == "nama" for e in unknown["errors"]), unknown
    nested = world.client.post(
        "/v1/consents",
        json={"member": {**_member(world, "happy"), "nik": NIK}, "valid_days": 30},
        headers=_auth(world, "a"),
    )
    assert NIK not in _problem(nested, 422, "validation_error")["detail"]
    now = datetime.now(UTC)
    for expires, problem in (
        (now - timedelta(minutes=1), "must be in the future"),
        (now + timedelta(days=MAX_CONSENT_DAYS + 1), f"at most {MAX_CONSENT_DAYS} days"),
    ):
        body = _problem(
            _create(world, "a", "happy", expires_at=expires.isoformat()), 422, "validation_error"
        )
        assert [e["field"] for e in body["errors"]] == ["expires_at"], body
        assert problem in body["errors"][0]["message"]
    naive = _create(world, "a", "happy", expires_at="2030-01-01T00:00:00")
    assert _problem(naive, 422, "validation_error")["errors"][0]["field"] == "expires_at"
    for days in (0, MAX_CONSENT_DAYS + 1):
        body = _problem(_create(world, "a", "happy", valid_days=days), 422, "validation_error")
        assert body["errors"][0]["field"] == "valid_days"
    both = {"expires_at": (now + timedelta(days=3)).isoformat(), "valid_days": 3}
    neither = world.client.post(
        "/v1/consents", json={"member": _member(world, "happy")}, headers=_auth(world, "a")
    )
    for response in (_create(world, "a", "happy", **both), neither):
        assert "exactly one" in _problem(response, 422, "validation_error")["detail"]
    future = _create(world, "a", "happy", expires_at=(now + timedelta(days=7)).isoformat())
    assert future.status_code == 201, future.text
    assert datetime.fromisoformat(future.json()["expires_at"]) == now + timedelta(days=7)
    purpose = _create(world, "a", "happy", purpose="Credit Scoring")
    assert _problem(purpose, 422, "validation_error")["errors"][0]["field"] == "purpose"


def test_a_nik_and_a_member_number_give_the_same_consent(world: World) -> None:
    by_nik = _create(world, "a", "nik", "nik", purpose="nik_and_number")
    by_number = _create(world, "a", "nik", "number", purpose="nik_and_number")
    assert by_nik.status_code == by_number.status_code == 201
    with world.app.state.sessions() as session:
        rows = [session.get(Consent, r.json()["id"]) for r in (by_nik, by_number)]
    assert rows[0] is not None and rows[1] is not None
    assert rows[0].member_ref == rows[1].member_ref
    # a consent given by NIK lets the member be scored by number, and the other way round
    for consent, by in ((by_nik, "number"), (by_number, "nik")):
        scored = _score(
            world, "a", "nik", by, consent_id=consent.json()["id"], purpose="nik_and_number"
        )
        assert scored.status_code == 201, scored.text
    # with no consent named, the active one for the purpose is found by NIK too
    given = _create(world, "a", "nik", "nik")
    assert given.status_code == 201
    assert _score(world, "a", "nik", "nik").status_code == 201


def test_revocation_stops_scoring_at_once(world: World) -> None:
    consent = _create(world, "a", "revoke").json()
    assert _score(world, "a", "revoke").status_code == 201
    assert _score(world, "a", "revoke", consent_id=consent["id"]).status_code == 201
    deleted = world.client.delete(f"/v1/consents/{consent['id']}", headers=_auth(world, "a"))
    assert deleted.status_code == 200
    _problem(_score(world, "a", "revoke"), 404, "member_not_found")
    _problem(_score(world, "a", "revoke", consent_id=consent["id"]), 404, "member_not_found")


def test_an_expired_consent_reads_expired_and_scores_nothing(world: World) -> None:
    expired = world.client.get(
        f"/v1/consents/{world.consents['expired']}", headers=_auth(world, "a")
    )
    assert expired.status_code == 200 and expired.json()["status"] == "expired"
    _problem(_score(world, "a", "expired"), 404, "member_not_found")


def test_a_retried_post_makes_one_consent(world: World) -> None:
    key = f"consent-retry-{world.coops['granted']}"
    first = _create(world, "a", "idem", idempotency_key=key)
    again = _create(world, "a", "idem", idempotency_key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    coop, number = world.members["idem"]
    with world.app.state.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Consent)
            .where(Consent.member_ref == member_ref_from_number(coop, number, PII_KEY).ref)
        )
    assert count == 1
    other = _create(world, "a", "idem", idempotency_key=key, valid_days=30)
    _problem(other, 409, "idempotency_key_reused")
    # the same key is another partner's own
    assert _create(world, "b", "idem", idempotency_key=key).status_code == 201


def test_list_is_newest_first_paged_and_filtered(world: World) -> None:
    made = [
        _create(world, "a", case, purpose="listing").json() for case in ("list1", "list2", "list3")
    ]
    extra = _create(world, "a", "second", purpose="listing").json()
    world.client.delete(f"/v1/consents/{made[1]['id']}", headers=_auth(world, "a"))
    headers = _auth(world, "a")
    everything = world.client.get("/v1/consents?limit=200", headers=headers).json()
    assert everything["next_cursor"] is None
    ids = [c["id"] for c in everything["items"]]
    assert ids.index(extra["id"]) < ids.index(made[2]["id"]) < ids.index(made[0]["id"])
    stamps = [c["granted_at"] for c in everything["items"]]
    assert stamps == sorted(stamps, reverse=True)
    # paging two at a time walks the same list
    walked: list[str] = []
    cursor: str | None = None
    while True:
        query = "/v1/consents?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = world.client.get(query, headers=headers).json()
        assert len(page["items"]) <= 2
        walked += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ids
    by_status = {
        status: {
            c["id"]
            for c in world.client.get(
                f"/v1/consents?status={status}&limit=200", headers=headers
            ).json()["items"]
        }
        for status in ("active", "revoked", "expired")
    }
    assert made[1]["id"] in by_status["revoked"] and made[0]["id"] in by_status["active"]
    assert world.consents["expired"] in by_status["expired"]
    assert set().union(*by_status.values()) == set(ids)
    assert not (by_status["active"] & by_status["revoked"])
    second = world.client.get(
        f"/v1/consents?cooperative_id={world.coops['second']}&limit=200", headers=headers
    ).json()["items"]
    assert extra["id"] in {c["id"] for c in second}
    assert {c["cooperative_id"] for c in second} == {world.coops["second"]}
    for query, field in (("limit=201", "limit"), ("limit=0", "limit"), ("status=old", "status")):
        body = _problem(
            world.client.get(f"/v1/consents?{query}", headers=headers), 422, "validation_error"
        )
        assert body["errors"][0]["field"] == field
    _problem(world.client.get("/v1/consents?cursor=bm9wZQ", headers=headers), 422, "invalid_cursor")
    number = world.members["list1"][1]
    for query in (f"member_number={number}", f"nik={NIK}", f"{NIK}=1"):
        refused = _problem(
            world.client.get(f"/v1/consents?{query}", headers=headers),
            422,
            "unknown_query_parameter",
        )
        assert number not in str(refused) and NIK not in str(refused)


def test_audit_chain_verifies_and_holds_every_consent(world: World) -> None:
    assert _create(world, "a", "happy").status_code == 201
    with world.app.state.sessions() as session:
        assert verify(session).intact
        consents = set(session.scalars(select(Consent.id)))
        given = list(
            session.scalars(select(AuditEntry.subject).where(AuditEntry.action == "consent.give"))
        )
        revoked = set(session.scalars(select(Consent.id).where(Consent.revoked_at.is_not(None))))
        revocations = list(
            session.scalars(select(AuditEntry.subject).where(AuditEntry.action == "consent.revoke"))
        )

    assert consents and sorted(given) == sorted(consents)
    assert revoked and sorted(revocations) == sorted(revoked)
