"""Who the officer at the console is: officer accounts, password login with lockout, and
console sessions.

Store functions in the style of `serving.store.repo`: the session is passed in, the caller
commits, and each event appends its audit entry (`serving.audit.append`) in the same
transaction. An audit entry names an officer by id only; never a password, its hash, a
session token or a typed username (a failed login for an unknown username has subject "-").

Passwords are argon2id hashes (argon2-cffi's defaults). Session tokens are 256-bit random
strings, so the store keeps their SHA-256 only (a slow hash protects guessable secrets,
not random ones: see `serving.security.hash_api_key`); the table's primary key is that
hash, so a token is found by one indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from features.ledger.contracts import SAFE_ID_PATTERN
from serving.audit import AuditEvent, append, digest
from serving.store.repo import utc_at
from serving.store.tables import ID_LENGTH, NAME_LENGTH, ConsoleSession, Officer


class OfficerRole(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"


MAX_FAILED_LOGINS = 5  # wrong passwords in a row before the account locks
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)  # a session ends after this long without a request
SESSION_LIFETIME = timedelta(hours=8)  # and after this long whatever happens
# last_seen_at is written at most this often, so a page's many requests cost one write;
# idleness is therefore measured up to this much early
SEEN_EVERY = timedelta(minutes=1)
MIN_PASSWORD = 10
USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{3,64}$")
COOPERATIVE_PATTERN = re.compile(SAFE_ID_PATTERN)
OFFICER_ID_BYTES = 8  # off_ + 16 hex: typed at the command line, not a secret
TOKEN_BYTES = 32
CONSOLE_ACTOR = "console"  # the actor of a login attempt: nobody is known to be there yet
UNKNOWN_SUBJECT = "-"

_HASHER = PasswordHasher()
_ROLES = ", ".join(role.value for role in OfficerRole)


class OfficerError(ValueError):
    """A value an officer account cannot have; `field` names the offending field. The
    message never repeats a password."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


# --- passwords --------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, with its salt and parameters in the string."""
    return _HASHER.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` hashes; False for a malformed hash too."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Checked against when no officer has the username, so an unknown name costs the same
    argon2 verification as a known one (hashed once, on first use)."""
    return hash_password(secrets.token_urlsafe(TOKEN_BYTES))


# --- accounts ---------------------------------------------------------------------------


def _username(username: str) -> str:
    chosen = username.strip().lower()
    if not USERNAME_PATTERN.match(chosen):
        # not echoed: it may be the officer's name
        raise OfficerError(
            "username", "must be 3 to 64 characters: letters a-z, digits, '.', '_' or '-'"
        )
    return chosen


def _cooperative_id(cooperative_id: str) -> str:
    """The ledger's id kind (`features.ledger.contracts.SAFE_ID_PATTERN`) within the
    store's id length; the store has no table of cooperatives to check it against."""
    chosen = cooperative_id.strip()
    if len(chosen) > ID_LENGTH or not COOPERATIVE_PATTERN.match(chosen):
        raise OfficerError(
            "cooperative_id",
            f"must be 1 to {ID_LENGTH} characters: letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit; got {chosen[:ID_LENGTH]!r}",
        )
    return chosen


def _role(role: OfficerRole | str) -> OfficerRole:
    try:
        return OfficerRole(role)
    except ValueError:
        raise OfficerError("role", f"must be one of {_ROLES}; got {str(role)[:16]!r}") from None


def add_officer(
    session: Session,
    *,
    cooperative_id: str,
    username: str,
    display_name: str,
    password: str,
    role: OfficerRole | str,
    actor: str,
    at: datetime | None = None,
) -> Officer:
    """A new officer of `cooperative_id`. OfficerError for a malformed or taken username,
    an empty or too long display name, a password shorter than 10 characters, an unknown
    role or a malformed cooperative id. Audited as "officer.create" with a digest of the
    account's fields (as `add_partner` digests a name), never the password."""
    coop = _cooperative_id(cooperative_id)
    name = _username(username)
    shown = " ".join(display_name.split())
    if not shown or len(shown) > NAME_LENGTH:
        raise OfficerError("display_name", f"must be 1 to {NAME_LENGTH} characters")
    if len(password) < MIN_PASSWORD:
        raise OfficerError("password", f"must be at least {MIN_PASSWORD} characters")
    chosen_role = _role(role)
    if session.scalar(select(Officer.id).where(Officer.username == name)) is not None:
        raise OfficerError("username", "is taken by another officer")
    when = utc_at(at)
    officer = Officer(
        id=f"off_{secrets.token_hex(OFFICER_ID_BYTES)}", cooperative_id=coop, username=name,
        display_name=shown, role=chosen_role.value, password_hash=hash_password(password),
        failed_logins=0, locked_until=None, created_at=when, disabled_at=None,
    )  # fmt: skip
    session.add(officer)
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action="officer.create", subject=officer.id,
            input_digest=digest({
                "cooperative_id": coop, "username": name, "display_name": shown,
                "role": chosen_role.value,
            }),
            at=when,
        ),
    )  # fmt: skip
    return officer


def list_officers(session: Session, cooperative_id: str | None = None) -> list[Officer]:
    """Officers, oldest first, of one cooperative or of all."""
    query = select(Officer).order_by(Officer.created_at, Officer.id)
    if cooperative_id is not None:
        query = query.where(Officer.cooperative_id == cooperative_id.strip())
    return list(session.scalars(query))


# --- login ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """A login attempt's answer: "ok" with the officer; "bad" (unknown username, wrong
    password or disabled account: the page says the same for all three); "locked" with
    the time the lock ends."""

    status: Literal["ok", "bad", "locked"]
    officer: Officer | None
    locked_until: datetime | None


_BAD = LoginOutcome("bad", None, None)


def _audit_login(
    session: Session, action: str, subject: str, reason: str | None, when: datetime
) -> None:
    actor = subject if action == "officer.login" else CONSOLE_ACTOR
    reason_digest = digest({"reason": reason}) if reason is not None else None
    append(
        session,
        AuditEvent(
            actor=actor, action=action, subject=subject, input_digest=reason_digest, at=when
        ),
    )


def login(
    session: Session, username: str, password: str, *, now: datetime | None = None
) -> LoginOutcome:
    """Check a typed username and password. Every attempt is audited once:
    "officer.login" on success, "officer.locked" for the wrong password that locks the
    account, "officer.login_failed" otherwise (its input digest is that of
    {"reason": "unknown" | "disabled" | "password" | "locked"}). A locked account answers
    "locked" without its password being checked. The officer's row is locked for the
    attempt (PostgreSQL), so concurrent wrong passwords are all counted. Caller commits."""
    when = utc_at(now)
    name = username.strip().lower()
    officer = (
        session.scalar(select(Officer).where(Officer.username == name).with_for_update())
        if USERNAME_PATTERN.match(name)
        else None
    )
    if officer is None:
        password_matches(_dummy_hash(), password)
        _audit_login(session, "officer.login_failed", UNKNOWN_SUBJECT, "unknown", when)
        return _BAD
    if officer.disabled_at is not None:
        password_matches(officer.password_hash, password)  # the same time as any other
        _audit_login(session, "officer.login_failed", officer.id, "disabled", when)
        return _BAD
    if officer.locked_until is not None and officer.locked_until > when:
        _audit_login(session, "officer.login_failed", officer.id, "locked", when)
        return LoginOutcome("locked", None, officer.locked_until)
    if not password_matches(officer.password_hash, password):
        failures = officer.failed_logins + 1
        if failures >= MAX_FAILED_LOGINS:
            officer.failed_logins, officer.locked_until = 0, when + LOCKOUT
            _audit_login(session, "officer.locked", officer.id, None, when)
            return LoginOutcome("locked", None, officer.locked_until)
        officer.failed_logins = failures
        _audit_login(session, "officer.login_failed", officer.id, "password", when)
        return _BAD
    officer.failed_logins, officer.locked_until = 0, None
    if _HASHER.check_needs_rehash(officer.password_hash):
        officer.password_hash = hash_password(password)
    _audit_login(session, "officer.login", officer.id, None, when)
    return LoginOutcome("ok", officer, None)


# --- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedSession:
    """A new console session: `token` goes into the session cookie and `csrf_token` into
    the pages' forms; neither is shown again (the store keeps the token's hash)."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class CurrentOfficer:
    """The officer behind a request, as plain values: safe to use after the database
    session is closed."""

    officer_id: str
    cooperative_id: str
    username: str
    display_name: str
    role: OfficerRole
    csrf_token: str
    session_id: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    session: Session, officer: Officer, *, now: datetime | None = None
) -> OpenedSession:
    """Start a console session for `officer` (after `login` said "ok"); it lasts
    SESSION_LIFETIME at most. OfficerError for a disabled officer. Caller commits."""
    if officer.disabled_at is not None:
        raise OfficerError("officer", "is disabled")
    when = utc_at(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES)
    expires = when + SESSION_LIFETIME
    session.add(
        ConsoleSession(
            id=_token_hash(token), officer_id=officer.id, csrf_token=csrf, created_at=when,
            last_seen_at=when, expires_at=expires, ended_at=None,
        )
    )  # fmt: skip
    session.flush()
    return OpenedSession(token, csrf, expires)


# built once: this runs on every console request (see `serving.store.repo`)
_SESSION_AND_OFFICER = (
    select(ConsoleSession, Officer)
    .join(Officer, Officer.id == ConsoleSession.officer_id)
    .where(ConsoleSession.id == bindparam("id"))
)


def current_officer(
    session: Session, token: str | None, *, now: datetime | None = None
) -> CurrentOfficer | None:
    """The officer whose session `token` is; None when the token is missing or unknown,
    the session ended, passed its `expires_at`, idle longer than SESSION_IDLE, or its
    officer is disabled. Records the request in `last_seen_at` (at most once every
    SEEN_EVERY). Caller commits."""
    if not token:
        return None
    when = utc_at(now)
    found = session.execute(_SESSION_AND_OFFICER, {"id": _token_hash(token)}).first()
    if found is None:
        return None
    row, officer = found[0], found[1]
    if row.ended_at is not None or row.expires_at <= when:
        return None
    if when - row.last_seen_at > SESSION_IDLE or officer.disabled_at is not None:
        return None
    if when - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = when
    return CurrentOfficer(
        officer_id=officer.id, cooperative_id=officer.cooperative_id,
        username=officer.username, display_name=officer.display_name,
        role=OfficerRole(officer.role), csrf_token=row.csrf_token, session_id=row.id,
    )  # fmt: skip


def close_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    """End the session of `token` (logout), audited as "officer.logout". An unknown or
    already ended session changes nothing. Caller commits."""
    if not token:
        return
    row = session.get(ConsoleSession, _token_hash(token))
    if row is None or row.ended_at is not None:
        return
    when = utc_at(now)
    row.ended_at = when
    append(
        session,
        AuditEvent(actor=row.officer_id, action="officer.logout", subject=row.officer_id, at=when),
    )


def csrf_matches(expected: str, presented: str | None) -> bool:
    """Whether a form's CSRF token is the session's, compared in constant time; False
    when either is missing or empty."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))
