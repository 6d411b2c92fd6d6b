"""Officer accounts and console sessions on SQLite and a real PostgreSQL: accounts refuse
bad values naming the field, login counts wrong passwords and locks after five, sessions
end when idle, when old or at logout, tokens are kept only as hashes, and the audit chain
holds no password or username."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import serving.officers as officers
from serving.audit import verify
from serving.cli import app
from serving.officers import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    SESSION_IDLE,
    SESSION_LIFETIME,
    OfficerError,
    OfficerRole,
    add_officer,
    close_session,
    csrf_matches,
    current_officer,
    list_officers,
    login,
    open_session,
    password_matches,
)
from serving.store import make_engine, sessions, upgrade
from serving.store.database import alembic_config
from serving.store.tables import AuditEntry, ConsoleSession, Officer

NOW = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)
COOP = "KMP-6471-011"
PASSWORD = "kata-sandi-rahasia-1"
runner = CliRunner()


@pytest.fixture
def db(store_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        yield sessions(engine)
    finally:
        engine.dispose()


def _add(db: sessionmaker[Session], username: str = "Siti.R", **changes: Any) -> Officer:
    values: dict[str, Any] = {
        "cooperative_id": COOP, "username": username, "display_name": "Siti  Rahmawati",
        "password": PASSWORD, "role": "officer", "actor": "cli:test", "at": NOW,
    }  # fmt: skip
    with db.begin() as session:
        return add_officer(session, **{**values, **changes})


def _login(
    db: sessionmaker[Session], password: str, at: datetime, username: str = "siti.r"
) -> officers.LoginOutcome:
    with db.begin() as session:
        return login(session, username, password, now=at)


def _row(db: sessionmaker[Session], officer_id: str) -> Officer:
    with db() as session:
        found = session.get(Officer, officer_id)
        assert found is not None
        return found


def _spy_on_password_checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (stored hash, password) pairs `login` checks from now on, recorded in order."""
    checked: list[tuple[str, str]] = []
    real = officers.password_matches

    def spy(stored: str, password: str) -> bool:
        checked.append((stored, password))
        return real(stored, password)

    monkeypatch.setattr(officers, "password_matches", spy)
    return checked


def test_add_and_list(db: sessionmaker[Session]) -> None:
    siti = _add(db)
    _add(
        db,
        "budi",
        cooperative_id="KMP-6471-012",
        role=OfficerRole.SUPERVISOR,
        at=NOW + timedelta(seconds=1),
    )
    with db() as session:
        everyone = list_officers(session)
        ours = list_officers(session, COOP)
    assert [o.username for o in everyone] == ["siti.r", "budi"]
    assert [o.id for o in ours] == [siti.id]
    assert siti.id.startswith("off_") and len(siti.id) == 20
    assert siti.display_name == "Siti Rahmawati" and siti.role == "officer"
    assert everyone[1].role == "supervisor" and siti.failed_logins == 0
    assert siti.password_hash.startswith("$argon2id$") and PASSWORD not in siti.password_hash
    assert password_matches(siti.password_hash, PASSWORD)
    assert not password_matches(siti.password_hash, PASSWORD + "x")
    assert not password_matches("not a hash", PASSWORD)


@pytest.mark.parametrize(
    ("username", "changes", "field"),
    [
        ("SITI.r", {}, "username"),  # taken: usernames are compared lower-case
        ("ab", {}, "username"),
        ("siti r", {}, "username"),
        ("x" * 65, {}, "username"),
        ("ani", {"password": "123456789"}, "password"),  # 9 characters
        ("ani", {"role": "admin"}, "role"),
        ("ani", {"display_name": "   "}, "display_name"),
        ("ani", {"cooperative_id": "../coop"}, "cooperative_id"),
        ("ani", {"cooperative_id": "K" * 41}, "cooperative_id"),
    ],
)
def test_add_refuses_naming_the_field(
    db: sessionmaker[Session], username: str, changes: dict[str, Any], field: str
) -> None:
    _add(db)
    with pytest.raises(OfficerError) as refused:
        _add(db, username, **changes)
    assert refused.value.field == field and str(refused.value).startswith(field + " ")
    assert "\n" not in str(refused.value) and "123456789" not in str(refused.value)
    with db() as session:
        assert [o.username for o in list_officers(session)] == ["siti.r"]


def test_login_ok_and_wrong_passwords_count(db: sessionmaker[Session]) -> None:
    siti = _add(db)
    ok = _login(db, PASSWORD, NOW, username="  Siti.R ")
    assert ok.status == "ok" and ok.officer is not None and ok.officer.id == siti.id
    for attempt in range(1, MAX_FAILED_LOGINS):
        bad = _login(db, "wrong-password", NOW + timedelta(seconds=attempt))
        assert (bad.status, bad.officer, bad.locked_until) == ("bad", None, None)
        assert _row(db, siti.id).failed_logins == attempt


def test_fifth_wrong_password_locks_until_lockout_has_passed(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    siti = _add(db)
    for attempt in range(MAX_FAILED_LOGINS - 1):
        assert _login(db, "wrong-password", NOW + timedelta(seconds=attempt)).status == "bad"
    fifth = _login(db, "wrong-password", NOW + timedelta(minutes=1))
    until = NOW + timedelta(minutes=1) + LOCKOUT
    assert (fifth.status, fifth.locked_until) == ("locked", until)
    row = _row(db, siti.id)
    assert row.failed_logins == 0 and row.locked_until == until

    # locked: the right password is refused, and not even checked
    checked = _spy_on_password_checks(monkeypatch)
    refused = _login(db, PASSWORD, until - timedelta(seconds=1))
    assert (refused.status, refused.officer, refused.locked_until) == ("locked", None, until)
    assert checked == []
    ok = _login(db, PASSWORD, until)
    assert ok.status == "ok" and [p for _, p in checked] == [PASSWORD]
    assert _row(db, siti.id).locked_until is None


def test_success_resets_the_count(db: sessionmaker[Session]) -> None:
    siti = _add(db)
    for attempt in range(MAX_FAILED_LOGINS - 1):
        _login(db, "wrong-password", NOW + timedelta(seconds=attempt))
    assert _login(db, PASSWORD, NOW + timedelta(minutes=1)).status == "ok"
    assert _row(db, siti.id).failed_logins == 0
    for attempt in range(MAX_FAILED_LOGINS - 1):  # four more wrong do not lock
        assert (
            _login(db, "wrong-password", NOW + timedelta(minutes=2, seconds=attempt)).status
            == "bad"
        )
    assert _row(db, siti.id).locked_until is None


def test_unknown_and_disabled_officers_are_bad(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    siti = _add(db)
    checked = _spy_on_password_checks(monkeypatch)
    assert _login(db, PASSWORD, NOW, username="nobody") == officers.LoginOutcome("bad", None, None)
    assert _login(db, PASSWORD, NOW, username="no body!").status == "bad"  # not even a username
    # an unknown name is checked against a dummy hash of the same cost as a real one
    parameters = siti.password_hash.split("$")[:4]  # variant, version, memory/time/lanes
    assert [h.split("$")[:4] for h, _ in checked] == [parameters] * 2
    with db.begin() as session:
        row = session.get(Officer, siti.id)
        assert row is not None
        row.disabled_at = NOW
    assert _login(db, PASSWORD, NOW + timedelta(seconds=1)).status == "bad"
    with db() as session:
        subjects = session.scalars(select(AuditEntry.subject).order_by(AuditEntry.seq)).all()
    assert subjects == [siti.id, "-", "-", siti.id]


def _open(
    db: sessionmaker[Session], officer: Officer, at: datetime = NOW
) -> officers.OpenedSession:
    with db.begin() as session:
        return open_session(session, officer, now=at)


def _current(
    db: sessionmaker[Session], token: str | None, at: datetime
) -> officers.CurrentOfficer | None:
    with db.begin() as session:
        return current_officer(session, token, now=at)


def test_session_opens_and_names_the_officer(db: sessionmaker[Session]) -> None:
    siti = _add(db)
    opened = _open(db, siti)
    assert opened.expires_at == NOW + SESSION_LIFETIME and opened.token != opened.csrf_token
    found = _current(db, opened.token, NOW + timedelta(seconds=5))
    assert found == officers.CurrentOfficer(
        officer_id=siti.id, cooperative_id=COOP, username="siti.r",
        display_name="Siti Rahmawati", role=OfficerRole.OFFICER, csrf_token=opened.csrf_token,
        session_id=hashlib.sha256(opened.token.encode()).hexdigest(),
    )  # fmt: skip
    assert _current(db, None, NOW) is None and _current(db, "", NOW) is None
    assert _current(db, opened.token + "x", NOW) is None


def _last_seen(db: sessionmaker[Session]) -> datetime:
    with db() as session:
        return session.scalars(select(ConsoleSession.last_seen_at)).one()


def test_session_ends_when_idle(db: sessionmaker[Session]) -> None:
    opened = _open(db, _add(db))
    assert _current(db, opened.token, NOW + timedelta(seconds=30)) is not None
    assert _last_seen(db) == NOW  # written at most once a minute
    assert _current(db, opened.token, NOW + timedelta(minutes=20)) is not None
    assert _last_seen(db) == NOW + timedelta(minutes=20)
    # 45 minutes after opening, but only 25 after the last request
    assert _current(db, opened.token, NOW + timedelta(minutes=45)) is not None
    idle = NOW + timedelta(minutes=45) + SESSION_IDLE + timedelta(seconds=1)
    assert _current(db, opened.token, idle) is None
    assert _current(db, opened.token, idle + timedelta(minutes=1)) is None  # stays ended


def test_session_ends_at_its_lifetime_however_busy(db: sessionmaker[Session]) -> None:
    opened = _open(db, _add(db))
    at = NOW
    while at + timedelta(minutes=20) < NOW + SESSION_LIFETIME:
        at += timedelta(minutes=20)
        assert _current(db, opened.token, at) is not None
    assert _current(db, opened.token, NOW + SESSION_LIFETIME) is None


def test_closed_and_disabled_sessions_end(db: sessionmaker[Session]) -> None:
    siti = _add(db)
    budi = _add(db, "budi")
    first, second = _open(db, siti), _open(db, budi)
    with db.begin() as session:
        close_session(session, first.token, now=NOW + timedelta(minutes=1))
        close_session(session, first.token, now=NOW + timedelta(minutes=2))  # once is enough
        close_session(session, "no-such-token", now=NOW)
    assert _current(db, first.token, NOW + timedelta(minutes=2)) is None
    with db.begin() as session:
        row = session.get(Officer, budi.id)
        assert row is not None
        row.disabled_at = NOW + timedelta(minutes=1)
    assert _current(db, second.token, NOW + timedelta(minutes=2)) is None
    with db.begin() as session, pytest.raises(OfficerError, match=r"^officer is disabled"):
        open_session(session, row, now=NOW + timedelta(minutes=3))
    with db() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == ["officer.create", "officer.create", "officer.logout"]


def test_tokens_are_stored_only_as_hashes(db: sessionmaker[Session]) -> None:
    opened = _open(db, _add(db))
    with db() as session:
        row = session.scalars(select(ConsoleSession)).one()
    values = [str(getattr(row, column.key)) for column in ConsoleSession.__table__.columns]
    assert row.id == hashlib.sha256(opened.token.encode("utf-8")).hexdigest()
    assert not any(opened.token in value for value in values)
    assert row.csrf_token == opened.csrf_token  # the form token is compared, so it is kept


def test_csrf_matches() -> None:
    assert csrf_matches("abc-123", "abc-123")
    assert not csrf_matches("abc-123", "abc-124")
    assert not csrf_matches("abc-123", None)
    assert not csrf_matches("abc-123", "")
    assert not csrf_matches("", "")
    assert not csrf_matches("abc-123", "ab\u00e7")  # non-ASCII is compared, not an error


def test_audit_chain_verifies_and_holds_no_secret(db: sessionmaker[Session]) -> None:
    siti = _add(db)
    _login(db, PASSWORD, NOW)
    for attempt in range(MAX_FAILED_LOGINS):
        _login(db, "salah-kata-sandi", NOW + timedelta(seconds=attempt))
    _login(db, PASSWORD, NOW + timedelta(minutes=1))  # locked
    _login(db, PASSWORD, NOW, username="ghost.user")
    opened = _open(db, siti)
    with db.begin() as session:
        close_session(session, opened.token, now=NOW + timedelta(minutes=2))
    with db() as session:
        result = verify(session)
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert result.intact and result.entries == 10
    assert [e.action for e in entries] == [
        "officer.create", "officer.login", *["officer.login_failed"] * 4, "officer.locked",
        "officer.login_failed", "officer.login_failed", "officer.logout",
    ]  # fmt: skip
    secrets = (PASSWORD, "salah-kata-sandi", "siti", "ghost", opened.token, opened.csrf_token)
    for entry in entries:
        assert not any(s in entry.canonical.lower() for s in secrets), entry.canonical
    assert {e.subject for e in entries} == {siti.id, "-"}


def test_cli_add_and_list(store_url: str) -> None:
    env = {"AMANAH_OFFICER_PASSWORD": PASSWORD}
    added = runner.invoke(
        app,
        ["officers", "add", "--cooperative", COOP, "--username", "Dewi", "--name",
         "Dewi [Kasir] Lestari", "--role", "supervisor", "--url", store_url],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.output.startswith("officer off_")
    assert f"(dewi, supervisor) of cooperative {COOP}" in added.output
    assert PASSWORD not in added.output
    listed = runner.invoke(app, ["officers", "list", "--url", store_url], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "dewi" in listed.output and "Dewi [Kasir] Lestari" in listed.output
    assert "supervisor" in listed.output and "active" in listed.output
    assert "$argon2" not in listed.output
    other = runner.invoke(app, ["officers", "list", "--cooperative", "KMP-1", "--url", store_url])
    assert other.exit_code == 0 and other.output.strip() == "no officers"

    for args, extra_env, words in [
        (["--username", "dewi"], env, "username is taken"),
        (["--username", "eka"], {"AMANAH_OFFICER_PASSWORD": "pendek"}, "password must be"),
        (["--username", "eka", "--role", "boss"], env, "role must be one of"),
        (["--username", "eka"], {"AMANAH_OFFICER_PASSWORD": ""}, "AMANAH_OFFICER_PASSWORD"),
    ]:
        refused = runner.invoke(
            app,
            ["officers", "add", "--cooperative", COOP, "--name", "Eka", "--url", store_url, *args],
            env=extra_env,
        )
        assert refused.exit_code == 2, refused.output
        lines = [line for line in refused.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], lines
    engine = make_engine(store_url)
    try:
        with sessions(engine)() as session:
            assert [o.username for o in list_officers(session)] == ["dewi"]
    finally:
        engine.dispose()


def test_migration_creates_and_drops_both_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert upgrade(url) == "0002"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = inspect(connection)
            assert {"officers", "console_sessions"} <= set(found.get_table_names())
            indexes = [i["column_names"] for i in found.get_indexes("console_sessions")]
            assert indexes == [["officer_id"]]
            unique = [u["column_names"] for u in found.get_unique_constraints("officers")]
            assert unique == [["username"]]
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        with engine.connect() as connection:
            left = set(inspect(connection).get_table_names())
        assert "officers" not in left and "console_sessions" not in left and "partners" in left
    finally:
        engine.dispose()
