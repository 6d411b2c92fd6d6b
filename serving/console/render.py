"""Pages from templates: one Jinja2 environment per process, the language of the request,
and the formatting filters of `features.wording` (the one formatting module)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from features.wording import Lang, format_date, format_int, format_percent, format_rupiah
from serving.console.wording import text

LANG_COOKIE = "amanah_lang"
# the pages show times in Balikpapan's zone (the seed city); a deployment elsewhere would
# make this a setting
WITA = dt.timezone(dt.timedelta(hours=8), "WITA")
TEMPLATES = Path(__file__).parent / "templates"


def page_lang(request: Request) -> Lang:
    """The language the officer chose (cookie), Indonesian by default."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "id"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["rupiah"] = lambda v: "\u2013" if v is None else format_rupiah(int(v))
    return env


def _date(value: dt.date | str | None, lang: Lang) -> str:
    return "\u2013" if value is None else format_date(value, lang)


def _datetime(value: dt.datetime | None, lang: Lang) -> str:
    if value is None:
        return "\u2013"
    local = value.astimezone(WITA)
    return f"{format_date(local.date(), lang)} {local:%H.%M} WITA"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """`template` rendered for `request` in the officer's language."""
    lang = page_lang(request)

    def t(key: str, **values: object) -> str:
        return text(key, lang, **values)

    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    switch = {
        code: "?" + urlencode([*kept, ("lang", code)]) for code in ("id", "en")
    }  # a link that keeps the page's own query (a search stays a search)
    page = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            switch=switch,
            t=t,
            path=request.url.path,
            officer=getattr(request.state, "officer", None),
            d=lambda v: _date(v, lang),
            dtm=lambda v: _datetime(v, lang),
            pct=lambda v, places=1: "\u2013" if v is None else format_percent(v, lang, places),
            num=lambda v: "\u2013" if v is None else format_int(int(v), lang),
            **context,
        )
    )
    return HTMLResponse(page, status_code=status, headers=_headers())


def _headers() -> dict[str, str]:
    # pages are personal: never cached by a shared proxy, never framed, no outside sources
    return {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'"
        ),
    }
