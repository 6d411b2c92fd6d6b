"""The fast path of `POST /v1/scores`: the one-query consent check answers as the three
lookups did, SQLite transactions queue on the process's writer lock and let it go, and the
201 answer is the bytes FastAPI made of `ScorePublic`, with the rate-limit headers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from features.profile_store import ProfileStore
from serving.app import create_app
from serving.config import load_settings
from serving.limits import RateLimiter
from serving.schemas import ScorePublic
from serving.security import member_ref_from_number
from serving.store import make_engine, repo, sessions, upgrade
from serving.store.database import (
    LOCK_FILE_SUFFIX,
    _QueuedConnection,
    _writer_lock,
    reads_only,
)
from serving.store.repo import active_consent, consent_in_force, get_consent, is_granted
from serving.store.tables import Consent, Score
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

ADMIN = "test-admin"
PURPOSE = "credit_scoring"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _ref(n: int) -> str:
    return f"{n:064x}"


def _three_lookups(
    session: object, partner: str, ref: str, coop: str, purpose: str, named: str | None
) -> str | None:
    """The check as it was: grant, then the consent (named or in force), then its fields."""
    assert hasattr(session, "execute")
    if not is_granted(session, partner, coop):  # type: ignore[arg-type]
        return None
    if named is None:
        found = active_consent(session, partner, ref, purpose, at=NOW)  # type: ignore[arg-type]
    else:
        found = get_consent(session, partner, named)  # type: ignore[arg-type]
    if found is None or found.member_ref != ref or found.purpose != purpose:
        return None
    revoked = found.revoked_at is not None and found.revoked_at <= NOW
    return found.id if found.granted_at <= NOW < found.expires_at and not revoked else None


def test_one_query_consent_check_agrees_with_the_three_lookups(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        with sessions(engine)() as session:
            a = repo.add_partner(session, "Mitra A", actor=ADMIN, at=NOW - 9 * DAY).id
            b = repo.add_partner(session, "Mitra B", actor=ADMIN, at=NOW - 9 * DAY).id
            repo.grant(session, a, "KMP-0001", actor=ADMIN, at=NOW - 9 * DAY)
            repo.grant(session, b, "KMP-0001", actor=ADMIN, at=NOW - 9 * DAY)

            def give(partner: str, n: int, coop: str, at: datetime, until: datetime) -> str:
                return repo.give_consent(session, partner, _ref(n), coop, PURPOSE, until,
                                         actor=ADMIN, at=at).id  # fmt: skip

            ids = {
                "active": give(a, 1, "KMP-0001", NOW - DAY, NOW + 30 * DAY),
                "shorter": give(a, 1, "KMP-0001", NOW - DAY, NOW + 2 * DAY),
                "revoked": give(a, 2, "KMP-0001", NOW - 3 * DAY, NOW + 30 * DAY),
                "expired": give(a, 3, "KMP-0001", NOW - 9 * DAY, NOW - DAY),
                "ends_now": give(a, 4, "KMP-0001", NOW - 9 * DAY, NOW),
                "ungranted": give(a, 5, "KMP-0002", NOW - DAY, NOW + 30 * DAY),
                "of_b": give(b, 6, "KMP-0001", NOW - DAY, NOW + 30 * DAY),
                "revoked_later": give(a, 7, "KMP-0001", NOW - DAY, NOW + 30 * DAY),
            }
            repo.revoke_consent(session, a, ids["revoked"], actor=ADMIN, at=NOW - DAY)
            repo.revoke_consent(session, a, ids["revoked_later"], actor=ADMIN, at=NOW + DAY)
            session.commit()
            asks = [
                (partner, n, coop, purpose, named)
                for partner in (a, b)
                for n in range(1, 8)
                for coop in ("KMP-0001", "KMP-0002")
                for purpose in (PURPOSE, "marketing")
                for named in (None, *ids.values(), "cns_missing")
            ]
            found = 0
            for partner, n, coop, purpose, named in asks:
                want = _three_lookups(session, partner, _ref(n), coop, purpose, named)
                got = consent_in_force(session, partner, _ref(n), coop, purpose, named, NOW)
                assert got == want, (partner == a, n, coop, purpose, named)
                found += got is not None
            # those that pass: member 1 unnamed (the consent ending last), named "active"
            # or "shorter"; member 7 (revoked tomorrow) and B's member 6, unnamed or named;
            # member 5 under the granted KMP-0001 (the check is of the cooperative the
            # member resolved to, as before), unnamed or named
            assert (
                consent_in_force(session, a, _ref(1), "KMP-0001", PURPOSE, at=NOW) == ids["active"]
            )
            assert found == 9
    finally:
        engine.dispose()


def test_sqlite_transactions_hold_the_writer_lock_until_they_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'amanah.db'}"
    upgrade(url)
    engine = make_engine(url)
    lock = _writer_lock(str(tmp_path / "amanah.db"))
    assert lock is not None
    try:
        factory = sessions(engine)
        for end in ("commit", "rollback", "close"):
            session = factory()
            assert not lock.locked()
            session.scalar(select(Consent.id))
            assert lock.locked(), "a transaction holds the lock"
            getattr(session, end)()
            assert not lock.locked(), f"{end} lets it go"
            session.close()
        reader = factory()
        assert reads_only(reader), "SQLite, no transaction open: a DEFERRED one begins"
        reader.scalar(select(Consent.id))
        assert not lock.locked(), "a read-only transaction takes no writer lock"
        assert not reads_only(reader), "inside a transaction: no change"
        with factory() as writer:  # a writer is not kept waiting by the open read
            writer.execute(text("SELECT 1"))
            assert lock.locked()
            writer.commit()
        reader.commit()
        reader.close()
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert isinstance(raw, _QueuedConnection)
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL

        # a second thread waits on the lock, then runs as soon as the first commits
        first = factory()
        first.execute(text("SELECT 1"))
        began: list[float] = []

        def second() -> None:
            with factory() as session:
                session.execute(text("SELECT 1"))
                began.append(time.monotonic())
                session.commit()

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        assert not began, "the second transaction waits for the first"
        released = time.monotonic()
        first.commit()
        first.close()
        thread.join(timeout=10)
        assert began and began[0] >= released
        assert not lock.locked()
    finally:
        engine.dispose()


_TRY_FILE_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("taken")
else:
    print("free")
"""


def _file_lock_seen_from_another_process(lock_file: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _TRY_FILE_LOCK, str(lock_file)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_other_processes_queue_on_a_file_lock_held_exactly_while_writing(tmp_path: Path) -> None:
    """Another process (a second uvicorn worker) finds the lock file beside the database
    taken while a transaction writes, and free once it commits or only reads: it waits
    there in the kernel rather than in SQLite's polling busy handler."""
    url = f"sqlite:///{tmp_path / 'amanah.db'}"
    upgrade(url)
    engine = make_engine(url)
    lock_file = tmp_path / f"amanah.db{LOCK_FILE_SUFFIX}"
    try:
        factory = sessions(engine)
        with factory() as writer:
            writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: a writing transaction
            assert lock_file.exists()
            assert _file_lock_seen_from_another_process(lock_file) == "taken"
            writer.commit()
        assert _file_lock_seen_from_another_process(lock_file) == "free"
        with factory() as reader:
            reads_only(reader)
            reader.execute(text("SELECT 1"))
            assert _file_lock_seen_from_another_process(lock_file) == "free"
            reader.commit()
    finally:
        engine.dispose()


def test_reads_only_changes_nothing_on_postgresql(postgres_database: str) -> None:
    """(The SQLite case is the test above.)"""
    upgrade(postgres_database)
    engine = make_engine(postgres_database)
    try:
        with sessions(engine)() as session:
            assert not reads_only(session)
            assert session.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()


def test_in_memory_sqlite_has_no_writer_lock() -> None:
    assert _writer_lock(":memory:") is None
    assert _writer_lock(None) is None


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, trained: TrainingResult, medium_features: Path
) -> tuple[TestClient, str, tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("fast")
    settings = load_settings(
        database_url=f"sqlite:///{tmp / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features,
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
    )  # fmt: skip
    app = create_app(settings, trained.model)
    app.state.rate_limiter = RateLimiter(per_minute=600, burst=50)
    member_id = ProfileStore(medium_features).members()[0]
    coop, _, number = member_id.rpartition("-")
    with app.state.sessions() as session:
        partner = repo.add_partner(session, "Fintech A", actor=ADMIN)
        key = repo.create_key(session, partner, ["scores:write", "scores:read"], actor=ADMIN)[1]
        repo.grant(session, partner, coop, actor=ADMIN)
        ref = member_ref_from_number(coop, number, PII_KEY).ref
        repo.give_consent(session, partner, ref, coop, PURPOSE, datetime.now(UTC) + 9 * DAY,
                          actor=ADMIN, at=datetime.now(UTC) - timedelta(seconds=1))  # fmt: skip
        session.commit()
    return TestClient(app), key, (coop, number)


def test_the_answer_is_the_response_models_json_with_rate_limit_headers(
    client: tuple[TestClient, str, tuple[str, str]],
) -> None:
    http, key, (coop, number) = client
    body = {
        "member": {"cooperative_id": coop, "member_number": number},
        "loan": {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"},
    }
    for idempotency in (None, "fast-1"):
        headers = {"Authorization": f"Bearer {key}"}
        if idempotency is not None:
            headers["Idempotency-Key"] = idempotency
        answer = http.post("/v1/scores", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        assert answer.headers["content-type"] == "application/json"
        # what FastAPI's response_model serialisation gives for the same answer
        assert (
            answer.content == ScorePublic.model_validate(answer.json()).model_dump_json().encode()
        )
        assert answer.headers["RateLimit-Limit"] == "600"
        assert int(answer.headers["RateLimit-Remaining"]) >= 0
        assert answer.headers["X-Request-ID"] == answer.json()["request_id"]
        app = http.app
        with app.state.sessions() as session:  # type: ignore[attr-defined]
            row = session.get(Score, answer.json()["id"])
            assert row is not None and row.answer == answer.json()
    schema = http.get("/openapi.json").json()
    created = schema["paths"]["/v1/scores"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/ScorePublic")
