"""What an officer does, below the pages: score an application, decide it, read it back.

The scoring path is the API's (`serving.scoring.score_application`, `public_score`), the
rows are the API's tables (`applications`, `scores`, `decisions`) and every score and
decision is appended to the same audit chain: a score by an officer differs from a
partner's only in `partner_id` (none) and `applications.officer` (her id). A member of the
officer's own cooperative needs no partner consent: the cooperative scores its own
members' ledger for its own lending (DOMAIN.md); a partner still needs one.

An application belongs to the cooperative it was scored for; any other cooperative's
officer gets the same "not found" as for an id that does not exist. The console shows
the officers' own applications; a partner's scores of a member stay the partner's (the
partner decides on them, through the API).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from features.application import LoanRequest, LoanRequestError
from features.ledger.parsing import ParseError, parse_rupiah
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from serving.api.scores import UNREGISTERED, public_score, score_values
from serving.audit import AuditEvent, append, digest
from serving.officers import CurrentOfficer
from serving.schemas import DEFAULT_FLAT_MONTHLY_RATE, ScorePublic
from serving.scoring import ScoringError, request_summary, score_application
from serving.store.database import table_of
from serving.store.tables import Application, Decision, Officer, Score

__all__ = [
    "DECISIONS",
    "ApplicationView",
    "FormInvalidError",
    "LoanForm",
    "QueueRow",
    "decide",
    "own_application",
    "parse_loan_form",
    "queue",
    "score_for_officer",
]

OfficerDecision = Literal["approve", "decline", "refer"]
DECISIONS: tuple[OfficerDecision, ...] = ("approve", "decline", "refer")
MAX_REASON_CHARS = 2_000
_INSERT_APPLICATION = insert(table_of(Application))
_INSERT_SCORE = insert(table_of(Score))


class FormInvalidError(ValueError):
    """The form cannot be used; `problems` maps each field to its wording key."""

    def __init__(self, problems: dict[str, tuple[str, dict[str, object]]]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class LoanForm:
    """The application form as typed (text), kept to show it again with its errors."""

    amount: str = ""
    tenor_months: str = "12"
    purpose: str = ""
    product: str = "working_capital"
    flat_rate_percent: str = "1,5"
    declared_income: str = ""
    declared_expenses: str = ""
    income_verified: bool = False


def _rupiah(raw: str, field: str, problems: dict[str, Any], *, required: bool) -> int | None:
    text = raw.strip()
    if not text:
        if required:
            problems[field] = ("err_amount", {})
        return None
    try:
        value = parse_rupiah(text)
    except ParseError:
        value = -1
    low = 1 if required else 0
    if value < low:
        problems[field] = ("err_amount" if required else "err_money", {})
        return None
    return value


def _percent(raw: str) -> float | None:
    text = raw.strip().replace("%", "").replace(",", ".")
    try:
        return round(float(text) / 100, 6)
    except ValueError:
        return None


def parse_loan_form(form: LoanForm, on: datetime) -> LoanRequest:
    """The typed form as a `LoanRequest` dated `on`; FormInvalidError naming each field."""
    problems: dict[str, tuple[str, dict[str, object]]] = {}
    amount = _rupiah(form.amount, "amount", problems, required=True)
    income = _rupiah(form.declared_income, "declared_income", problems, required=False)
    expenses = _rupiah(form.declared_expenses, "declared_expenses", problems, required=False)
    tenor_text = form.tenor_months.strip()
    tenor = int(tenor_text) if tenor_text.isdigit() else 0
    if not 1 <= tenor <= 60:
        problems["tenor_months"] = ("err_tenor", {})
    rate = _percent(form.flat_rate_percent) if form.flat_rate_percent.strip() else None
    if rate is None and form.flat_rate_percent.strip():
        problems["flat_rate_percent"] = ("err_loan", {"detail": "bunga flat"})
    if not form.purpose.strip():
        problems["purpose"] = ("err_purpose", {})
    if problems:
        raise FormInvalidError(problems)
    assert amount is not None
    try:
        return LoanRequest(
            amount=amount, tenor_months=tenor, purpose=form.purpose, product=form.product,
            flat_monthly_rate=DEFAULT_FLAT_MONTHLY_RATE if rate is None else rate,
            application_date=on.date(), declared_monthly_income=income or None,
            declared_household_expenses=expenses,
            income_verified=form.income_verified if (income or expenses) else None,
        )  # fmt: skip
    except LoanRequestError as exc:
        field = str(exc).split(":", 1)[0].split(" ", 1)[0]
        known = {"purpose", "product", "amount", "tenor_months", "flat_monthly_rate"}
        where = field if field in known else "amount"
        where = "flat_rate_percent" if where == "flat_monthly_rate" else where
        raise FormInvalidError({where: ("err_loan", {"detail": str(exc)})}) from None


def score_for_officer(
    session: Session,
    model: AmanahModel,
    profiles: ProfileStore,
    officer: CurrentOfficer,
    member_id: str,
    member_ref: str,
    request: LoanRequest,
    rid: str,
) -> str:
    """Score the member's application as the officer entered it, store the application,
    the score and its audit entry in one transaction, and return the score's id.

    Raises ScoringError when the member has no profile."""
    scored_at = datetime.now(UTC)
    scored = score_application(model, profiles, member_id, request)
    score_id = f"sc_{secrets.token_hex(16)}"
    answer = public_score(score_id, scored, scored_at, rid)
    answer_json = answer.model_dump(mode="json")
    application = {
        "id": f"app_{secrets.token_hex(16)}", "partner_id": None,
        "officer": officer.officer_id, "cooperative_id": officer.cooperative_id,
        "member_ref": member_ref, "consent_id": None, "amount": request.amount,
        "tenor_months": request.tenor_months, "purpose": request.purpose,
        "declared_income": request.declared_monthly_income,
        "declared_expenses": request.declared_household_expenses,
        "received_at": scored_at, "request_id": rid,
    }  # fmt: skip
    request_digest = digest(
        {
            "member_ref": member_ref,
            "cooperative_id": officer.cooperative_id,
            "loan": request_summary(request),
            "officer": officer.officer_id,
        }
    )
    session.execute(_INSERT_APPLICATION, application)
    session.execute(_INSERT_SCORE, score_values(answer, answer_json, application, request_digest))
    append(
        session,
        AuditEvent(
            actor=officer.officer_id, action="score.create", subject=score_id,
            model_version=answer.model.version or UNREGISTERED, input_digest=request_digest,
            output_digest=digest(answer_json), at=scored_at,
        ),
    )  # fmt: skip
    session.commit()
    return score_id


@dataclass(frozen=True)
class ApplicationView:
    """One scored application as the result page and the letter show it."""

    score: ScorePublic
    application_id: str
    member_ref: str
    amount: int
    tenor_months: int
    purpose: str
    declared_income: int | None
    declared_expenses: int | None
    officer_id: str | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    overridden: bool
    decision_reason: str | None

    @property
    def recommendation(self) -> str:
        return self.score.decision


def own_application(
    session: Session, officer: CurrentOfficer, score_id: str
) -> ApplicationView | None:
    """The application scored as `score_id` in the officer's cooperative, else None."""
    row = session.execute(
        select(Score, Application)
        .join(Application, Score.application_id == Application.id)
        .where(
            Score.id == score_id[:64],
            Score.cooperative_id == officer.cooperative_id,
            Score.partner_id.is_(None),
        )
    ).first()
    if row is None:
        return None
    score, application = row
    decided = session.scalars(
        select(Decision).where(Decision.score_id == score.id).order_by(Decision.id.desc())
    ).first()
    return ApplicationView(
        score=ScorePublic.model_validate(score.answer),
        application_id=application.id, member_ref=application.member_ref,
        amount=application.amount, tenor_months=application.tenor_months,
        purpose=application.purpose, declared_income=application.declared_income,
        declared_expenses=application.declared_expenses, officer_id=application.officer,
        decision=decided.decision if decided else None,
        decided_by=_officer_name(session, decided.decided_by) if decided else None,
        decided_at=decided.decided_at if decided else None,
        overridden=bool(decided.overridden) if decided else False,
        decision_reason=decided.reason if decided else None,
    )  # fmt: skip


def _officer_name(session: Session, officer_id: str) -> str:
    found = session.get(Officer, officer_id)
    return found.display_name if found is not None else officer_id


def decide(
    session: Session,
    officer: CurrentOfficer,
    view: ApplicationView,
    decision: str,
    reason: str,
) -> None:
    """Record the officer's decision on `view` (a person decided), audited in the chain.

    Going against the recommendation needs a written reason. FormInvalidError names the
    field; an application already decided raises FormInvalidError on `decision`."""
    reason = reason.strip()
    problems: dict[str, tuple[str, dict[str, object]]] = {}
    if decision not in DECISIONS:
        problems["decision"] = ("err_decision", {})
    elif view.decision is not None:
        problems["decision"] = ("already_decided", {})
    overridden = decision != view.recommendation
    if decision in DECISIONS and overridden and not reason:
        problems["reason"] = ("err_reason", {})
    if len(reason) > MAX_REASON_CHARS:
        problems["reason"] = ("err_reason_long", {})
    if problems:
        raise FormInvalidError(problems)
    at = datetime.now(UTC)
    session.add(
        Decision(
            score_id=view.score.id, decided_by=officer.officer_id, by_person=True,
            decision=decision, overridden=overridden, reason=reason or None, decided_at=at,
        )
    )  # fmt: skip
    recorded = {
        "score_id": view.score.id, "decision": decision, "overridden": overridden,
        "recommended": view.recommendation, "by_person": True,
        "reason_digest": digest(reason) if reason else None,
    }  # fmt: skip
    append(
        session,
        AuditEvent(
            actor=officer.officer_id, action="decision.create", subject=view.score.id,
            model_version=view.score.model.version or UNREGISTERED,
            input_digest=digest(view.score.model_dump(mode="json")),
            output_digest=digest(recorded), at=at,
        ),
    )  # fmt: skip
    session.commit()


@dataclass(frozen=True)
class QueueRow:
    score_id: str
    member_ref: str
    scored_at: datetime
    amount: int
    tenor_months: int
    grade: str
    pd: float
    recommendation: str
    decision: str | None
    overridden: bool
    officer_id: str | None
    partner_id: str | None


QueueStatus = Literal["all", "pending", "decided"]


def queue(
    session: Session,
    cooperative_id: str,
    status: QueueStatus = "all",
    grade: str | None = None,
    recommendation: str | None = None,
    overridden_only: bool = False,
    officer_id: str | None = None,
    limit: int = 100,
) -> list[QueueRow]:
    """The cooperative's scored applications (only `officer_id`'s when given: an officer
    sees her own, a supervisor everyone's), newest first, filtered."""
    last = (
        select(Decision.score_id, func.max(Decision.id).label("id"))
        .group_by(Decision.score_id)
        .subquery()
    )
    query = (
        select(Score, Application, Decision)
        .join(Application, Score.application_id == Application.id)
        .outerjoin(last, last.c.score_id == Score.id)
        .outerjoin(Decision, Decision.id == last.c.id)
        .where(Score.cooperative_id == cooperative_id, Score.partner_id.is_(None))
    )
    if status == "pending":
        query = query.where(Decision.id.is_(None))
    elif status == "decided":
        query = query.where(Decision.id.is_not(None))
    if officer_id is not None:
        query = query.where(Application.officer == officer_id)
    if grade:
        query = query.where(Score.grade == grade)
    if recommendation:
        query = query.where(Score.decision == recommendation)
    if overridden_only:
        query = query.where(Decision.overridden.is_(True))
    rows = session.execute(query.order_by(Score.scored_at.desc()).limit(limit)).all()
    return [
        QueueRow(
            score_id=s.id,
            member_ref=s.member_ref,
            scored_at=s.scored_at,
            amount=a.amount,
            tenor_months=a.tenor_months,
            grade=s.grade,
            pd=s.pd,
            recommendation=s.decision,
            decision=d.decision if d else None,
            overridden=bool(d.overridden) if d else False,
            officer_id=a.officer,
            partner_id=s.partner_id,
        )
        for s, a, d in rows
    ]


def pending_count(session: Session, cooperative_id: str) -> int:
    decided = select(Decision.score_id)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Score)
            .where(
                Score.cooperative_id == cooperative_id,
                Score.partner_id.is_(None),
                Score.id.not_in(decided),
            )
        )
        or 0
    )


__all__ += ["ScoringError", "pending_count"]
