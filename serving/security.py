"""API keys, scopes and member references: the pure half of the API's security.

An API key reads `amk_live_<8 hex>_<secret>`. The first 17 characters (`amk_live_` and the
8-hex id) are its prefix: not secret, stored and shown in `amanah keys list`, so a key found
in a log or a repository is recognised by its look and its row found by its prefix. The
secret is `secrets.token_urlsafe(32)`: 32 random bytes, 256 bits. Only SHA-256 of the whole
key is stored.

A member arrives as (cooperative id, member number) or as a NIK and is turned at once into
a keyed hash (HMAC-SHA256 with `AMANAH_PII_KEY`, `features.identity.keyed_hash`); only the
hash is stored or passed on. A NIK's hash is the ledger's own `nik_hash` (same key, same
normalised digits), so a consent given by NIK can be matched to the member's profile.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from features.identity import keyed_hash, normalise_nik
from features.settings import Settings, get_settings

KEY_MARK = "amk_live_"
KEY_ID_LENGTH = 8  # hex characters after the mark: 32 bits, enough to find one row
PREFIX_LENGTH = len(KEY_MARK) + KEY_ID_LENGTH
SECRET_BYTES = 32
KEY_PATTERN = re.compile(rf"^{KEY_MARK}[0-9a-f]{{{KEY_ID_LENGTH}}}_[A-Za-z0-9_-]{{43}}$")
PREFIX_PATTERN = re.compile(rf"^{KEY_MARK}[0-9a-f]{{{KEY_ID_LENGTH}}}$")
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
COOPERATIVE_ID_MAX = 40  # serving.store.tables.ID_LENGTH
MEMBER_NUMBER_MAX = 64


class Scope(StrEnum):
    """What a key may do; each route requires one."""

    SCORES_WRITE = "scores:write"
    SCORES_READ = "scores:read"
    BATCHES = "batches"
    CONSENTS = "consents"
    ADMIN = "admin"


class ScopeError(ValueError):
    """A scope list names a scope that does not exist, or none at all."""


class MemberRefError(ValueError):
    """A member reference that cannot be used; `field` names the offending field. The
    message never repeats the value (it may be a NIK)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


class PiiKeyMissingError(RuntimeError):
    """`AMANAH_PII_KEY` is not set, so no member reference can be hashed."""


# --- API keys ---------------------------------------------------------------------------


def hash_api_key(key: str) -> str:
    """SHA-256 of the whole key, 64 lowercase hex characters.

    A plain fast hash is right here and argon2/bcrypt are not: those slow down guessing of
    low-entropy secrets (passwords); a 256-bit random secret cannot be guessed however fast
    the hash, and a slow hash would only cost every request its milliseconds."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """A fresh key as (key, prefix, key_hash). Show `key` once; store `prefix` and
    `key_hash` only."""
    prefix = KEY_MARK + secrets.token_hex(KEY_ID_LENGTH // 2)
    key = f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return key, prefix, hash_api_key(key)


def key_prefix(presented: str) -> str | None:
    """The prefix of a presented key, or None when it does not have a key's shape (so a
    wrong string never reaches the database)."""
    return presented[:PREFIX_LENGTH] if KEY_PATTERN.match(presented) else None


def is_prefix(value: str) -> bool:
    """Whether `value` has the shape of a key prefix (`amk_live_` and 8 hex characters)."""
    return PREFIX_PATTERN.match(value) is not None


def verify_api_key(presented: str, stored_hash: str) -> bool:
    """Whether `presented` is the key whose hash is `stored_hash`, in constant time."""
    return hmac.compare_digest(hash_api_key(presented), stored_hash)


# --- scopes -----------------------------------------------------------------------------

SCOPE_NAMES = ", ".join(scope.value for scope in Scope)


def parse_scope(value: str) -> Scope:
    """One scope by its name ("scores:write"); ScopeError naming an unknown one."""
    try:
        return Scope(value.strip())
    except ValueError:
        raise ScopeError(f"unknown scope {value!r}; choose from {SCOPE_NAMES}") from None


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """Scopes by name, duplicates dropped, in declaration order. ScopeError names the
    first unknown one, or says that none was given."""
    chosen = {parse_scope(value) for value in values}
    if not chosen:
        raise ScopeError(f"give at least one scope; choose from {SCOPE_NAMES}")
    return tuple(scope for scope in Scope if scope in chosen)


# --- member references ------------------------------------------------------------------

MemberRefKind = Literal["nik", "member_number"]


@dataclass(frozen=True)
class MemberRef:
    """A member as the store knows them: the keyed hash (`ref`, 64 hex characters), how
    the partner named them, and the cooperative when it was given."""

    ref: str
    kind: MemberRefKind
    cooperative_id: str | None = None


def pii_key(settings: Settings | None = None) -> bytes:
    """The PII key's bytes; PiiKeyMissingError naming the setting when it is not set."""
    key = (settings or get_settings()).pii_key
    if key is None:
        raise PiiKeyMissingError(
            "AMANAH_PII_KEY is not set: member references cannot be hashed; generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return key.get_secret_value().encode("utf-8")


def cooperative_id_checked(cooperative_id: str, field: str = "cooperative_id") -> str:
    """A cooperative id stripped of surrounding spaces; MemberRefError when empty or too long."""
    chosen = cooperative_id.strip()
    if not chosen:
        raise MemberRefError(field, "must not be empty")
    if len(chosen) > COOPERATIVE_ID_MAX:
        raise MemberRefError(field, f"must be at most {COOPERATIVE_ID_MAX} characters")
    return chosen


def member_ref_from_nik(nik: str, key: bytes, cooperative_id: str | None = None) -> MemberRef:
    """A member named by NIK: 16 digits (spaces, dots and dashes allowed between them).
    The hash is the ledger's `nik_hash` for the same key."""
    digits = normalise_nik(nik)
    if digits is None:
        found = sum(c.isdigit() for c in nik)
        raise MemberRefError("nik", f"must be 16 digits; got {found} digits")
    coop = cooperative_id_checked(cooperative_id) if cooperative_id is not None else None
    return MemberRef(keyed_hash(digits, key), "nik", coop)


def member_ref_from_number(cooperative_id: str, member_number: str, key: bytes) -> MemberRef:
    """A member named by their cooperative's member number (nomor anggota). The hashed
    text is tagged `member:` and carries the cooperative, so it can never equal a NIK's
    hash nor another cooperative's member with the same number."""
    coop = cooperative_id_checked(cooperative_id)
    number = member_number.strip()
    if not number:
        raise MemberRefError("member_number", "must not be empty")
    if len(number) > MEMBER_NUMBER_MAX:
        raise MemberRefError("member_number", f"must be at most {MEMBER_NUMBER_MAX} characters")
    return MemberRef(keyed_hash(f"member:{coop}:{number}", key), "member_number", coop)


def is_member_ref(value: str) -> bool:
    """Whether `value` looks like a keyed hash (64 lowercase hex characters), as every
    stored `member_ref` must: a NIK or a member number in clear never does."""
    return HASH_PATTERN.match(value) is not None
