"""The result page, the officer's decision, the decision letter and the queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from features.catalog import FiveC
from features.wording import Lang
from serving.console.books import LoadedBook
from serving.console.charts import diverging_bars
from serving.console.pages_members import FIVE_C_ORDER, book_of
from serving.console.render import page_lang, render
from serving.console.service import (
    DECISIONS,
    ApplicationView,
    FormInvalidError,
    QueueStatus,
    decide,
    own_application,
    queue,
)
from serving.console.session import OfficerDep, PageError, checked_form
from serving.console.wording import text
from serving.officers import CurrentOfficer, OfficerRole
from serving.schemas import ReasonPublic

router = APIRouter()


def _application(request: Request, officer: CurrentOfficer, score_id: str) -> ApplicationView:
    with request.app.state.sessions() as session:
        view = own_application(session, officer, score_id)
    if view is None:
        raise PageError(404, "page_not_found", "not-found")
    return view


def _member(loaded: LoadedBook, member_ref: str) -> tuple[str, str]:
    """(member number, name) of the keyed hash the store holds."""
    member_id = loaded.member_of_ref.get(member_ref)
    if member_id is None:
        return "", ""
    members = loaded.book.members
    name = members.loc[members["member_id"] == member_id, "name"]
    return member_id.removeprefix(f"{loaded.book.cooperative_id}-"), str(name.iloc[0])


def reasons_by_five_c(reasons: list[ReasonPublic], lang: Lang) -> list[dict[str, Any]]:
    groups = []
    for group in FIVE_C_ORDER:
        mine = [r for r in reasons if r.group == group.value]
        if mine:
            label = FiveC(group).label_id if lang == "id" else FiveC(group).label_en
            groups.append({"key": group.value, "label": label, "reasons": mine})
    return groups


def _result_context(request: Request, view: ApplicationView, loaded: LoadedBook) -> dict[str, Any]:
    lang = page_lang(request)
    score = view.score
    adverse = [r for r in score.reasons if r.direction == "adverse"]
    favourable = [r for r in score.reasons if r.direction == "favourable"]
    chart = diverging_bars(
        [((r.text_id if lang == "id" else r.text_en), r.impact_points) for r in score.reasons],
        text("contribution", lang),
        "; ".join(
            f"{r.text_id if lang == 'id' else r.text_en}: {r.impact_points:+.0f}"
            for r in score.reasons
        ),
    )
    number, name = _member(loaded, view.member_ref)
    return {
        "view": view, "score": score, "adverse": adverse, "favourable": favourable,
        "groups": reasons_by_five_c(adverse, lang), "chart": chart, "number": number,
        "name": name,
        "decision_text": score.decision_text_id if lang == "id" else score.decision_text_en,
    }  # fmt: skip


@router.get("/applications/{score_id}")
def result_page(request: Request, score_id: str, officer: OfficerDep) -> Response:
    view = _application(request, officer, score_id)
    loaded = book_of(request, officer)
    return render(
        request, "result.html", **_result_context(request, view, loaded), problems={},
        chosen=None, typed_reason="",
    )  # fmt: skip


def _decide(
    request: Request, officer: CurrentOfficer, score_id: str, decision: str, reason: str
) -> None:
    with request.app.state.sessions() as session:
        view = own_application(session, officer, score_id)
        if view is None:
            raise PageError(404, "page_not_found", "not-found")
        decide(session, officer, view, decision, reason)


@router.post("/applications/{score_id}/decision")
async def decision_post(request: Request, score_id: str, officer: OfficerDep) -> Response:
    form = await checked_form(request, officer)
    decision = str(form.get("decision") or "")[:16]
    reason = str(form.get("reason") or "")[:4_000]
    try:
        await run_in_threadpool(_decide, request, officer, score_id, decision, reason)
    except FormInvalidError as exc:
        view = await run_in_threadpool(_application, request, officer, score_id)
        loaded = book_of(request, officer)
        return render(
            request, "result.html", 422, **_result_context(request, view, loaded),
            problems=exc.problems, chosen=decision if decision in DECISIONS else None,
            typed_reason=reason,
        )  # fmt: skip
    return RedirectResponse(f"/console/applications/{score_id}", status_code=303)


@router.get("/applications/{score_id}/letter")
def letter_page(request: Request, score_id: str, officer: OfficerDep) -> Response:
    view = _application(request, officer, score_id)
    loaded = book_of(request, officer)
    return render(request, "letter.html", **_result_context(request, view, loaded))


@router.get("/applications")
def queue_page(
    request: Request,
    officer: OfficerDep,
    status: str = "all",
    grade: str = "",
    decision: str = "",
    overridden: str = "",
) -> Response:
    loaded = book_of(request, officer)
    chosen: QueueStatus = status if status in ("pending", "decided") else "all"  # type: ignore[assignment]
    supervisor = officer.role == OfficerRole.SUPERVISOR
    with request.app.state.sessions() as session:
        rows = queue(
            session, officer.cooperative_id, chosen, grade[:2] or None,
            decision if decision in DECISIONS else None,
            overridden_only=supervisor and overridden == "1",
            officer_id=None if supervisor else officer.officer_id,
        )  # fmt: skip
    members = {r.member_ref: _member(loaded, r.member_ref) for r in rows}
    return render(
        request, "queue.html", rows=rows, members=members, chosen_status=chosen, grade=grade[:2],
        decision=decision, overridden=overridden == "1", supervisor=supervisor,
    )  # fmt: skip
