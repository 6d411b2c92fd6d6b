"""`POST /v1/scores` and `GET /v1/scores/{id}`: thin routes over three dependencies.

Who may score whom (`consented_member`, one dependency): the member reference is hashed
with the PII key on arrival; the member's cooperative must be granted to the partner and
an active consent for (partner, member reference, purpose) must exist, the one named by
`consent_id` when given. A member outside those answers the same 404 `member_not_found`
as a member the profiles do not know, so an answer never tells a partner who exists.

Member numbers. The profile store is keyed by the ledger's member id, which the ledger
forms as `<cooperative_id>-<number>` (`features.generator.simulate`: "KMP-0026" and
"A00006" give "KMP-0026-A00006"). A partner sends the cooperative and the number within
it ("A00006"); the whole member id is accepted as the number too and cut to the number,
so both spellings give one member id and one keyed hash (the hash covers the cooperative
and the number, `serving.security.member_ref_from_number`). A NIK alone cannot be
resolved yet: the store has no NIK -> member index, so a NIK answers 422
`nik_not_resolvable`.

Digests. The audit entry's input digest (also `Score.request_digest`) covers the request
with the member as its keyed hash, never the member number or NIK in clear: a plain
SHA-256 of a member number is easy to reverse by trying every number. The output digest
covers the answer as returned.

Idempotency (`serving.idempotency`). With an `Idempotency-Key` the record is added to the
score's own transaction. The key is looked at after the consent checks, so a replay passes
the same checks as the first request (a consent revoked since answers 404, not the stored
score), and a reused key naming a member out of reach answers that 404 rather than 409.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features.application import LoanRequest, LoanRequestError
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.audit import AuditEvent, append, digest
from serving.deps import ModelDep, ProfilesDep, SessionDep, SettingsDep, require_scope
from serving.errors import DomainError, request_id
from serving.idempotency import (
    Claim,
    IdempotencyKeyDep,
    body_digest,
    record,
    replay,
    replay_after_conflict,
    stored,
)
from serving.schemas import MemberByNik, ScoreCreate, ScorePublic
from serving.scoring import ScoringError, score_application
from serving.security import (
    MemberRefError,
    PiiKeyMissingError,
    Scope,
    member_ref_from_number,
    pii_key,
)
from serving.store.repo import Principal, active_consent, get_consent, is_granted
from serving.store.tables import Consent, Score

SCORE_ID_BYTES = 16  # "sc_" + 32 hex characters: unguessable, fits ID_LENGTH
UNREGISTERED = "unregistered"  # model name and version of a model outside the registry

router = APIRouter(prefix="/scores", tags=["scores"])


class MemberNotFoundError(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "member_not_found"
    title = "Member not found"


class NikNotResolvableError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "nik_not_resolvable"
    title = "A NIK cannot be resolved yet"


class InvalidMemberError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_member"
    title = "The member reference is not valid"


class InvalidLoanError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_loan"
    title = "The loan request is not valid"


class PiiKeyUnavailableError(DomainError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "pii_key_missing"
    title = "Member references cannot be hashed"


class ScoreNotFoundError(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "score_not_found"
    title = "Score not found"


def _member_not_found() -> MemberNotFoundError:
    return MemberNotFoundError(
        "No member matches this reference for this partner (unknown member, cooperative "
        "not granted, or no active consent for this purpose).",
        "Tidak ada anggota yang cocok dengan rujukan ini untuk mitra ini (anggota tidak "
        "dikenal, koperasi belum diizinkan, atau tidak ada persetujuan aktif untuk tujuan ini).",
    )


@dataclass(frozen=True)
class ConsentedMember:
    """A member the partner may score now: the profile key, the keyed hash, the consent."""

    principal: Principal
    body: ScoreCreate
    member_id: str
    member_ref: str
    cooperative_id: str
    consent_id: str


ScoreWriter = Annotated[Principal, Depends(require_scope(Scope.SCORES_WRITE))]
ScoreReader = Annotated[Principal, Depends(require_scope(Scope.SCORES_READ))]


def member_id_of(cooperative_id: str, member_number: str) -> tuple[str, str]:
    """(member id, member number) for a cooperative's member number or whole member id,
    both stripped: ("KMP-0026", "A00006") and ("KMP-0026", "KMP-0026-A00006") both give
    ("KMP-0026-A00006", "A00006")."""
    coop, number = cooperative_id.strip(), member_number.strip()
    number = number.removeprefix(f"{coop}-")
    return f"{coop}-{number}", number


def _in_force(consent: Consent, at: datetime) -> bool:
    revoked = consent.revoked_at is not None and consent.revoked_at <= at
    return consent.granted_at <= at < consent.expires_at and not revoked


def consented_member(
    body: ScoreCreate, principal: ScoreWriter, session: SessionDep, settings: SettingsDep
) -> ConsentedMember:
    """The member of `body` when the partner may score them now, else 404 (see module)."""
    if isinstance(body.member, MemberByNik):
        raise NikNotResolvableError(
            "A member cannot be scored by NIK yet: send member.cooperative_id and "
            "member.member_number.",
            "Anggota belum dapat dinilai dengan NIK: kirim member.cooperative_id dan "
            "member.member_number.",
        )
    member_id, number = member_id_of(body.member.cooperative_id, body.member.member_number)
    try:
        ref = member_ref_from_number(body.member.cooperative_id, number, pii_key(settings))
    except PiiKeyMissingError:
        raise PiiKeyUnavailableError(
            "The server has no PII key, so no member can be scored.",
            "Server tidak memiliki kunci PII, sehingga anggota tidak dapat dinilai.",
        ) from None
    except MemberRefError as exc:
        raise InvalidMemberError(f"member.{exc}") from None
    coop = str(ref.cooperative_id)
    partner = principal.partner
    if not is_granted(session, partner, coop):
        raise _member_not_found()
    now = datetime.now(UTC)
    if body.consent_id is None:
        consent = active_consent(session, partner, ref.ref, body.purpose, at=now)
    else:
        consent = get_consent(session, partner, body.consent_id)
    if (
        consent is None
        or consent.member_ref != ref.ref
        or consent.purpose != body.purpose
        or not _in_force(consent, now)
    ):
        raise _member_not_found()
    return ConsentedMember(principal, body, member_id, ref.ref, coop, consent.id)


ConsentedMemberDep = Annotated[ConsentedMember, Depends(consented_member)]


def own_score(score_id: str, principal: ScoreReader, session: SessionDep) -> Score:
    """The partner's own score with this id; another partner's or none: the same 404."""
    row = session.get(Score, score_id)
    if row is None or row.partner_id != principal.partner.id:
        raise ScoreNotFoundError(
            f"No score {score_id[:40]!r} for this partner.",
            f"Tidak ada skor {score_id[:40]!r} untuk mitra ini.",
        )
    return row


OwnScoreDep = Annotated[Score, Depends(own_score)]


def loan_request(body: ScoreCreate, on: datetime) -> LoanRequest:
    """The body's loan as `LoanRequest` dated `on` (UTC); 422 naming the field."""
    loan = body.loan
    try:
        return LoanRequest(
            amount=loan.amount, tenor_months=loan.tenor_months, purpose=loan.purpose,
            product=loan.product, flat_monthly_rate=loan.flat_monthly_rate,
            application_date=on.date(),
            declared_monthly_income=loan.declared_monthly_income,
            declared_household_expenses=loan.declared_household_expenses,
            income_verified=loan.income_verified,
        )  # fmt: skip
    except LoanRequestError as exc:
        raise InvalidLoanError(f"loan.{exc}") from None


def public_score(score_id: str, scored: dict[str, Any], at: datetime, rid: str) -> ScorePublic:
    """`serving.scoring.score_application`'s answer as the API returns it."""
    return ScorePublic.model_validate(
        {
            **scored,
            "id": score_id,
            "reasons": [*scored["adverse"], *scored["favourable"]],
            "rule_codes": list(scored["rule_codes"]),
            "decision_text_id": scored.get("reason_id"),
            "decision_text_en": scored.get("reason_en"),
            "scored_at": at,
            "request_id": rid,
        }
    )


def create_score(
    session: Session,
    model: AmanahModel,
    profiles: ProfileStore,
    member: ConsentedMember,
    rid: str,
    claim: Claim | None = None,
) -> ScorePublic:
    """Score `member`, then store the score and its audit entry (and the idempotency
    record of `claim`) in one transaction and commit: no score is answered unless its
    audit entry is committed."""
    scored_at = datetime.now(UTC)
    request = loan_request(member.body, scored_at)
    try:
        scored = score_application(model, profiles, member.member_id, request)
    except ScoringError:
        raise _member_not_found() from None
    except LoanRequestError as exc:
        raise InvalidLoanError(f"loan.{exc}") from None
    score_id = f"sc_{secrets.token_hex(SCORE_ID_BYTES)}"
    answer = public_score(score_id, scored, scored_at, rid)
    answer_json = answer.model_dump(mode="json")
    request_digest = digest(
        {
            "member_ref": member.member_ref,
            "cooperative_id": member.cooperative_id,
            "loan": member.body.loan.model_dump(mode="json"),
            "purpose": member.body.purpose,
            "consent_id": member.consent_id,
        }
    )
    version = answer.model.version or UNREGISTERED
    partner_id = member.principal.partner.id
    session.add(
        Score(
            id=score_id, application_id=None, partner_id=partner_id,
            member_ref=member.member_ref, cooperative_id=member.cooperative_id,
            request_digest=request_digest, model_name=answer.model.name or UNREGISTERED,
            model_version=version, model_alias=answer.model.alias, pd=answer.pd,
            score=answer.score, grade=answer.grade, decision=answer.decision,
            answer=answer_json, scored_at=scored_at, request_id=rid,
        )
    )  # fmt: skip
    session.flush()
    append(
        session,
        AuditEvent(
            actor=partner_id, action="score.create", subject=score_id, model_version=version,
            input_digest=request_digest, output_digest=digest(answer_json), at=scored_at,
        ),
    )  # fmt: skip
    if claim is not None:
        record(session, claim, HTTPStatus.CREATED, answer_json)
    session.commit()
    return answer


def idempotency_claim(member: ConsentedMember, key: str) -> Claim:
    """The claim of this request on `key`: the body digested with the member as its
    keyed hash (see `serving.idempotency`)."""
    body = member.body.model_dump(mode="json", exclude={"member"})
    body["member"] = {"member_ref": member.member_ref, "cooperative_id": member.cooperative_id}
    return Claim(member.principal.partner.id, key, body_digest(body))


@router.post(
    "",
    status_code=HTTPStatus.CREATED,
    response_model=ScorePublic,
    responses={401: {}, 403: {}, 404: {}, 409: {}, 422: {}, 503: {}},
)
def post_score(
    member: ConsentedMemberDep,
    session: SessionDep,
    model: ModelDep,
    profiles: ProfilesDep,
    request: Request,
    key: IdempotencyKeyDep,
) -> ScorePublic | Response:
    """Score a consented member's loan request: PD, score, grade, decision and reasons.
    With an `Idempotency-Key` header the same key and body answer the stored score again
    (header `Idempotent-Replayed: true`); the same key with another body answers 409."""
    if key is None:
        return create_score(session, model, profiles, member, request_id(request))
    claim = idempotency_claim(member, key)
    found = stored(session, claim)
    if found is not None:
        return replay(found, claim)
    try:
        return create_score(session, model, profiles, member, request_id(request), claim)
    except IntegrityError as error:  # another request committed this key first
        return replay_after_conflict(session, claim, error)


@router.get("/{score_id}", responses={401: {}, 403: {}, 404: {}})
def get_score(score: OwnScoreDep) -> ScorePublic:
    """One of the partner's own scores, as it was answered."""
    return ScorePublic.model_validate(score.answer)
