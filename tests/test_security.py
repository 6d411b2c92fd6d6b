"""Partners, API keys, scopes, grants and consents, on SQLite and a real PostgreSQL: keys are
high-entropy, unique and stored only as a hash; authentication refuses revoked, wrong and
unknown keys; scopes are declared once; a consent is in force only for its partner, member
and purpose between its time and its expiry or revocation; members are stored only as keyed
hashes; every change is audited on an intact chain; the `amanah partners|keys` commands."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from features.identity import keyed_hash
from features.settings import Settings
from serving.audit import verify
from serving.cli import app
from serving.security import (
    KEY_PATTERN,
    PREFIX_LENGTH,
    MemberRefError,
    PiiKeyMissingError,
    Scope,
    ScopeError,
    hash_api_key,
    key_prefix,
    member_ref_from_nik,
    member_ref_from_number,
    new_api_key,
    parse_scopes,
    pii_key,
    verify_api_key,
)
from serving.store import (
    RepoValueError,
    UnknownConsentError,
    UnknownKeyError,
    UnknownPartnerError,
    active_consent,
    add_partner,
    authenticate,
    create_key,
    give_consent,
    grant,
    is_granted,
    list_keys,
    make_engine,
    revoke_consent,
    revoke_key,
    sessions,
)
from serving.store.tables import ApiKey, AuditEntry, Base, Partner
from tests.conftest import PII_KEY

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NIK = "3174012501900003"
ACTOR = "cli:test"
runner = CliRunner()


# --- pure: keys, scopes, member references ----------------------------------------------


def test_new_keys_are_high_entropy_unique_and_recognisable() -> None:
    made = [new_api_key() for _ in range(500)]
    keys = [key for key, _, _ in made]
    assert len(set(keys)) == len(keys)
    assert len({prefix for _, prefix, _ in made}) == len(made)  # 32-bit ids: no clash in 500
    for key, prefix, key_hash in made:
        assert KEY_PATTERN.match(key) and key.startswith("amk_live_")
        assert key[:PREFIX_LENGTH] == prefix == key_prefix(key)
        secret = key[PREFIX_LENGTH + 1 :]
        assert len(base64.urlsafe_b64decode(secret + "=")) == 32  # 256 random bits
        assert key_hash == hashlib.sha256(key.encode()).hexdigest() == hash_api_key(key)
        assert verify_api_key(key, key_hash)
        assert not verify_api_key(key[:-1] + ("A" if key[-1] != "A" else "B"), key_hash)
    # the secret's characters spread over the whole alphabet (not a counter or a clock)
    assert len(set("".join(key[PREFIX_LENGTH + 1 :] for key in keys))) == 64


def test_key_prefix_refuses_what_is_not_a_key() -> None:
    key, prefix, _ = new_api_key()
    assert key_prefix(key) == prefix
    for wrong in ("", prefix, key + "x", key.replace("amk_live_", "amk_test_"), "Bearer " + key):
        assert key_prefix(wrong) is None


def test_scopes_parse_in_declaration_order_and_unknown_ones_are_named() -> None:
    assert [s.value for s in Scope] == [
        "scores:write", "scores:read", "batches", "consents", "admin",
    ]  # fmt: skip
    assert parse_scopes(["consents", "scores:read", "scores:write", "scores:read"]) == (
        Scope.SCORES_WRITE, Scope.SCORES_READ, Scope.CONSENTS,
    )  # fmt: skip
    with pytest.raises(ScopeError, match=r"unknown scope 'scores:delete'; choose from scores:"):
        parse_scopes(["scores:read", "scores:delete"])
    with pytest.raises(ScopeError, match="at least one scope"):
        parse_scopes([])


def test_member_references_are_keyed_hashes_and_errors_name_the_field() -> None:
    by_nik = member_ref_from_nik(NIK, PII_KEY)
    assert by_nik.ref == keyed_hash(NIK, PII_KEY)  # the ledger's nik_hash for the same key
    assert member_ref_from_nik("3174 0125 0190 0003", PII_KEY).ref == by_nik.ref
    assert member_ref_from_nik(NIK, b"another-key-0123456789abcdef0123").ref != by_nik.ref
    by_number = member_ref_from_number("KMP-001", "A-17", PII_KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", by_number.ref) and "A-17" not in by_number.ref
    assert member_ref_from_number("KMP-002", "A-17", PII_KEY).ref != by_number.ref
    assert member_ref_from_number(" KMP-001 ", "A-17 ", PII_KEY) == by_number
    with pytest.raises(MemberRefError, match=r"^nik must be 16 digits; got 15 digits$") as nik:
        member_ref_from_nik(NIK[:-1], PII_KEY)
    assert nik.value.field == "nik" and NIK[:-1] not in str(nik.value)
    with pytest.raises(MemberRefError, match=r"^member_number must not be empty") as number:
        member_ref_from_number("KMP-001", "  ", PII_KEY)
    assert number.value.field == "member_number"
    with pytest.raises(MemberRefError, match=r"^cooperative_id must not be empty"):
        member_ref_from_number("", "A-17", PII_KEY)


def test_the_pii_key_comes_from_the_setting() -> None:
    assert pii_key(Settings(pii_key=SecretStr(PII_KEY.decode()))) == PII_KEY
    with pytest.raises(PiiKeyMissingError, match="AMANAH_PII_KEY is not set"):
        pii_key(Settings(pii_key=None))


# --- the store -------------------------------------------------------------------------


def _partner(engine: Engine, name: str = "Fintech Satu") -> Partner:
    with sessions(engine).begin() as session:
        return add_partner(session, name, actor=ACTOR, at=T0)


def _everything_stored(engine: Engine) -> str:
    """Every value of every row of every table, as one text to search."""
    parts: list[str] = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def _sqlite_bytes(url: str) -> bytes:
    """The SQLite database's files (main and write-ahead log) as bytes; empty elsewhere."""
    if not url.startswith("sqlite:///"):
        return b""
    file = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (file, Path(f"{file}-wal")) if p.exists())


def _actions(engine: Engine) -> list[tuple[str, str, str]]:
    with sessions(engine)() as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject).order_by(AuditEntry.seq)
        )
        return [(r.actor, r.action, r.subject) for r in rows]


def _intact(engine: Engine) -> int:
    with sessions(engine)() as session:
        result = verify(session)
    assert result.intact, result.detail
    return result.entries


def test_only_the_key_hash_is_stored(engine: Engine, store_url: str) -> None:
    partner = _partner(engine)
    with sessions(engine).begin() as session:
        row, key = create_key(session, partner.id, ["scores:write"], actor=ACTOR, at=T0)
    stored = _everything_stored(engine)
    assert row.prefix in stored and hash_api_key(key) in stored
    secret = key[PREFIX_LENGTH + 1 :]
    assert key not in stored and secret not in stored
    raw = _sqlite_bytes(store_url)
    assert secret.encode() not in raw
    if store_url.startswith("sqlite"):  # the raw scan sees what is there
        assert hash_api_key(key).encode() in raw
    with sessions(engine)() as session:
        (found,) = session.scalars(select(ApiKey)).all()
    assert found.key_hash == hash_api_key(key) and found.scopes == ["scores:write"]


def test_authenticate_refuses_revoked_wrong_and_unknown_keys(engine: Engine) -> None:
    partner = _partner(engine)
    with sessions(engine).begin() as session:
        row, key = create_key(session, partner, ["scores:read", "scores:write"], actor=ACTOR, at=T0)
        _, other = create_key(session, partner, ["admin"], actor=ACTOR, at=T0)
    with sessions(engine)() as session:
        principal = authenticate(session, key)
        assert principal is not None
        assert principal.partner.id == partner.id
        assert principal.scopes == {Scope.SCORES_READ, Scope.SCORES_WRITE}
        wrong_secret = key[: PREFIX_LENGTH + 1] + new_api_key()[0][PREFIX_LENGTH + 1 :]
        assert authenticate(session, wrong_secret) is None  # right prefix, wrong secret
        unknown_prefix = "amk_live_00000000" + key[PREFIX_LENGTH:]
        assert authenticate(session, unknown_prefix) is None
        for garbage in ("", "Bearer " + key, row.prefix, row.key_hash):
            assert authenticate(session, garbage) is None
    with sessions(engine).begin() as session:
        revoked = revoke_key(session, row.prefix, actor=ACTOR, at=T0 + timedelta(hours=1))
        assert revoked.revoked_at == T0 + timedelta(hours=1)
        revoke_key(session, row.prefix, actor=ACTOR)  # again: nothing changes
    with sessions(engine)() as session:
        assert authenticate(session, key) is None
        assert authenticate(session, other) is not None  # the partner's other key still works
    with sessions(engine).begin() as session:
        disabled = session.get(Partner, partner.id)
        assert disabled is not None
        disabled.disabled_at = T0
    with sessions(engine)() as session:
        assert authenticate(session, other) is None
    with sessions(engine).begin() as session, pytest.raises(UnknownKeyError, match="amk_live_"):
        revoke_key(session, "amk_live_00000000", actor=ACTOR)
    assert [a for _, a, _ in _actions(engine)] == [
        "partner.add", "key.create", "key.create", "key.revoke",
    ]  # fmt: skip


def test_create_key_refuses_unknown_partners_and_scopes(engine: Engine) -> None:
    partner = _partner(engine)
    with sessions(engine)() as session:
        with pytest.raises(UnknownPartnerError, match="ptn_missing"):
            create_key(session, "ptn_missing", ["admin"], actor=ACTOR)
        with pytest.raises(ScopeError, match="'score:write'"):
            create_key(session, partner.id, ["score:write"], actor=ACTOR)
        with pytest.raises(RepoValueError, match="exists already"):
            add_partner(session, " Fintech  Satu ", actor=ACTOR)
    assert _intact(engine) == 1


def test_list_keys_by_partner(engine: Engine) -> None:
    one, two = _partner(engine, "Satu"), _partner(engine, "Dua")
    with sessions(engine).begin() as session:
        a, _ = create_key(session, one, ["admin"], actor=ACTOR, at=T0)
        b, _ = create_key(session, two, ["batches"], actor=ACTOR, at=T0 + timedelta(seconds=1))
    with sessions(engine)() as session:
        assert [k.prefix for k in list_keys(session)] == [a.prefix, b.prefix]
        assert [k.prefix for k in list_keys(session, two.id)] == [b.prefix]
        with pytest.raises(UnknownPartnerError):
            list_keys(session, "ptn_missing")


def test_grants(engine: Engine) -> None:
    one, two = _partner(engine, "Satu"), _partner(engine, "Dua")
    with sessions(engine).begin() as session:
        grant(session, one, "KMP-001", actor=ACTOR, at=T0)
        grant(session, one.id, "KMP-001", actor=ACTOR, at=T0)  # again: nothing changes
    with sessions(engine)() as session:
        assert is_granted(session, one, "KMP-001")
        assert not is_granted(session, one, "KMP-002")
        assert not is_granted(session, two, "KMP-001")
        with pytest.raises(UnknownPartnerError):
            grant(session, "ptn_missing", "KMP-001", actor=ACTOR)
    assert [a for _, a, _ in _actions(engine)] == ["partner.add", "partner.add", "grant.add"]


def test_consent_is_in_force_only_for_its_partner_member_purpose_and_time(
    engine: Engine,
) -> None:
    one, two = _partner(engine, "Satu"), _partner(engine, "Dua")
    member = member_ref_from_nik(NIK, PII_KEY).ref
    other_member = member_ref_from_nik("3174012501900004", PII_KEY).ref
    expires = T0 + timedelta(days=30)
    with sessions(engine).begin() as session:
        consent = give_consent(
            session, one, member, "KMP-001", "credit_scoring", expires, actor=one.id, at=T0
        )
    assert consent.id.startswith("cns_")
    inside = T0 + timedelta(days=1)
    with sessions(engine)() as session:

        def active(partner: Partner, ref: str, purpose: str, at: datetime) -> str | None:
            found = active_consent(session, partner, ref, purpose, at)
            return found.id if found is not None else None

        assert active(one, member, "credit_scoring", inside) == consent.id
        assert active(one, member, "credit_scoring", T0) == consent.id
        assert active(one, member, "credit_scoring", T0 - timedelta(seconds=1)) is None
        assert active(one, member, "credit_scoring", expires - timedelta(microseconds=1))
        assert active(one, member, "credit_scoring", expires) is None  # expired
        assert active(two, member, "credit_scoring", inside) is None  # another partner's
        assert active(one, member, "marketing", inside) is None  # another purpose
        assert active(one, other_member, "credit_scoring", inside) is None
        with pytest.raises(UnknownConsentError):
            revoke_consent(session, two, consent.id, actor=two.id)  # not two's to revoke
    revoked_at = T0 + timedelta(days=2)
    with sessions(engine).begin() as session:
        revoke_consent(session, one, consent.id, actor=one.id, at=revoked_at)
        revoke_consent(session, one, consent.id, actor=one.id)  # again: nothing changes
    with sessions(engine)() as session:
        assert active_consent(session, one, member, "credit_scoring", revoked_at) is None
        assert active_consent(session, one, member, "credit_scoring", inside) is not None
        assert active_consent(session, one, member, "credit_scoring") is None  # now
    assert _actions(engine)[2:] == [
        (one.id, "consent.give", consent.id), (one.id, "consent.revoke", consent.id),
    ]  # fmt: skip
    assert _intact(engine) == 4


def test_consent_refuses_a_clear_member_reference_and_a_past_expiry(engine: Engine) -> None:
    partner = _partner(engine)
    member = member_ref_from_nik(NIK, PII_KEY).ref
    with sessions(engine)() as session:
        with pytest.raises(RepoValueError, match="keyed hash") as clear:
            give_consent(
                session, partner, NIK, "KMP-001", "credit_scoring", T0 + timedelta(days=1),
                actor=ACTOR, at=T0,
            )  # fmt: skip
        assert NIK not in str(clear.value)
        with pytest.raises(RepoValueError, match="not after"):
            give_consent(
                session, partner, member, "KMP-001", "credit_scoring", T0, actor=ACTOR, at=T0
            )
        with pytest.raises(RepoValueError, match="purpose"):
            give_consent(
                session, partner, member, "KMP-001", "Credit Scoring!", T0 + timedelta(days=1),
                actor=ACTOR, at=T0,
            )  # fmt: skip


def test_no_nik_or_key_in_clear_anywhere_after_a_consent_given_by_nik(
    engine: Engine, store_url: str
) -> None:
    partner = _partner(engine)
    with sessions(engine).begin() as session:
        _, key = create_key(session, partner, ["consents"], actor=ACTOR, at=T0)
        principal = authenticate(session, key)
        assert principal is not None
        ref = member_ref_from_nik("3174-0125-0190-0003", PII_KEY, "KMP-001")
        give_consent(
            session, principal.partner, ref.ref, "KMP-001", "credit_scoring",
            T0 + timedelta(days=90), actor=principal.partner.id, at=T0,
        )  # fmt: skip
    stored = _everything_stored(engine)
    assert keyed_hash(NIK, PII_KEY) in stored  # the keyed hash is what is kept
    assert NIK not in stored and key not in stored
    assert NIK.encode() not in _sqlite_bytes(store_url)
    assert _intact(engine) == 3


def _session_of(store_url: str) -> Iterator[Session]:
    made = make_engine(store_url)
    try:
        with sessions(made)() as session:
            yield session
    finally:
        made.dispose()


# --- the command line ------------------------------------------------------------------


def _one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


def test_partner_and_key_commands_end_to_end(store_url: str) -> None:
    # an empty database: the first command creates the store
    added = runner.invoke(
        app, ["partners", "add", "Fintech Satu", "--grant", "KMP-001", "--grant", "KMP-002",
              "--url", store_url],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    match = re.search(r"partner (ptn_[0-9a-f]{16}) \(Fintech Satu\); granted KMP-001, KMP-002",
                      added.output)  # fmt: skip
    assert match, added.output
    partner_id = match.group(1)

    created = runner.invoke(
        app, ["keys", "create", "--partner", partner_id, "--scope", "scores:write",
              "--scope", "consents", "--url", store_url],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    (key,) = re.findall(r"amk_live_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", created.output)  # once
    assert "cannot be shown again" in created.output
    prefix = key[:PREFIX_LENGTH]

    for session in _session_of(store_url):
        principal = authenticate(session, key)
        assert principal is not None and principal.partner.id == partner_id
        assert principal.scopes == {Scope.SCORES_WRITE, Scope.CONSENTS}
        assert is_granted(session, partner_id, "KMP-002")

    listed = runner.invoke(app, ["keys", "list", "--partner", partner_id, "--url", store_url])
    assert listed.exit_code == 0, listed.output
    assert prefix in listed.output and partner_id in listed.output
    assert "scores:write, consents" in listed.output
    assert key not in listed.output and key[PREFIX_LENGTH:] not in listed.output
    assert hash_api_key(key) not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", prefix, "--url", store_url])
    assert revoked.exit_code == 0, revoked.output
    assert f"key {prefix} of partner {partner_id} revoked" in revoked.output
    for session in _session_of(store_url):
        assert authenticate(session, key) is None
        actions = [
            (e.actor.startswith("cli:"), e.action)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]
        assert actions == [
            (True, "partner.add"), (True, "grant.add"), (True, "grant.add"),
            (True, "key.create"), (True, "key.revoke"),
        ]  # fmt: skip
        assert verify(session).intact
    relisted = runner.invoke(app, ["keys", "list", "--url", store_url])
    assert relisted.exit_code == 0 and prefix in relisted.output
    (row,) = [line for line in relisted.output.splitlines() if prefix in line]
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)) == 2  # created, revoked


def test_reading_commands_never_create_a_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/absent.db"
    for args in (["keys", "list"], ["keys", "revoke", "amk_live_00000000"]):
        _one_line_error(runner.invoke(app, [*args, "--url", url]), "no store at", "db upgrade")
    assert not (tmp_path / "absent.db").exists()


def test_partner_and_key_commands_name_bad_input_in_one_line(store_url: str) -> None:
    added = runner.invoke(app, ["partners", "add", "Satu", "--url", store_url])
    partner_id = added.output.split()[1]
    bad = [
        (["keys", "create", "--partner", "ptn_missing", "--scope", "admin"], ["ptn_missing"]),
        (["keys", "create", "--partner", partner_id, "--scope", "score:write"],
         ["--scope", "unknown scope 'score:write'"]),
        (["keys", "revoke", "amk_live_00000000"], ["unknown key prefix", "amk_live_00000000"]),
        (["keys", "list", "--partner", "ptn_missing"], ["ptn_missing"]),
        (["partners", "add", "Satu"], ["exists already"]),
    ]  # fmt: skip
    for args, words in bad:
        _one_line_error(runner.invoke(app, [*args, "--url", store_url]), *words)
    for session in _session_of(store_url):
        assert list_keys(session) == []
        assert [e.action for e in session.scalars(select(AuditEntry))] == ["partner.add"]
