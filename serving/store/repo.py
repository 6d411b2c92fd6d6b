"""Partners, API keys, grants and consents on a Session (the caller owns the transaction).

Each mutation appends its audit entry (`serving.audit.append`) in the same transaction, so
a key or a consent and its audit entry commit together or not at all. An audit entry names
its subject by public id (partner id, key prefix, consent id) and carries digests; never a
key, a key's hash, a NIK or a member number.

Not-found errors are the same whether a thing is missing or belongs to another partner, so
an answer never tells a partner what exists outside its own tenancy.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from serving.audit import AuditEvent, append, digest
from serving.security import (
    Scope,
    cooperative_id_checked,
    hash_api_key,
    is_member_ref,
    key_prefix,
    new_api_key,
    parse_scopes,
    verify_api_key,
)
from serving.store.tables import NAME_LENGTH, ApiKey, Consent, Grant, Partner

PURPOSE_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
NEW_PREFIX_ATTEMPTS = 5
# random ids: a partner's is typed at the command line (ptn_ + 16 hex); a consent
# reference is handed to partners, so it is unguessable (cns_ + 32 hex)
PARTNER_ID_BYTES = 8
CONSENT_ID_BYTES = 16
# compared against when no key has the presented prefix, so an unknown prefix costs the
# same hash and comparison as a known one
_NO_KEY_HASH = hash_api_key("amk_live_00000000_no-such-key")


class NotFoundError(LookupError):
    """The partner, key or consent asked for does not exist (or is not the caller's)."""


class UnknownPartnerError(NotFoundError):
    pass


class UnknownKeyError(NotFoundError):
    pass


class UnknownConsentError(NotFoundError):
    pass


class RepoValueError(ValueError):
    """A value the store refuses (a duplicate name, a malformed purpose, a past expiry)."""


class Principal(NamedTuple):
    """Who a presented key belongs to and what it may do."""

    partner: Partner
    scopes: frozenset[Scope]


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()} given; use an aware UTC one")
    return at.astimezone(UTC)


def _public_id(mark: str, random_bytes: int) -> str:
    return f"{mark}_{secrets.token_hex(random_bytes)}"


# --- partners ---------------------------------------------------------------------------


def add_partner(session: Session, name: str, *, actor: str, at: datetime | None = None) -> Partner:
    """A new partner named `name` (unique, at most 200 characters)."""
    chosen = " ".join(name.split())
    if not chosen or len(chosen) > NAME_LENGTH:
        raise RepoValueError(f"partner name must be 1 to {NAME_LENGTH} characters")
    if session.scalar(select(Partner.id).where(Partner.name == chosen)) is not None:
        raise RepoValueError(f"a partner named {chosen!r} exists already")
    when = _now(at)
    partner = Partner(
        id=_public_id("ptn", PARTNER_ID_BYTES), name=chosen, created_at=when, disabled_at=None
    )
    session.add(partner)
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action="partner.add", subject=partner.id,
            input_digest=digest({"name": chosen}), at=when,
        ),
    )  # fmt: skip
    return partner


def get_partner(session: Session, partner: Partner | str) -> Partner:
    """The partner itself, or the one with this id; UnknownPartnerError otherwise."""
    if isinstance(partner, Partner):
        return partner
    found = session.get(Partner, partner)
    if found is None:
        raise UnknownPartnerError(f"unknown partner {partner!r}")
    return found


def _partner_id(partner: Partner | str) -> str:
    return partner.id if isinstance(partner, Partner) else partner


# --- API keys ---------------------------------------------------------------------------


def create_key(
    session: Session,
    partner: Partner | str,
    scopes: Iterable[str],
    *,
    actor: str,
    at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for `partner` with `scopes` (ScopeError for an unknown one): the row,
    which holds its prefix and hash, and the key itself, to be shown once and forgotten."""
    owner = get_partner(session, partner)
    chosen = parse_scopes(scopes)
    when = _now(at)
    for _ in range(NEW_PREFIX_ATTEMPTS):
        key, prefix, key_hash = new_api_key()
        # 32-bit ids collide rarely; a collision would fail the unique constraint
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    else:  # pragma: no cover - five collisions in a row
        raise RuntimeError("could not draw an unused key prefix")
    row = ApiKey(
        partner_id=owner.id, prefix=prefix, key_hash=key_hash,
        scopes=[scope.value for scope in chosen], created_at=when, revoked_at=None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action="key.create", subject=prefix,
            input_digest=digest({"partner_id": owner.id, "scopes": row.scopes}), at=when,
        ),
    )  # fmt: skip
    return row, key


def revoke_key(session: Session, prefix: str, *, actor: str, at: datetime | None = None) -> ApiKey:
    """Revoke the key with this prefix (a whole key is accepted too, and only its prefix
    used); revoking a revoked key changes nothing. UnknownKeyError when none has it."""
    chosen = key_prefix(prefix) or prefix
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == chosen))
    if row is None:
        raise UnknownKeyError(f"unknown key prefix {chosen!r}")
    _revoke(session, row, actor, "key.revoke", row.prefix, at)
    return row


def list_keys(session: Session, partner: Partner | str | None = None) -> list[ApiKey]:
    """Keys, oldest first, of one partner (UnknownPartnerError for an unknown one) or of all."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if partner is not None:
        query = query.where(ApiKey.partner_id == get_partner(session, partner).id)
    return list(session.scalars(query))


def authenticate(session: Session, presented: str) -> Principal | None:
    """The partner and scopes of a presented key; None when the key is malformed, unknown,
    wrong, revoked, or its partner disabled. The row is found by prefix and the whole key
    compared with its hash in constant time."""
    prefix = key_prefix(presented)
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    matches = verify_api_key(presented, row.key_hash if row is not None else _NO_KEY_HASH)
    if row is None or not matches or row.revoked_at is not None:
        return None
    partner = session.get(Partner, row.partner_id)
    if partner is None or partner.disabled_at is not None:
        return None
    # scopes a later release no longer knows are ignored rather than granted
    known = {scope.value for scope in Scope}
    return Principal(partner, frozenset(Scope(s) for s in row.scopes if s in known))


# --- grants -----------------------------------------------------------------------------


def grant(
    session: Session,
    partner: Partner | str,
    cooperative_id: str,
    *,
    actor: str,
    at: datetime | None = None,
) -> Grant:
    """Let `partner` score members of `cooperative_id`; granting twice changes nothing."""
    owner = get_partner(session, partner)
    coop = cooperative_id_checked(cooperative_id)
    existing = session.get(Grant, (owner.id, coop))
    if existing is not None:
        return existing
    when = _now(at)
    row = Grant(partner_id=owner.id, cooperative_id=coop, granted_at=when)
    session.add(row)
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action="grant.add", subject=owner.id,
            input_digest=digest({"cooperative_id": coop}), at=when,
        ),
    )  # fmt: skip
    return row


def is_granted(session: Session, partner: Partner | str, cooperative_id: str) -> bool:
    """Whether `partner` may score members of `cooperative_id`."""
    return session.get(Grant, (_partner_id(partner), cooperative_id.strip())) is not None


# --- consents ---------------------------------------------------------------------------


def _purpose(purpose: str) -> str:
    if not PURPOSE_PATTERN.match(purpose):
        raise RepoValueError(
            "purpose must be a lowercase name of at most 64 characters (letters, digits, "
            f"'_', '.', ':', '-'), such as 'credit_scoring'; got {purpose[:64]!r}"
        )
    return purpose


def _member_ref(member_ref: str) -> str:
    if not is_member_ref(member_ref):
        # never echo it: it may be a NIK given by mistake
        raise RepoValueError(
            "member_ref must be a keyed hash (64 hex characters), never a NIK or member "
            "number: hash it with serving.security.member_ref_from_nik or _from_number"
        )
    return member_ref


def give_consent(
    session: Session,
    partner: Partner | str,
    member_ref: str,
    cooperative_id: str,
    purpose: str,
    expires_at: datetime,
    *,
    actor: str,
    at: datetime | None = None,
) -> Consent:
    """Record a member's consent for `partner` and `purpose` until `expires_at` (aware,
    after `at`); its `id` is the consent reference the partner sends when scoring."""
    owner = get_partner(session, partner)
    ref = _member_ref(member_ref)
    coop = cooperative_id_checked(cooperative_id)
    chosen = _purpose(purpose)
    when = _now(at)
    until = _now(expires_at)
    if until <= when:
        raise RepoValueError(
            f"expires_at {until.isoformat()} is not after the consent's time {when.isoformat()}"
        )
    row = Consent(
        id=_public_id("cns", CONSENT_ID_BYTES), member_ref=ref, cooperative_id=coop,
        partner_id=owner.id, purpose=chosen, granted_at=when, expires_at=until, revoked_at=None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action="consent.give", subject=row.id,
            input_digest=digest({
                "partner_id": owner.id, "member_ref": ref, "cooperative_id": coop,
                "purpose": chosen, "expires_at": until.isoformat(),
            }),
            at=when,
        ),
    )  # fmt: skip
    return row


def get_consent(session: Session, partner: Partner | str, consent_id: str) -> Consent | None:
    """The partner's consent with this reference; None when missing or another partner's."""
    row = session.get(Consent, consent_id)
    return row if row is not None and row.partner_id == _partner_id(partner) else None


def revoke_consent(
    session: Session,
    partner: Partner | str,
    consent_id: str,
    *,
    actor: str,
    at: datetime | None = None,
) -> Consent:
    """Withdraw a consent: scoring under it stops at once. Revoking twice changes nothing;
    UnknownConsentError when it is missing or another partner's."""
    row = get_consent(session, partner, consent_id)
    if row is None:
        raise UnknownConsentError(f"unknown consent {consent_id!r}")
    _revoke(session, row, actor, "consent.revoke", row.id, at)
    return row


def active_consent(
    session: Session,
    partner: Partner | str,
    member_ref: str,
    purpose: str,
    at: datetime | None = None,
) -> Consent | None:
    """The partner's consent for this member and purpose in force at `at` (default now):
    given at or before `at`, expiring after it, not revoked at or before it. The one
    expiring last when several are."""
    when = _now(at)
    return session.scalars(
        select(Consent)
        .where(
            Consent.partner_id == _partner_id(partner),
            Consent.member_ref == member_ref,
            Consent.purpose == purpose,
            Consent.granted_at <= when,
            Consent.expires_at > when,
            or_(Consent.revoked_at.is_(None), Consent.revoked_at > when),
        )
        .order_by(Consent.expires_at.desc())
        .limit(1)
    ).first()


def _revoke(
    session: Session,
    row: ApiKey | Consent,
    actor: str,
    action: str,
    subject: str,
    at: datetime | None,
) -> None:
    """Mark a key or a consent revoked and audit it, once: revoking twice changes nothing."""
    if row.revoked_at is not None:
        return
    when = _now(at)
    row.revoked_at = when
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action=action, subject=subject,
            input_digest=digest({"partner_id": row.partner_id}), at=when,
        ),
    )  # fmt: skip
