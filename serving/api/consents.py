"""`/v1/consents`: a partner records, reads, lists and revokes its members' consents.

A consent (UU PDP: explicit, per purpose, withdrawable) lets one partner score one member
for one purpose until it expires or is revoked; `POST /v1/scores` finds it by (partner,
member, purpose) or by its id. Every route needs the `consents` scope, and each route's
tenancy is one dependency: `reachable_member` (the member is known to the profiles and
its cooperative granted to the partner, else the same 404 `member_not_found` as
`POST /v1/scores`), `own_consent` (the partner's own consent, else the same 404
`consent_not_found` whether it is missing or another partner's), and `lister` (the
partner's own consents; a query parameter the route does not know is refused, so a
member number or NIK never rides in a URL, which ends up in logs).

A member named by NIK or by number gives one consent: both resolve to the member number's
keyed hash (`serving.members.resolve_member`). An answer carries the consent's id,
cooperative, purpose, times and status, never the member's number, NIK or keyed hash.

A consent lasts at most `MAX_CONSENT_DAYS` (365) days: `expires_at` (with a time zone, in
the future) or `valid_days`, exactly one. Revoking (`DELETE`) takes effect at once, for
the next score request; revoking a revoked consent answers it unchanged. Status is read
at the time of the answer: `revoked` (revoked at or before then), else `expired` (ended at
or before then), else `active`.

`Idempotency-Key` on `POST` works as on `POST /v1/scores` (`serving.idempotency`): a
retry with the same key and body answers the stored consent (as it was answered) and
records no second one; the body is digested with the member as its keyed hash.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from serving.api.scores import InvalidMemberError, MemberNotFoundError, PiiKeyUnavailableError
from serving.deps import ProfilesDep, SessionDep, SettingsDep
from serving.errors import DomainError
from serving.idempotency import (
    Claim,
    IdempotencyKeyDep,
    body_digest,
    record,
    replay,
    replay_after_conflict,
    stored,
)
from serving.limits import rate_limited
from serving.members import ResolvedMember, UnknownMemberError, resolve_member
from serving.schemas import ConsentCreate, ConsentList, ConsentPublic, ConsentStatus
from serving.security import COOPERATIVE_ID_MAX, MemberRefError, PiiKeyMissingError, Scope, pii_key
from serving.store.repo import (
    Principal,
    RepoValueError,
    give_consent,
    is_granted,
    list_consents,
    revoke_consent,
)
from serving.store.tables import ID_LENGTH, Consent

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
LIST_PARAMETERS = frozenset({"limit", "cursor", "status", "cooperative_id"})
CURSOR_MAX = 200
_PLAIN_NAME = re.compile(r"^[a-z_]{1,32}$")  # a parameter name safe to repeat in an answer

router = APIRouter(prefix="/consents", tags=["consents"])

ConsentsPrincipal = Annotated[Principal, Depends(rate_limited(Scope.CONSENTS))]


class ConsentNotFoundError(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "consent_not_found"
    title = "Consent not found"


class InvalidConsentError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_consent"
    title = "The consent is not valid"


class InvalidCursorError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_cursor"
    title = "The cursor is not valid"


class UnknownQueryParameterError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "unknown_query_parameter"
    title = "Unknown query parameter"


# --- pure helpers -----------------------------------------------------------------------


def consent_status(consent: Consent, at: datetime) -> ConsentStatus:
    """Revoked (at or before `at`), else expired (ended at or before `at`), else active."""
    if consent.revoked_at is not None and consent.revoked_at <= at:
        return "revoked"
    if consent.expires_at <= at:
        return "expired"
    return "active"


def public_consent(consent: Consent, at: datetime) -> ConsentPublic:
    """A consent as answered: no member reference of any kind."""
    return ConsentPublic(
        id=consent.id, cooperative_id=consent.cooperative_id, purpose=consent.purpose,
        granted_at=consent.granted_at, expires_at=consent.expires_at,
        revoked_at=consent.revoked_at, status=consent_status(consent, at),
    )  # fmt: skip


def encode_cursor(consent: Consent) -> str:
    """The position after `consent` in the newest-first order, opaque to the partner."""
    raw = json.dumps([consent.granted_at.isoformat(), consent.id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(granted_at, id) of a cursor `encode_cursor` gave; InvalidCursorError otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        granted, consent_id = json.loads(raw.decode("utf-8"))
        at = datetime.fromisoformat(granted)
        if at.tzinfo is None or not isinstance(consent_id, str) or len(consent_id) > ID_LENGTH:
            raise ValueError("not a cursor")
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        raise InvalidCursorError(
            "The cursor is not one this API gave; send the `next_cursor` of the previous page.",
            "Kursor ini bukan dari API ini; kirim `next_cursor` dari halaman sebelumnya.",
        ) from None
    return at.astimezone(UTC), consent_id


# --- tenancy: one dependency per route --------------------------------------------------


@dataclass(frozen=True)
class ReachableMember:
    """A member the partner may record a consent of: known to the profiles, of a
    cooperative granted to the partner."""

    principal: Principal
    body: ConsentCreate
    member: ResolvedMember


def _member_not_found() -> MemberNotFoundError:
    return MemberNotFoundError(
        "No member matches this reference for this partner (unknown member, or "
        "cooperative not granted).",
        "Tidak ada anggota yang cocok dengan rujukan ini untuk mitra ini (anggota tidak "
        "dikenal, atau koperasi belum diizinkan).",
    )


def reachable_member(
    body: ConsentCreate,
    principal: ConsentsPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    profiles: ProfilesDep,
) -> ReachableMember:
    """The member of `body` when the partner may record their consent, else 404."""
    try:
        member = resolve_member(body.member, pii_key(settings), profiles)
    except PiiKeyMissingError:
        raise PiiKeyUnavailableError(
            "The server has no PII key, so no consent can be recorded.",
            "Server tidak memiliki kunci PII, sehingga persetujuan tidak dapat dicatat.",
        ) from None
    except MemberRefError as exc:
        raise InvalidMemberError(f"member.{exc}") from None
    except UnknownMemberError:
        raise _member_not_found() from None
    if not is_granted(session, principal.partner, member.cooperative_id):
        raise _member_not_found()
    return ReachableMember(principal, body, member)


def own_consent(consent_id: str, principal: ConsentsPrincipal, session: SessionDep) -> Consent:
    """The partner's own consent with this id; another partner's or none: the same 404."""
    row = session.get(Consent, consent_id) if len(consent_id) <= ID_LENGTH else None
    if row is None or row.partner_id != principal.partner.id:
        raise ConsentNotFoundError(
            f"No consent {consent_id[:40]!r} for this partner.",
            f"Tidak ada persetujuan {consent_id[:40]!r} untuk mitra ini.",
        )
    return row


def lister(request: Request, principal: ConsentsPrincipal) -> Principal:
    """The partner listing its consents; a query parameter the route does not take (such
    as a member number or NIK) answers 422 naming it, never repeating its value."""
    unknown = sorted(set(request.query_params) - LIST_PARAMETERS)
    if unknown:
        named = ", ".join(n if _PLAIN_NAME.match(n) else "(unnamed)" for n in unknown)
        raise UnknownQueryParameterError(
            f"Unknown query parameter(s): {named}; this route takes "
            f"{', '.join(sorted(LIST_PARAMETERS))}. A member is never named in a URL.",
            f"Parameter kueri tidak dikenal: {named}; rute ini menerima "
            f"{', '.join(sorted(LIST_PARAMETERS))}. Anggota tidak pernah disebut di URL.",
        )
    return principal


ReachableMemberDep = Annotated[ReachableMember, Depends(reachable_member)]
OwnConsentDep = Annotated[Consent, Depends(own_consent)]
ListerDep = Annotated[Principal, Depends(lister)]


# --- work -------------------------------------------------------------------------------


def create_consent(
    session: Session, reachable: ReachableMember, claim: Claim | None = None
) -> ConsentPublic:
    """Record the consent and its audit entry (and the idempotency record of `claim`) in
    one transaction and commit."""
    now = datetime.now(UTC)
    body, member = reachable.body, reachable.member
    partner_id = reachable.principal.partner.id
    try:
        row = give_consent(
            session, partner_id, member.member_ref, member.cooperative_id, body.purpose,
            body.expiry(now), actor=partner_id, at=now,
        )  # fmt: skip
    except RepoValueError as exc:  # an expires_at that passed while the request ran
        raise InvalidConsentError(str(exc)) from None
    answer = public_consent(row, now)
    if claim is not None:
        record(session, claim, HTTPStatus.CREATED, answer.model_dump(mode="json"))
    session.commit()
    return answer


def idempotency_claim(reachable: ReachableMember, key: str) -> Claim:
    """The claim of this request on `key`: the body digested with the member as its
    keyed hash (see `serving.idempotency`)."""
    body = reachable.body.model_dump(mode="json", exclude={"member"})
    body["member"] = {
        "member_ref": reachable.member.member_ref,
        "cooperative_id": reachable.member.cooperative_id,
    }
    return Claim(reachable.principal.partner.id, key, body_digest(body))


# --- routes -----------------------------------------------------------------------------


@router.post(
    "",
    status_code=HTTPStatus.CREATED,
    response_model=ConsentPublic,
    responses={401: {}, 403: {}, 404: {}, 409: {}, 422: {}, 503: {}},
)
def post_consent(
    reachable: ReachableMemberDep, session: SessionDep, key: IdempotencyKeyDep
) -> ConsentPublic | Response:
    """Record a member's consent for this partner and a purpose. With an
    `Idempotency-Key` the same key and body answer the stored consent again (header
    `Idempotent-Replayed: true`); the same key with another body answers 409."""
    if key is None:
        return create_consent(session, reachable)
    claim = idempotency_claim(reachable, key)
    found = stored(session, claim)
    if found is not None:
        return replay(found, claim)
    try:
        return create_consent(session, reachable, claim)
    except IntegrityError as error:  # another request committed this key first
        return replay_after_conflict(session, claim, error)


@router.get("", responses={401: {}, 403: {}, 422: {}})
def get_consents(
    principal: ListerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
    status: ConsentStatus | None = None,
    cooperative_id: Annotated[str | None, Query(max_length=COOPERATIVE_ID_MAX)] = None,
) -> ConsentList:
    """The partner's consents, newest first, `limit` a page; `next_cursor` fetches the
    next. Filters: `status` (active, revoked, expired, now) and `cooperative_id`."""
    now = datetime.now(UTC)
    rows = list_consents(
        session, principal.partner, status=status, cooperative_id=cooperative_id,
        after=decode_cursor(cursor) if cursor else None, limit=limit + 1, at=now,
    )  # fmt: skip
    page = rows[:limit]
    more = len(rows) > limit
    return ConsentList(
        items=[public_consent(row, now) for row in page],
        next_cursor=encode_cursor(page[-1]) if more else None,
    )


@router.get("/{consent_id}", responses={401: {}, 403: {}, 404: {}})
def get_consent_route(consent: OwnConsentDep) -> ConsentPublic:
    """One of the partner's own consents, with its status now."""
    return public_consent(consent, datetime.now(UTC))


@router.delete("/{consent_id}", responses={401: {}, 403: {}, 404: {}})
def delete_consent(consent: OwnConsentDep, session: SessionDep) -> ConsentPublic:
    """Revoke the consent now: scoring under it stops with the next request. A revoked
    consent is answered unchanged."""
    now = datetime.now(UTC)
    row = revoke_consent(session, consent.partner_id, consent.id, actor=consent.partner_id, at=now)
    answer = public_consent(row, now)
    session.commit()
    return answer
