"""Home, member search, the member page and the application form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from features.book import collection_list, member_view, search_members
from features.catalog import FiveC, format_value
from features.ledger.enums import LoanProduct, LoanPurpose
from features.wording import Lang
from serving.console.books import LoadedBook
from serving.console.charts import bars
from serving.console.render import page_lang, render
from serving.console.service import (
    FormInvalidError,
    LoanForm,
    ScoringError,
    parse_loan_form,
    pending_count,
    score_for_officer,
)
from serving.console.session import OfficerDep, PageError, checked_form
from serving.console.wording import text
from serving.errors import request_id
from serving.members import member_id_of
from serving.officers import CurrentOfficer

router = APIRouter()
FIVE_C_ORDER = (FiveC.CHARACTER, FiveC.CAPACITY, FiveC.CAPITAL, FiveC.COLLATERAL, FiveC.CONDITION)


def book_of(request: Request, officer: CurrentOfficer) -> LoadedBook:
    """The officer's cooperative's book; a page error when no ledger is available."""
    loaded = request.app.state.books.get(officer.cooperative_id)
    if loaded is None:
        raise PageError(503, "unavailable", "no-ledger", detail="ledger")
    assert isinstance(loaded, LoadedBook)
    return loaded


def _member_id(officer: CurrentOfficer, number: str, loaded: LoadedBook) -> str:
    member_id, _ = member_id_of(officer.cooperative_id, number[:64])
    members = loaded.book.members
    if not bool((members["member_id"] == member_id).any()):
        raise PageError(404, "member_not_found", "not-found")
    return member_id


@router.get("/")
def home(request: Request, officer: OfficerDep) -> Response:
    loaded = book_of(request, officer)
    with request.app.state.sessions() as session:
        pending = pending_count(session, officer.cooperative_id)
    due = len(collection_list(loaded.book, loaded.positions))
    return render(request, "home.html", pending=pending, due=due, book=loaded.book)


@router.get("/members")
def search(request: Request, officer: OfficerDep, q: str = "") -> Response:
    loaded = book_of(request, officer)
    query = q.strip()[:100]
    hits = search_members(loaded.book, query, limit=50) if query else []
    return render(request, "search.html", q=query, hits=hits)


def profile_groups(request: Request, member_id: str, lang: Lang) -> list[dict[str, Any]]:
    """The member's current profile by 5C, with the catalog's labels and formatted values."""
    profiles = request.app.state.profiles
    model = getattr(request.app.state, "model", None)
    if profiles is None or model is None:
        return []
    profile = profiles.fetch(member_id)
    if profile is None:
        return []
    groups = []
    for group in FIVE_C_ORDER:
        rows = [
            {
                "label": f.description_id if lang == "id" else f.description_en,
                "value": format_value(f, profile.get(f.name), lang),
            }
            for f in model.catalog
            if f.group == group and f.name in profile
        ]
        if rows:
            label = group.label_id if lang == "id" else group.label_en
            groups.append({"key": group.value, "label": label, "rows": rows})
    return groups


@router.get("/members/{number}")
def member_page(request: Request, number: str, officer: OfficerDep) -> Response:
    loaded = book_of(request, officer)
    member_id = _member_id(officer, number, loaded)
    view = member_view(loaded.book, member_id, loaded.positions)
    if view is None:
        raise PageError(404, "member_not_found", "not-found")
    lang = page_lang(request)
    months = view.savings_months
    savings_chart = bars(
        [m.balance for m in months],
        text("savings_chart", lang),
        ", ".join(f"{m.month}: {m.balance}" for m in months[-3:]),
    )
    lines = view.instalments
    late_chart = bars(
        [float(line.days_late or 0) for line in lines],
        text("repayment_chart", lang),
        f"{sum(1 for x in lines if (x.days_late or 0) > 0)} / {len(lines)}",
        classes=["late" if (x.days_late or 0) > 0 else "" for x in lines],
    )
    profiles = request.app.state.profiles
    return render(
        request, "member.html", view=view, number=view.hit.number,
        groups=profile_groups(request, member_id, lang), savings_chart=savings_chart,
        late_chart=late_chart, profile_as_of=profiles.as_of if profiles is not None else None,
    )  # fmt: skip


def _purposes(lang: Lang) -> list[tuple[str, str]]:
    return [(p.value, p.label_id if lang == "id" else p.label_en) for p in LoanPurpose]


def _products(lang: Lang) -> list[tuple[str, str]]:
    return [(p.value, p.label_id if lang == "id" else p.label_en) for p in LoanProduct]


def _apply_page(
    request: Request,
    number: str,
    name: str,
    form: LoanForm,
    problems: dict[str, tuple[str, dict[str, object]]] | None = None,
    status: int = 200,
) -> Response:
    lang = page_lang(request)
    return render(
        request, "apply.html", status, number=number, name=name, form=form,
        problems=problems or {}, purposes=_purposes(lang), products=_products(lang),
    )  # fmt: skip


def _name(loaded: LoadedBook, member_id: str) -> str:
    members = loaded.book.members
    found = members.loc[members["member_id"] == member_id, "name"]
    return str(found.iloc[0]) if len(found) else ""


@router.get("/members/{number}/apply")
def apply_page(request: Request, number: str, officer: OfficerDep) -> Response:
    loaded = book_of(request, officer)
    member_id = _member_id(officer, number, loaded)
    _, plain = member_id_of(officer.cooperative_id, number)
    return _apply_page(request, plain, _name(loaded, member_id), LoanForm())


def _form_of(values: Any) -> LoanForm:
    def get(key: str, default: str = "") -> str:
        value = values.get(key)
        return str(value)[:64] if isinstance(value, str) else default

    return LoanForm(
        amount=get("amount"), tenor_months=get("tenor_months"), purpose=get("purpose"),
        product=get("product", "working_capital"),
        flat_rate_percent=get("flat_rate_percent", "1,5"),
        declared_income=get("declared_income"), declared_expenses=get("declared_expenses"),
        income_verified=values.get("income_verified") in ("1", "on", "true"),
    )  # fmt: skip


def _score(
    request: Request,
    officer: CurrentOfficer,
    member_id: str,
    member_ref: str,
    form: LoanForm,
) -> str:
    loan = parse_loan_form(form, datetime.now(UTC))
    state = request.app.state
    model = getattr(state, "model", None)
    if model is None or state.profiles is None:
        raise PageError(503, "unavailable", "unavailable", detail="model")
    with state.sessions() as session:
        return score_for_officer(
            session, model, state.profiles, officer, member_id, member_ref, loan,
            request_id(request),
        )  # fmt: skip


@router.post("/members/{number}/apply")
async def apply_post(request: Request, number: str, officer: OfficerDep) -> Response:
    values = await checked_form(request, officer)
    loaded = book_of(request, officer)
    member_id = _member_id(officer, number, loaded)
    _, plain = member_id_of(officer.cooperative_id, number)
    member_ref = loaded.ref_of_member.get(member_id)
    if member_ref is None:  # no PII key: the store could not name the member
        raise PageError(503, "unavailable", "unavailable", detail="AMANAH_PII_KEY")
    form = _form_of(values)
    try:
        score_id = await run_in_threadpool(_score, request, officer, member_id, member_ref, form)
    except FormInvalidError as exc:
        return _apply_page(request, plain, _name(loaded, member_id), form, exc.problems, 422)
    except ScoringError:
        raise PageError(404, "no_profile", "no-profile") from None
    return RedirectResponse(f"/console/applications/{score_id}", status_code=303)
