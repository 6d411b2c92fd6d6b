"""The store's tables as SQLAlchemy 2 typed declarative models.

Types are portable so one migration runs on SQLite and PostgreSQL: JSON columns, timestamps
as timezone-aware UTC (`UTCDateTime`), amounts in whole Rupiah as big integers, and hashes
as 64 lowercase hex characters. No NIK, phone number or name is stored anywhere: a member
is referenced by `member_ref`, the keyed hash of `features.identity.keyed_hash` (HMAC-SHA256
with the PII key from the environment), and API keys are kept only as a prefix (to find
the row) and a hash. Officers of the console are named (they sign decisions), their
passwords kept only as argon2 hashes and their session tokens only as SHA-256 hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HASH_LENGTH = 64  # SHA-256 / HMAC-SHA256 as lowercase hex
ID_LENGTH = 40  # public ids such as "sc_" + 32 hex characters
NAME_LENGTH = 200

# constraint names fixed by convention, so migrations can name what they alter or drop
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, always returned in UTC.

    PostgreSQL stores `timestamptz`; SQLite has no time zone, so the value is written as
    naive UTC and given back its UTC zone on reading. A naive datetime is refused on
    writing: its zone would be a guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware UTC one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Partner(Base):
    """A fintech or bank partner calling the API."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ApiKey(Base):
    """A partner's API key: the recognisable prefix finds the row, the hash checks the rest;
    the key itself is shown once at creation and never stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    scopes: Mapped[list[str]]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Grant(Base):
    """A partner may score members of this cooperative (one row per partner and
    cooperative)."""

    __tablename__ = "grants"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    granted_at: Mapped[datetime]


class Consent(Base):
    """A member's consent for one partner and one purpose (UU PDP: explicit, per purpose,
    withdrawable); `id` is the consent reference a partner sends with a score request."""

    __tablename__ = "consents"
    __table_args__ = (Index(None, "partner_id", "member_ref", "purpose"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    member_ref: Mapped[str] = mapped_column(String(HASH_LENGTH))
    cooperative_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Application(Base):
    """A loan request as received (from a partner or an officer); amounts in whole Rupiah."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    officer: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    cooperative_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    member_ref: Mapped[str] = mapped_column(String(HASH_LENGTH), index=True)
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    tenor_months: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(64))
    declared_income: Mapped[int | None] = mapped_column(BigInteger)
    declared_expenses: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    request_id: Mapped[str] = mapped_column(String(64))


class Score(Base):
    """One score as answered: the figures to query by, and the whole answer as JSON."""

    __tablename__ = "scores"
    __table_args__ = (Index(None, "partner_id", "scored_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"))
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    member_ref: Mapped[str] = mapped_column(String(HASH_LENGTH), index=True)
    cooperative_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    request_digest: Mapped[str] = mapped_column(String(HASH_LENGTH))
    model_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model_version: Mapped[str] = mapped_column(String(32))
    model_alias: Mapped[str | None] = mapped_column(String(32))
    pd: Mapped[float] = mapped_column(Float)
    score: Mapped[int]
    grade: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(16))
    answer: Mapped[dict[str, Any]]
    scored_at: Mapped[datetime]
    request_id: Mapped[str] = mapped_column(String(64))


class Decision(Base):
    """What was decided on a score, by whom; `by_person` says whether a person decided
    (UU PDP: a member may object to decisions made solely by automated processing)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_id: Mapped[str] = mapped_column(ForeignKey("scores.id"), index=True)
    decided_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    by_person: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[str] = mapped_column(String(16))
    overridden: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime]


class Officer(Base):
    """A loan officer or supervisor of one cooperative, who logs in to the console.
    `username` is stored lower-case; the password only as an argon2 hash. After
    `serving.officers.MAX_FAILED_LOGINS` wrong passwords in a row `locked_until` is set."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    cooperative_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """An officer's console login: `id` is the SHA-256 of the session token (the cookie's
    value), so a copy of the table opens no session. It ends at `expires_at` whatever
    happens, after `serving.officers.SESSION_IDLE` without a request, or at logout."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The stored answer to a POST with an `Idempotency-Key`: the same key and body replay
    `response`; the same key with another body digest is a conflict."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("partner_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    key: Mapped[str] = mapped_column(String(255))
    body_digest: Mapped[str] = mapped_column(String(HASH_LENGTH))
    status_code: Mapped[int]  # the HTTP status of the stored response
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """One link of the hash chain (see `serving.audit`): `hash` is SHA-256 over
    `prev_hash` and `canonical`, the entry's own canonical JSON. Unique `prev_hash` means
    no two entries can follow the same one: the chain cannot fork even if a writer skips
    the append lock."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model_version: Mapped[str | None] = mapped_column(String(32))
    input_digest: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    output_digest: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    canonical: Mapped[str] = mapped_column(Text)
