"""`POST /v1/score-batches`: up to `AMANAH_MAX_BATCH_ITEMS` applications scored in one call.

Each item is what `POST /v1/scores` takes and is answered as it would answer it: a score
(status 201) or the same problem (404 `member_not_found` for a member out of reach:
unknown, cooperative not granted, no consent in force; 422 for an invalid member or
loan). An item's problem never fails the batch; a body that is not valid, or has more
items than allowed, fails it whole (422).

Speed. Members, grants and consents are resolved with a few bulk queries, profiles read
in one go, and the scored items go through one vectorised model call
(`serving.batch_scoring`); every scored item gets its own application, score and audit
entry (`serving.audit.append_many`: one lock, the chain hashed in memory), all committed
in one transaction before the answer.

Idempotency as for `POST /v1/scores`: the body's digest has each member as its keyed
hash. The key is looked at after the members are resolved, so a replay passes the same
checks as the first request: an item scored then whose member is out of reach now is
answered with the 404 problem, never with its stored score.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features.application import LoanRequestError
from features.identity import keyed_hash
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.api.scores import (
    UNREGISTERED,
    InvalidLoanError,
    InvalidMemberError,
    PiiKeyUnavailableError,
    _member_not_found,
    application_values,
    loan_request,
    public_score,
    score_values,
)
from serving.audit import AuditEvent, append_many, canonical_json, digest
from serving.batch_scoring import LoanApplication, gc_paused, score_applications
from serving.deps import ScoringDep, SessionDep
from serving.errors import DomainError, request_id
from serving.idempotency import (
    REPLAYED_HEADER,
    Claim,
    IdempotencyKeyDep,
    body_digest,
    record,
    replay,
    replay_after_conflict,
    stored,
)
from serving.limits import (
    VELOCITY_WINDOW,
    batch_velocity,
    rate_limited,
    recent_scores_of,
)
from serving.members import ResolvedMember, UnknownMemberError, member_id_of, resolve_member
from serving.metrics import count_score
from serving.schemas import MemberByNumber, ScoreBatchCreate, ScoreBatchPublic, ScoreCreate
from serving.security import (
    MemberRefError,
    PiiKeyMissingError,
    Scope,
    member_ref_from_number,
    pii_key,
)
from serving.store.repo import Principal, consents_of, granted_cooperatives
from serving.store.tables import Application, Consent, IdempotencyRecord, Score

BATCH_ID_BYTES = 16  # "sb_" + 32 hex characters
SCORE_ID_BYTES = 16

router = APIRouter(prefix="/score-batches", tags=["score-batches"])

BatchWriter = Annotated[Principal, Depends(rate_limited(Scope.BATCHES))]


class BatchTooLargeError(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "batch_too_large"
    title = "Too many items in one batch"


@dataclass(frozen=True)
class Reached:
    """An item the partner may score now: the member and the consent in force."""

    member: ResolvedMember
    consent_id: str


Resolution = Reached | DomainError


@dataclass(frozen=True)
class Resolved:
    """A batch's items resolved, in order, and the profiles read to resolve them."""

    items: list[Resolution]
    profiles: pd.DataFrame


def _too_large(got: int, most: int) -> BatchTooLargeError:
    return BatchTooLargeError(
        f"items: at most {most:,} applications in one batch (got {got:,}); split the "
        "batch, or score a larger file with `amanah score-batch`.",
        f"items: paling banyak {most:,} pengajuan dalam satu batch (diterima {got:,}); "
        "bagi batch-nya, atau nilai berkas yang lebih besar dengan `amanah score-batch`.",
    )


def _members(
    items: Sequence[ScoreCreate], key: bytes, profiles: ProfileStore
) -> tuple[list[ResolvedMember | DomainError], pd.DataFrame]:
    """Each item's member as `serving.members.resolve_member` resolves it, and their
    profiles: members named by number are checked against one bulk read of them."""
    found: list[ResolvedMember | DomainError] = []
    for item in items:
        try:
            if isinstance(item.member, MemberByNumber):
                member_id, number = member_id_of(
                    item.member.cooperative_id, item.member.member_number
                )
                ref = member_ref_from_number(item.member.cooperative_id, number, key)
                found.append(ResolvedMember(member_id, ref.ref, str(ref.cooperative_id)))
            else:  # a NIK: the profile store's index, one lookup (rare in a batch)
                found.append(resolve_member(item.member, key, profiles))
        except MemberRefError as exc:
            found.append(InvalidMemberError(f"member.{exc}"))
        except UnknownMemberError:
            found.append(_member_not_found())
    wanted = [m.member_id for m in found if isinstance(m, ResolvedMember)]
    coop_of = {}
    frame = profiles.profiles(wanted)
    if "cooperative_id" in frame.columns:
        coop_of = dict(
            zip(
                frame["member_id"].astype("str"),
                frame["cooperative_id"].astype("str"),
                strict=True,
            )
        )
    checked = [
        m if not isinstance(m, ResolvedMember) or coop_of.get(m.member_id) == m.cooperative_id
        else _member_not_found()
        for m in found
    ]  # fmt: skip
    return checked, frame


def _in_force(consent: Consent, at: datetime) -> bool:
    revoked = consent.revoked_at is not None and consent.revoked_at <= at
    return consent.granted_at <= at < consent.expires_at and not revoked


def chosen_consent(
    consents: Sequence[Consent], member_ref: str, purpose: str, consent_id: str | None,
    at: datetime,
) -> Consent | None:  # fmt: skip
    """The consent an item is scored under, as `POST /v1/scores` picks it: the one named,
    when it is this member's, for this purpose and in force; else the member's consent
    for the purpose in force at `at` that expires last."""
    fits = [
        c for c in consents
        if c.member_ref == member_ref and c.purpose == purpose and _in_force(c, at)
        and (consent_id is None or c.id == consent_id)
    ]  # fmt: skip
    return max(fits, key=lambda c: c.expires_at, default=None)


def resolve_items(
    session: Session,
    principal: Principal,
    items: Sequence[ScoreCreate],
    key: bytes,
    profiles: ProfileStore,
    at: datetime,
) -> Resolved:
    """Each item reached (member known, cooperative granted, consent in force) or its
    problem; three bulk queries at most, whatever the number of items."""
    members, frame = _members(items, key, profiles)
    known = [m for m in members if isinstance(m, ResolvedMember)]
    partner = principal.partner
    granted = granted_cooperatives(session, partner, {m.cooperative_id for m in known})
    named = {i.consent_id for i in items if i.consent_id is not None}
    consents = consents_of(session, partner, {m.member_ref for m in known}, named) if known else []
    by_member: dict[str, list[Consent]] = {}
    for row in consents:
        by_member.setdefault(row.member_ref, []).append(row)
    out: list[Resolution] = []
    for item, member in zip(items, members, strict=True):
        if not isinstance(member, ResolvedMember):
            out.append(member)
            continue
        consent: Consent | None = None
        if member.cooperative_id in granted:
            mine = by_member.get(member.member_ref, [])
            consent = chosen_consent(mine, member.member_ref, item.purpose, item.consent_id, at)
        out.append(_member_not_found() if consent is None else Reached(member, consent.id))
    return Resolved(out, frame)


def within_velocity(
    session: Session, principal: Principal, resolved: Resolved, limit: int, at: datetime
) -> Resolved:
    """`resolved` with each reached item past the per-member velocity limit
    (`serving.limits.batch_velocity`) answered by its 429 problem instead; checked only
    when a batch is scored, never on a replay (its own scores would count against it)."""
    if limit <= 0:
        return resolved
    refs = [r.member.member_ref for r in resolved.items if isinstance(r, Reached)]
    recent = recent_scores_of(session, principal.partner.id, refs, at - VELOCITY_WINDOW)
    verdicts = iter(batch_velocity(recent, refs, limit, at))
    items: list[Resolution] = [
        (next(verdicts) or r) if isinstance(r, Reached) else r for r in resolved.items
    ]
    return Resolved(items, resolved.profiles)


def _problem(error: DomainError) -> dict[str, Any]:
    return {
        "code": error.code, "title": error.title, "detail": error.detail,
        "detail_id": error.detail_id,
    }  # fmt: skip


def _failed(index: int, error: DomainError) -> dict[str, Any]:
    return {"index": index, "status": int(error.status), "problem": _problem(error)}


def _batch(batch_id: str, results: list[dict[str, Any]], at: datetime, rid: str) -> dict[str, Any]:
    scored = sum(1 for r in results if r["status"] == HTTPStatus.CREATED)
    counts = {"received": len(results), "scored": scored, "failed": len(results) - scored}
    return {
        "id": batch_id, "counts": counts, "results": results,
        "scored_at": at.isoformat().replace("+00:00", "Z"), "request_id": rid,
    }  # fmt: skip


def create_batch(
    session: Session,
    model: AmanahModel,
    profiles: ProfileStore,
    principal: Principal,
    items: Sequence[ScoreCreate],
    resolved: Resolved,
    at: datetime,
    rid: str,
    claim: Claim | None = None,
) -> dict[str, Any]:
    """Score the reached items, store an application, a score and an audit entry for each
    (and the idempotency record of `claim`) in one transaction and commit; the answer."""
    with gc_paused():
        return _create_batch(session, model, profiles, principal, items, resolved, at, rid, claim)


def _create_batch(
    session: Session,
    model: AmanahModel,
    profiles: ProfileStore,
    principal: Principal,
    items: Sequence[ScoreCreate],
    resolved: Resolved,
    at: datetime,
    rid: str,
    claim: Claim | None,
) -> dict[str, Any]:
    results: list[dict[str, Any] | None] = [None] * len(items)
    todo: list[tuple[int, Reached, LoanApplication]] = []
    for i, (item, found) in enumerate(zip(items, resolved.items, strict=True)):
        if isinstance(found, DomainError):
            results[i] = _failed(i, found)
            continue
        try:
            loan = loan_request(item, at)
        except InvalidLoanError as exc:
            results[i] = _failed(i, exc)
            continue
        todo.append((i, found, LoanApplication(found.member.member_id, loan)))
    outcomes = (
        score_applications(model, profiles, [a for _, _, a in todo], resolved.profiles)
        if todo
        else []
    )
    partner_id = principal.partner.id
    applications: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    events = []
    for (i, found, application), outcome in zip(todo, outcomes, strict=True):
        if isinstance(outcome, LoanRequestError):
            results[i] = _failed(i, InvalidLoanError(f"loan.{outcome}"))
            continue
        if not isinstance(outcome, dict):  # ScoringError: no profile
            results[i] = _failed(i, _member_not_found())
            continue
        member, item = found.member, items[i]
        answer = public_score(f"sc_{secrets.token_hex(SCORE_ID_BYTES)}", outcome, at, rid)
        answer_json = answer.model_dump(mode="json")
        request_digest = digest(
            {
                "member_ref": member.member_ref,
                "cooperative_id": member.cooperative_id,
                "loan": item.loan.model_dump(mode="json"),
                "purpose": item.purpose,
                "consent_id": found.consent_id,
            }
        )
        row = application_values(
            partner_id, member.member_ref, member.cooperative_id, found.consent_id,
            application.request, at, rid,
        )  # fmt: skip
        applications.append(row)
        scores.append(score_values(answer, answer_json, row, request_digest))
        events.append(
            AuditEvent(
                actor=partner_id, action="score.create", subject=answer.id,
                model_version=answer.model.version or UNREGISTERED,
                input_digest=request_digest, output_digest=digest(answer_json), at=at,
            )
        )  # fmt: skip
        results[i] = {"index": i, "status": int(HTTPStatus.CREATED), "score": answer_json}
    if applications:  # bulk inserts: the applications before the scores that name them
        session.execute(insert(Application), applications)
        session.execute(insert(Score), scores)
        append_many(session, events)
    body = _batch(f"sb_{secrets.token_hex(BATCH_ID_BYTES)}", [r for r in results if r], at, rid)
    if claim is not None:
        record(session, claim, HTTPStatus.OK, body)
    session.commit()
    return body


def _member_digested(item: ScoreCreate, key: bytes) -> dict[str, str]:
    """The item's member for the body digest: by number, its keyed hash and cooperative
    (both spellings of a number agree); otherwise a keyed hash of what was sent. Whether
    the member is in reach does not enter, so a replay finds its record either way."""
    if isinstance(item.member, MemberByNumber):
        _, number = member_id_of(item.member.cooperative_id, item.member.member_number)
        try:
            ref = member_ref_from_number(item.member.cooperative_id, number, key)
            return {"member_ref": ref.ref, "cooperative_id": str(ref.cooperative_id)}
        except MemberRefError:
            pass
    sent = canonical_json(item.member.model_dump(mode="json")).decode("utf-8")
    return {"sent": keyed_hash(sent, key)}


def batch_claim(
    principal: Principal, body: ScoreBatchCreate, key: bytes, idempotency_key: str
) -> Claim:
    """The claim of this batch on `idempotency_key`: the body digested with each member as
    its keyed hash, never a member number or NIK in clear (see `serving.idempotency`)."""
    items = []
    for item in body.items:
        one = item.model_dump(mode="json", exclude={"member"})
        one["member"] = _member_digested(item, key)
        items.append(one)
    return Claim(principal.partner.id, idempotency_key, body_digest({"items": items}))


def replay_batch(found: IdempotencyRecord, claim: Claim, resolved: Resolved) -> JSONResponse:
    """The stored batch (409 when the body differs), with every item whose member is out
    of reach now answered by its problem instead of its stored score."""
    replay(found, claim)  # raises 409 on another body
    stored_body: dict[str, Any] = found.response
    results = [
        r if isinstance(now, Reached) or r["status"] != HTTPStatus.CREATED
        else _failed(r["index"], now)
        for r, now in zip(stored_body["results"], resolved.items, strict=True)
    ]  # fmt: skip
    answer = _batch(stored_body["id"], results, datetime.now(UTC), stored_body["request_id"])
    answer["scored_at"] = stored_body["scored_at"]
    return JSONResponse(answer, status_code=found.status_code, headers={REPLAYED_HEADER: "true"})


@router.post(
    "",
    response_model=ScoreBatchPublic,
    responses={401: {}, 403: {}, 409: {}, 422: {}, 503: {}},
)
def post_score_batch(
    body: ScoreBatchCreate,
    principal: BatchWriter,
    session: SessionDep,
    scoring: ScoringDep,
    request: Request,
    key: IdempotencyKeyDep,
) -> Response:
    """Score many consented members' loan requests at once: one result per item, in order
    (a score, or the problem `POST /v1/scores` would answer). With an `Idempotency-Key`
    the same key and body answer the stored batch again."""
    settings, model, profiles = scoring.settings, scoring.model, scoring.profiles
    if len(body.items) > settings.max_batch_items:
        raise _too_large(len(body.items), settings.max_batch_items)
    try:
        pii = pii_key(settings)
    except PiiKeyMissingError:
        raise PiiKeyUnavailableError(
            "The server has no PII key, so no member can be scored.",
            "Server tidak memiliki kunci PII, sehingga anggota tidak dapat dinilai.",
        ) from None
    at = datetime.now(UTC)
    resolved = resolve_items(session, principal, body.items, pii, profiles, at)
    rid = request_id(request)
    limit = settings.member_scores_per_day
    claim = batch_claim(principal, body, pii, key) if key is not None else None
    if claim is not None:
        found = stored(session, claim)
        if found is not None:
            return replay_batch(found, claim, resolved)
    resolved = within_velocity(session, principal, resolved, limit, at)
    try:
        answer = create_batch(
            session, model, profiles, principal, body.items, resolved, at, rid, claim
        )
    except IntegrityError as error:  # another request committed this key first
        if claim is None:
            raise
        return replay_after_conflict(session, claim, error)
    for result in answer["results"]:
        if result["status"] == HTTPStatus.CREATED:
            count_score(request, result["score"]["grade"], result["score"]["decision"])
    return JSONResponse(answer)
