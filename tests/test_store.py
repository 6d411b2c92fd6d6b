"""The store on SQLite and a real PostgreSQL: the migration creates exactly the models'
tables, values round-trip with their types (UTC timestamps, JSON, big Rupiah amounts),
constraints hold, and `amanah db upgrade` reports its revision or one line of error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from typer.testing import CliRunner

from features.identity import keyed_hash
from features.settings import Settings
from serving.cli import app
from serving.store import (
    StoreError,
    current_revision,
    database_url,
    make_engine,
    sessions,
    upgrade,
)
from serving.store.database import POOL_SIZE, head_revision
from serving.store.tables import (
    ApiKey,
    Application,
    Base,
    Consent,
    Decision,
    Grant,
    IdempotencyRecord,
    Partner,
    Score,
)
from tests.conftest import PII_KEY

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=UTC)
MEMBER = keyed_hash("3174012501900003", PII_KEY)
runner = CliRunner()


def test_upgrade_reaches_head_and_reports_the_revision(store_url: str) -> None:
    assert current_revision(store_url) is None
    assert upgrade(store_url) == head_revision() == "0002"
    assert current_revision(store_url) == "0002"
    assert upgrade(store_url) == "0002"  # again: nothing to do, no error


def test_migration_creates_exactly_the_models_tables(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as connection:
            found = set(inspect(connection).get_table_names())
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert found == {*Base.metadata.tables, "alembic_version"}
    assert diff == []


def test_the_diff_check_can_fail(store_url: str) -> None:
    """The comparison above is not vacuous: a table the migration lacks shows up."""
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE decisions")
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff[0][0] == "add_table" and diff[0][1].name == "decisions"  # then its index


def _partner(session_url: str) -> None:
    engine = make_engine(session_url)
    with sessions(engine).begin() as session:
        session.add(Partner(id="ptn_1", name="Mitra Satu", created_at=NOW))
    engine.dispose()


def test_values_round_trip_with_their_types(store_url: str) -> None:
    upgrade(store_url)
    _partner(store_url)
    engine = make_engine(store_url)
    answer = {"score_id": "sc_1", "reasons": [{"text_id": "Tabungan wajib rutin — lancar"}]}
    wib = timezone(timedelta(hours=7))
    try:
        with sessions(engine).begin() as session:
            session.add_all([
                ApiKey(partner_id="ptn_1", prefix="amk_live_ab12", key_hash="f" * 64,
                       scopes=["scores:write", "scores:read"], created_at=NOW),
                Grant(partner_id="ptn_1", cooperative_id="KMP-3174-001", granted_at=NOW),
                Consent(id="cns_1", member_ref=MEMBER, cooperative_id="KMP-3174-001",
                        partner_id="ptn_1", purpose="credit_scoring", granted_at=NOW,
                        expires_at=NOW + timedelta(days=365)),
            ])  # fmt: skip
            session.flush()  # no relationship() orders the inserts: flush parents first
            session.add_all([
                Application(id="app_1", partner_id="ptn_1", cooperative_id="KMP-3174-001",
                            member_ref=MEMBER, consent_id="cns_1", amount=25_000_000_000,
                            tenor_months=12, purpose="modal_usaha", received_at=NOW,
                            request_id="req_1"),
            ])  # fmt: skip
            session.flush()
            session.add(
                Score(id="sc_1", application_id="app_1", partner_id="ptn_1", member_ref=MEMBER,
                      cooperative_id="KMP-3174-001", request_digest="a" * 64,
                      model_name="amanah-pd", model_version="3", model_alias="champion",
                      pd=0.0412345678901, score=642, grade="B", decision="approve",
                      answer=answer, scored_at=NOW.astimezone(wib), request_id="req_1")
            )  # fmt: skip
            session.flush()
            session.add_all([
                Decision(score_id="sc_1", decided_by="officer:siti", by_person=True,
                         decision="approve", overridden=False, decided_at=NOW),
                IdempotencyRecord(partner_id="ptn_1", key="k-1", body_digest="b" * 64,
                                  status_code=201, response=answer, created_at=NOW),
            ])  # fmt: skip
        with sessions(engine)() as session:
            score = session.execute(select(Score)).scalar_one()
            key = session.execute(select(ApiKey)).scalar_one()
            application = session.execute(select(Application)).scalar_one()
            decision = session.execute(select(Decision)).scalar_one()
    finally:
        engine.dispose()
    # given in WIB, stored and returned as the same instant in UTC
    assert score.scored_at == NOW and score.scored_at.tzinfo == UTC
    assert score.answer == answer and score.pd == 0.0412345678901
    assert key.scopes == ["scores:write", "scores:read"] and key.revoked_at is None
    assert application.amount == 25_000_000_000  # beyond 32 bits
    assert decision.by_person is True and decision.overridden is False


def test_naive_timestamps_are_refused(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        naive = Partner(id="ptn_2", name="Naif", created_at=datetime(2026, 1, 1))
        refused = pytest.raises(StatementError, match="naive datetime")
        with refused, sessions(engine).begin() as session:
            session.add(naive)
    finally:
        engine.dispose()


def test_constraints_hold(store_url: str) -> None:
    """Foreign keys (SQLite enforces them only when told) and one idempotency record per
    partner and key."""
    upgrade(store_url)
    _partner(store_url)
    engine = make_engine(store_url)
    try:
        with pytest.raises(IntegrityError), sessions(engine).begin() as session:
            session.add(Grant(partner_id="ptn_nobody", cooperative_id="K1", granted_at=NOW))
        record = {"partner_id": "ptn_1", "key": "k-1", "status_code": 201, "created_at": NOW}
        with sessions(engine).begin() as session:
            session.add(IdempotencyRecord(**record, body_digest="b" * 64, response={}))
        with pytest.raises(IntegrityError), sessions(engine).begin() as session:
            session.add(IdempotencyRecord(**record, body_digest="c" * 64, response={}))
    finally:
        engine.dispose()


def test_no_personal_data_in_clear() -> None:
    """Members appear only as 64-character keyed hashes; no column can hold a NIK, phone or
    member name."""
    for table in Base.metadata.tables.values():
        for column in table.columns:
            assert not any(word in column.name for word in ("nik", "phone", "member_name"))
            if "member" in column.name:
                assert column.name == "member_ref" and column.type.length == 64  # type: ignore[attr-defined]


def test_sqlite_engine_enforces_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_the_pool_keeps_the_connections_concurrent_requests_opened(store_url: str) -> None:
    """Ten requests at once (eight wrk connections and the group committer, say): each
    connection goes back to the pool and stays open for the next requests, where the
    default pool (five kept) closed half of them and opened them anew at the next burst."""
    engine = make_engine(store_url)
    try:
        held = [engine.connect() for _ in range(10)]
        for connection in held:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            connection.close()
        assert engine.pool.checkedin() == 10 <= POOL_SIZE  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    memory = make_engine("sqlite://")  # in memory: SQLAlchemy's own pool, no size
    try:
        with memory.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        memory.dispose()


def test_a_pooled_connection_the_server_dropped_is_replaced_when_it_idled(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection idle past `PING_AFTER_IDLE_SECONDS` is tested before use and a dead one
    replaced unseen; one used a moment ago is trusted, and its statement fails instead."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from serving.store import database

    engine = make_engine(postgres_database)
    killer = create_engine(postgres_database, poolclass=NullPool)

    def pooled_backend() -> int:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())

    def drop(pid: int) -> None:  # as a server restart or a proxy's timeout would
        with killer.begin() as connection:
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")

    try:
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 1e9)  # never idle enough
        drop(pooled_backend())
        with pytest.raises(DBAPIError) as failed:
            pooled_backend()
        assert failed.value.connection_invalidated
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # every one has idled
        dropped = pooled_backend()
        drop(dropped)
        assert pooled_backend() != dropped  # replaced, and the statement ran
    finally:
        engine.dispose()
        killer.dispose()


def test_database_url_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMANAH_DATABASE_URL", raising=False)
    assert database_url(Settings()) == f"sqlite:///{ROOT / 'data' / 'amanah.db'}"
    monkeypatch.setenv("AMANAH_DATABASE_URL", "postgresql+psycopg://a@db/amanah")
    assert database_url(Settings()) == "postgresql+psycopg://a@db/amanah"


def test_bad_or_unreachable_databases_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        make_engine("not a url")
    with pytest.raises(StoreError, match=r"cannot reach the database .*u:\*\*\*@127\.0\.0\.1:1"):
        upgrade("postgresql+psycopg://u:secret@127.0.0.1:1/x?connect_timeout=2")
    assert current_revision(f"sqlite:///{tmp_path / 'absent.db'}") is None
    assert not (tmp_path / "absent.db").exists()  # reading never creates a store


def test_db_upgrade_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli' / 'amanah.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "database at revision 0002"
    for bad, words in [
        ("postgresql+psycopg://u:secret@127.0.0.1:1/x", ("cannot reach", "u:***@")),
        ("nonsense", ("not a database URL",)),
    ]:
        refused = runner.invoke(app, ["db", "upgrade", "--url", bad])
        assert refused.exit_code == 2, refused.output
        lines = [line for line in refused.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), refused.output
        assert "Traceback" not in refused.output and "secret" not in refused.output
        assert all(w in lines[0] for w in words), lines
