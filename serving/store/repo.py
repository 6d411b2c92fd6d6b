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
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, or_, select
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


def utc_at(at: datetime | None) -> datetime:
    """`at` as aware UTC (now when None); a naive datetime is refused: its zone would be
    a guess."""
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
    when = utc_at(at)
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
    when = utc_at(at)
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


# Statements of the scoring path are built once, with bound parameters: building a
# select and computing its cache key cost about 0.5 ms a query, running one about 0.07 ms
# (SQLite, in-process). The key and its partner come in one round trip (were two), as
# columns on the session's connection: no ORM entities to load (`authenticate`).
_KEY_AND_PARTNER = (
    select(ApiKey.key_hash, ApiKey.scopes, ApiKey.revoked_at)
    .add_columns(Partner.id, Partner.name, Partner.created_at, Partner.disabled_at)
    .join(Partner, Partner.id == ApiKey.partner_id)
    .where(ApiKey.prefix == bindparam("prefix"))
)


def authenticate(session: Session, presented: str) -> Principal | None:
    """The partner and scopes of a presented key; None when the key is malformed, unknown,
    wrong, revoked, or its partner disabled. The row is found by prefix and the whole key
    compared with its hash in constant time. The partner is a detached `Partner` built
    from the row (Core on the session's connection: the ORM's entity loading cost more
    than the query, see `serving.api.scores`)."""
    prefix = key_prefix(presented)
    row = (
        session.connection().execute(_KEY_AND_PARTNER, {"prefix": prefix}).first()
        if prefix
        else None
    )
    matches = verify_api_key(presented, row.key_hash if row is not None else _NO_KEY_HASH)
    if row is None or not matches or row.revoked_at is not None or row.disabled_at is not None:
        return None
    partner = Partner(
        id=row.id, name=row.name, created_at=row.created_at, disabled_at=row.disabled_at
    )
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
    when = utc_at(at)
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
    when = utc_at(at)
    until = utc_at(expires_at)
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
    when = utc_at(at)
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


_CONSENT_IN_FORCE = (
    select(Consent.id)
    .where(
        Consent.partner_id == bindparam("partner"),
        Consent.member_ref == bindparam("member_ref"),
        Consent.purpose == bindparam("purpose"),
        Consent.granted_at <= bindparam("at"),
        Consent.expires_at > bindparam("at"),
        or_(Consent.revoked_at.is_(None), Consent.revoked_at > bindparam("at")),
        select(Grant.partner_id)
        .where(
            Grant.partner_id == bindparam("partner"),
            Grant.cooperative_id == bindparam("cooperative_id"),
        )
        .exists(),
    )
    .order_by(Consent.expires_at.desc())
    .limit(1)
)
_NAMED_CONSENT_IN_FORCE = _CONSENT_IN_FORCE.where(Consent.id == bindparam("consent_id"))


def consent_in_force(
    session: Session,
    partner: Partner | str,
    member_ref: str,
    cooperative_id: str,
    purpose: str,
    consent_id: str | None = None,
    at: datetime | None = None,
) -> str | None:
    """The id of the partner's consent for this member and purpose in force at `at`
    (default now), when the partner is also granted `cooperative_id`; the one named
    `consent_id` when given, else the one expiring last. None otherwise.

    `is_granted` and `active_consent` (or `get_consent`) in one query and one round trip,
    reading one column: the scoring route's check (was three ORM lookups, about 2.3 ms of
    a request in-process on SQLite; this is one prebuilt Core query, about 0.2 ms)."""
    params = {
        "partner": _partner_id(partner), "member_ref": member_ref, "purpose": purpose,
        "at": utc_at(at), "cooperative_id": cooperative_id.strip(),
    }  # fmt: skip
    if consent_id is None:
        found: str | None = session.connection().scalar(_CONSENT_IN_FORCE, params)
    else:
        named = {**params, "consent_id": consent_id}
        found = session.connection().scalar(_NAMED_CONSENT_IN_FORCE, named)
    return found


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
    when = utc_at(at)
    row.revoked_at = when
    session.flush()
    append(
        session,
        AuditEvent(
            actor=actor, action=action, subject=subject,
            input_digest=digest({"partner_id": row.partner_id}), at=when,
        ),
    )  # fmt: skip


# --- listing consents -------------------------------------------------------------------

CONSENT_STATUSES = ("active", "revoked", "expired")


def list_consents(
    session: Session,
    partner: Partner | str,
    *,
    status: str | None = None,
    cooperative_id: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
    at: datetime | None = None,
) -> list[Consent]:
    """The partner's consents, newest first (by `granted_at`, then `id`, both descending):
    at most `limit`, those after the position (granted_at, id) `after` when given, of one
    cooperative, and of one status at `at` (default now): revoked (at or before `at`),
    expired (not revoked, ended at or before `at`) or active (neither)."""
    when = utc_at(at)
    query = select(Consent).where(Consent.partner_id == _partner_id(partner))
    if cooperative_id is not None:
        query = query.where(Consent.cooperative_id == cooperative_id.strip())
    revoked = and_(Consent.revoked_at.is_not(None), Consent.revoked_at <= when)
    not_revoked = or_(Consent.revoked_at.is_(None), Consent.revoked_at > when)
    if status == "revoked":
        query = query.where(revoked)
    elif status == "expired":
        query = query.where(not_revoked, Consent.expires_at <= when)
    elif status == "active":
        query = query.where(not_revoked, Consent.expires_at > when)
    elif status is not None:
        raise RepoValueError(f"status must be one of {', '.join(CONSENT_STATUSES)}")
    if after is not None:
        granted_at, consent_id = after
        query = query.where(
            or_(
                Consent.granted_at < granted_at,
                and_(Consent.granted_at == granted_at, Consent.id < consent_id),
            )
        )
    query = query.order_by(Consent.granted_at.desc(), Consent.id.desc()).limit(limit)
    return list(session.scalars(query))


# --- bulk lookups (score batches) -------------------------------------------------------

# bound parameters per IN list: well under SQLite's and PostgreSQL's limits
IN_CHUNK = 2_000


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


def granted_cooperatives(
    session: Session, partner: Partner | str, cooperative_ids: Iterable[str]
) -> set[str]:
    """Those of `cooperative_ids` the partner may score (`is_granted` for many at once)."""
    owner = _partner_id(partner)
    found: set[str] = set()
    for chunk in _chunks(c.strip() for c in cooperative_ids):
        found.update(
            session.scalars(
                select(Grant.cooperative_id).where(
                    Grant.partner_id == owner, Grant.cooperative_id.in_(chunk)
                )
            )
        )
    return found


def consents_of(
    session: Session,
    partner: Partner | str,
    member_refs: Iterable[str],
    consent_ids: Iterable[str] = (),
) -> list[Consent]:
    """The partner's consents for any of `member_refs`, and those of its consents named by
    `consent_ids`, whatever their purpose and state: the caller picks the one in force
    (as `active_consent` and `get_consent` do for one member)."""
    owner = _partner_id(partner)
    found: dict[str, Consent] = {}
    for column, values in ((Consent.member_ref, member_refs), (Consent.id, consent_ids)):
        for chunk in _chunks(values):
            rows = session.scalars(
                select(Consent).where(Consent.partner_id == owner, column.in_(chunk))
            )
            found.update((row.id, row) for row in rows)
    return list(found.values())
