"""The officer console: server-rendered pages on the API's app, store and scoring path.

`install(app)` adds the pages under `/console`, the static files under
`/console/static`, the page-error handlers and the console's per-app state (the
cooperatives' books, the portfolio's model figures). See `serving.console.session` for
login, sessions and CSRF, and `serving.console.service` for what an officer's actions do.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from serving.console import (
    pages_applications,
    pages_auth,
    pages_book,
    pages_import,
    pages_members,
    pages_report,
)
from serving.console.books import BookCache, ledger_dir
from serving.console.pages_import import UPLOAD_LIMIT_BYTES
from serving.console.portfolio import ModelFiguresCache
from serving.console.session import HANDLERS
from serving.security import PiiKeyMissingError, pii_key

__all__ = ["UPLOADS", "install"]

STATIC = Path(__file__).parent / "static"
# paths whose request bodies may be larger than the API's limit (serving.body_limit)
UPLOADS = {"/console/import": UPLOAD_LIMIT_BYTES}


def install(app: FastAPI) -> None:
    settings = app.state.settings
    try:
        key: bytes | None = pii_key(settings)
    except PiiKeyMissingError:
        key = None
    app.state.books = BookCache(ledger_dir(settings), key)
    app.state.model_figures = ModelFiguresCache()
    router = APIRouter(
        prefix="/console", dependencies=[Depends(pages_auth.lang_switch)], include_in_schema=False
    )
    for pages in (
        pages_auth,
        pages_members,
        pages_applications,
        pages_book,
        pages_import,
        pages_report,
    ):
        router.include_router(pages.router)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    for handlers in (HANDLERS, pages_auth.HANDLERS):
        for error, handler in handlers.items():
            app.add_exception_handler(error, handler)
