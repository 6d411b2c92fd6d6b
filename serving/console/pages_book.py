"""The collection list and the portfolio page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from features.book import collection_list
from serving.config import features_dir
from serving.console.charts import bars
from serving.console.pages_members import book_of
from serving.console.portfolio import figures
from serving.console.render import page_lang, render
from serving.console.session import OfficerDep
from serving.console.wording import text

router = APIRouter()


@router.get("/collections")
def collections_page(request: Request, officer: OfficerDep) -> Response:
    loaded = book_of(request, officer)
    items = collection_list(loaded.book, loaded.positions)
    return render(request, "collections.html", items=items, book=loaded.book)


@router.get("/portfolio")
def portfolio_page(request: Request, officer: OfficerDep) -> Response:
    loaded = book_of(request, officer)
    state = request.app.state
    with state.sessions() as session:
        found = figures(
            session, loaded, getattr(state, "model", None), state.profiles,
            features_dir(state.settings), state.model_figures,
        )  # fmt: skip
    lang = page_lang(request)
    bands = found.book.bands
    kol_chart = bars(
        [b.outstanding for b in bands],
        text("by_kol", lang),
        "; ".join(f"kol {b.kolektibilitas}: {b.outstanding}" for b in bands),
        classes=["npl" if b.kolektibilitas >= 3 else "" for b in bands],
    )
    score_chart = bars(
        [n for _, n in found.score_buckets],
        text("score_distribution", lang),
        "; ".join(f"{low}-{low + 24}: {n}" for low, n in found.score_buckets),
    )
    return render(
        request, "portfolio.html", found=found, kol_chart=kol_chart, score_chart=score_chart,
        book=loaded.book, report_url="/console/model/report",
    )  # fmt: skip
