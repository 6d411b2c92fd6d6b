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
and the number, `serving.security.member_ref_from_number`). A NIK is resolved through the
profile store's NIK index to the same member id and the same keyed hash
(`serving.members.resolve_member`), so one consent covers both spellings; a NIK the index
does not know answers the same 404.

Digests. The audit entry's input digest (also `Score.request_digest`) covers the request
with the member as its keyed hash, never the member number or NIK in clear: a plain
SHA-256 of a member number is easy to reverse by trying every number. The output digest
covers the answer as returned.

Idempotency (`serving.idempotency`). With an `Idempotency-Key` the record is added to the
score's own transaction. The key is looked at after the consent checks, so a replay passes
the same checks as the first request (a consent revoked since answers 404, not the stored
score), and a reused key naming a member out of reach answers that 404 rather than 409.

Cost. A score is two database transactions: one that only reads (the key, `serving.deps`,
left open for this route because it is `reading_first`; grant and consent in one prebuilt
query, `serving.store.repo.consent_in_force`; the idempotency record), then, after the
model, the writes as Core inserts, committed by the app's group committer together with
those of the scores that reached it meanwhile (`create_score`, `serving.group_commit`:
wrk, one worker, SQLite, same sitting, 245-256 to 373-376 requests/s and server CPU 3.6
to 2.5 ms a request). Every statement runs
as Core on the session's connection: rows, not ORM entities. Those two changes and the key
read without FastAPI's `HTTPBearer` (`serving.deps.bearer_key`) took a score from 222-232
to 254-269 requests/s with wrk (one worker, SQLite, same sitting; server CPU 3.45 to 3.1
ms a request in user time). The 201 answer is made once, by pydantic, as FastAPI would make it
(`_created`). In-process (TestClient, SQLite, median of 400, same sitting, same model
code): 16.9 to 22.5 ms a request before, 9.5 to 11.7 ms after (the client alone: 1.7 ms);
wrk with one worker: 66 requests/s before, 114 to 155 after.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features.application import LoanRequest, LoanRequestError
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.audit import AuditEvent, digest
from serving.deps import Scoring, ScoringDep, SessionDep, reading_first
from serving.errors import DomainError, request_id
from serving.group_commit import GroupCommitter, Write
from serving.idempotency import (
    Claim,
    IdempotencyKeyDep,
    body_digest,
    record_insert,
    replay,
    replay_after_conflict,
    stored,
)
from serving.limits import check_member_velocity, rate_limited
from serving.members import UnknownMemberError, resolve_member
from serving.members import member_id_of as member_id_of
from serving.metrics import counted
from serving.schemas import ScoreCreate, ScorePublic
from serving.scoring import ScoringError, score_application
from serving.security import (
    MemberRefError,
    PiiKeyMissingError,
    Scope,
    pii_key,
)
from serving.store.database import reads_only, table_of
from serving.store.repo import Principal, consent_in_force
from serving.store.tables import Application, Score

SCORE_ID_BYTES = 16  # "sc_" + 32 hex characters: unguessable, fits ID_LENGTH
APPLICATION_ID_BYTES = 16  # "app_" + 32 hex characters
UNREGISTERED = "unregistered"  # model name and version of a model outside the registry

router = APIRouter(prefix="/scores", tags=["scores"])
# Core statements built once: no ORM unit of work for the rows of a score (`create_score`)
_INSERT_APPLICATION = insert(table_of(Application))
_INSERT_SCORE = insert(table_of(Score))


class MemberNotFoundError(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "member_not_found"
    title = "Member not found"


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
    """A member the partner may score now (the profile key, the keyed hash, the consent)
    and what the score is made with (the request's `Scoring`: the route takes it from
    here rather than naming the dependency again, a solve fewer a request)."""

    principal: Principal
    body: ScoreCreate
    member_id: str
    member_ref: str
    cooperative_id: str
    consent_id: str
    scoring: Scoring


ScoreWriter = Annotated[Principal, Depends(rate_limited(Scope.SCORES_WRITE))]
ScoreReader = Annotated[Principal, Depends(rate_limited(Scope.SCORES_READ))]


def consented_member(
    body: ScoreCreate,
    principal: ScoreWriter,
    session: SessionDep,
    scoring: ScoringDep,
) -> ConsentedMember:
    """The member of `body` when the partner may score them now, else 404 (see module).
    A member named by NIK is resolved to the member number's keyed hash
    (`serving.members.resolve_member`), so a consent covers both spellings."""
    try:
        member = resolve_member(body.member, pii_key(scoring.settings), scoring.profiles)
    except PiiKeyMissingError:
        raise PiiKeyUnavailableError(
            "The server has no PII key, so no member can be scored.",
            "Server tidak memiliki kunci PII, sehingga anggota tidak dapat dinilai.",
        ) from None
    except MemberRefError as exc:
        raise InvalidMemberError(f"member.{exc}") from None
    except UnknownMemberError:
        raise _member_not_found() from None
    ref, coop = member.member_ref, member.cooperative_id
    reads_only(session)  # the checks only read; `create_score` commits before it writes
    # the grant and the consent (the one named, or the one in force) in one query
    consent_id = consent_in_force(
        session, principal.partner, ref, coop, body.purpose, body.consent_id, datetime.now(UTC)
    )
    if consent_id is None:
        raise _member_not_found()
    return ConsentedMember(principal, body, member.member_id, ref, coop, consent_id, scoring)


ConsentedMemberDep = Annotated[ConsentedMember, Depends(consented_member)]


def own_score(score_id: str, principal: ScoreReader, session: SessionDep) -> Score:
    """The partner's own score with this id; another partner's or none: the same 404."""
    reads_only(session)
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


def application_values(
    partner_id: str,
    member_ref: str,
    cooperative_id: str,
    consent_id: str,
    request: LoanRequest,
    received_at: datetime,
    rid: str,
) -> dict[str, Any]:
    """The loan request as received, a row of the `applications` table: the member as its
    keyed hash, the loan's words as ledger values."""
    return {
        "id": f"app_{secrets.token_hex(APPLICATION_ID_BYTES)}", "partner_id": partner_id,
        "officer": None, "cooperative_id": cooperative_id, "member_ref": member_ref,
        "consent_id": consent_id, "amount": request.amount,
        "tenor_months": request.tenor_months, "purpose": request.purpose,
        "declared_income": request.declared_monthly_income,
        "declared_expenses": request.declared_household_expenses,
        "received_at": received_at, "request_id": rid,
    }  # fmt: skip


def score_values(
    answer: ScorePublic,
    answer_json: dict[str, Any],
    application: dict[str, Any],
    request_digest: str,
) -> dict[str, Any]:
    """The score as answered, a row of the `scores` table, for the application row
    `application` (`application_values`)."""
    return {
        "id": answer.id, "application_id": application["id"],
        "partner_id": application["partner_id"], "member_ref": application["member_ref"],
        "cooperative_id": application["cooperative_id"], "request_digest": request_digest,
        "model_name": answer.model.name or UNREGISTERED,
        "model_version": answer.model.version or UNREGISTERED,
        "model_alias": answer.model.alias, "pd": answer.pd, "score": answer.score,
        "grade": answer.grade, "decision": answer.decision, "answer": answer_json,
        "scored_at": answer.scored_at, "request_id": answer.request_id,
    }  # fmt: skip


def create_score(
    session: Session,
    committer: GroupCommitter,
    model: AmanahModel,
    profiles: ProfileStore,
    member: ConsentedMember,
    rid: str,
    claim: Claim | None = None,
) -> ScorePublic:
    """Score `member`, then store the score and its audit entry (and the idempotency
    record of `claim`) in one transaction and commit: no score is answered unless its
    audit entry is committed.

    The checks' read transaction is ended before the model runs: on SQLite every
    transaction begins IMMEDIATE (`serving.store.database`), so it held the database's
    write lock through the whole score and every other request, of any worker, waited
    (in SQLite's busy handler, which sleeps up to 100 ms a try). The rows (the
    application, the score, the audit entry, the idempotency record) are handed to the
    app's group committer (`serving.group_commit`), which writes them with those of the
    scores that reached it meanwhile in one short transaction of Core statements and
    returns once it is committed. A consent revoked between the two transactions (the
    model's few milliseconds) does not stop this score; a request after the revocation's
    commit is refused."""
    session.commit()  # ends the read transaction of the checks (nothing is written yet)
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
    application = application_values(
        partner_id, member.member_ref, member.cooperative_id, member.consent_id, request,
        scored_at, rid,
    )  # fmt: skip
    inserts = [
        (_INSERT_APPLICATION, application),
        (_INSERT_SCORE, score_values(answer, answer_json, application, request_digest)),
    ]
    if claim is not None:
        inserts.append(record_insert(claim, HTTPStatus.CREATED, answer_json))
    event = AuditEvent(
        actor=partner_id, action="score.create", subject=score_id, model_version=version,
        input_digest=request_digest, output_digest=digest(answer_json), at=scored_at,
    )  # fmt: skip
    committer.commit(Write(inserts, [event]))  # returns once committed
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
@reading_first  # the key, the consent and the idempotency record: one read transaction
def post_score(
    member: ConsentedMemberDep,
    session: SessionDep,
    request: Request,
    response: Response,
    key: IdempotencyKeyDep,
) -> Response:
    """Score a consented member's loan request: PD, score, grade, decision and reasons.
    With an `Idempotency-Key` header the same key and body answer the stored score again
    (header `Idempotent-Replayed: true`); the same key with another body answers 409."""
    model, profiles = member.scoring.model, member.scoring.profiles
    velocity = (member.scoring.settings, member.principal.partner.id, member.member_ref)
    rid = request_id(request)
    committer: GroupCommitter = request.app.state.committer
    if key is None:
        check_member_velocity(session, *velocity)
        answer = create_score(session, committer, model, profiles, member, rid)
        return _created(response, counted(request, answer))
    claim = idempotency_claim(member, key)
    found = stored(session, claim)
    if found is not None:
        return replay(found, claim)
    check_member_velocity(session, *velocity)  # after the replay: a replay is no new score
    try:
        answer = create_score(session, committer, model, profiles, member, rid, claim)
    except IntegrityError as error:  # another request committed this key first
        return replay_after_conflict(session, claim, error)
    return _created(response, counted(request, answer))


def _created(headers_from: Response, answer: ScorePublic) -> Response:
    """The 201 answer, already JSON: the bytes FastAPI would make of `answer` for
    `response_model=ScorePublic` (pydantic's `dump_json`, which is `model_dump_json`),
    without validating the answer again and without a second thread-pool hop to do it;
    the headers the dependencies set (`RateLimit-*`) are carried over as FastAPI would."""
    answer_bytes = answer.model_dump_json()
    created = Response(answer_bytes, HTTPStatus.CREATED, media_type="application/json")
    created.headers.raw.extend(headers_from.headers.raw)
    return created


@router.get("/{score_id}", responses={401: {}, 403: {}, 404: {}})
def get_score(score: OwnScoreDep) -> ScorePublic:
    """One of the partner's own scores, as it was answered."""
    return ScorePublic.model_validate(score.answer)
