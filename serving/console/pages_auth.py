"""Log in, log out and the language switch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from serving.config import secure_cookies
from serving.console.render import LANG_COOKIE, WITA, render
from serving.console.session import (
    LOGIN_CSRF_COOKIE,
    LOGIN_PATH,
    SESSION_COOKIE,
    OfficerDep,
    checked_form,
    new_login_csrf,
    safe_next,
)
from serving.officers import (
    SESSION_LIFETIME,
    LoginOutcome,
    OpenedSession,
    close_session,
    csrf_matches,
    login,
    open_session,
)

router = APIRouter()
COOKIE_PATH = "/console"


class LanguageSwitchError(Exception):
    """`?lang=` on a page: remember the choice and show the page again without it."""

    def __init__(self, lang: str, target: str) -> None:
        super().__init__(lang)
        self.lang, self.target = lang, target


def lang_switch(request: Request) -> None:
    """Every console page takes `?lang=id|en` (a plain link, no script needed)."""
    lang = request.query_params.get("lang")
    if lang in ("id", "en"):
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        query = urlencode(rest)
        raise LanguageSwitchError(lang, request.url.path + (f"?{query}" if query else ""))


async def _switched(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LanguageSwitchError)
    response = RedirectResponse(exc.target, status_code=303)
    response.set_cookie(
        LANG_COOKIE, exc.lang, max_age=365 * 86_400, path=COOKIE_PATH, samesite="lax",
        secure=secure_cookies(request.app.state.settings),
    )  # fmt: skip
    return response


def _login_page(
    request: Request, status: int = 200, error: str | None = None, **values: object
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    notice = None
    if request.query_params.get("expired"):
        notice = "expired"
    elif request.query_params.get("logged_out"):
        notice = "logged_out"
    response = render(
        request, "login.html", status, csrf_token=token, error=error, values=values,
        notice=notice, next=safe_next(request.query_params.get("next")),
    )  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="strict",
        secure=secure_cookies(request.app.state.settings),
    )  # fmt: skip
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return _login_page(request)


def _attempt(
    request: Request, username: str, password: str
) -> tuple[LoginOutcome, OpenedSession | None]:
    with request.app.state.sessions() as session:
        outcome = login(session, username, password)
        opened = open_session(session, outcome.officer) if outcome.officer is not None else None
        session.commit()
    return outcome, opened


@router.post("/login")
async def login_post(request: Request) -> Response:
    form = await request.form()
    presented = form.get("csrf_token")
    if not csrf_matches(
        request.cookies.get(LOGIN_CSRF_COOKIE) or "",
        presented if isinstance(presented, str) else None,
    ):
        return render(request, "error.html", 403, message_key="csrf", error="csrf", values={})
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    outcome, opened = await run_in_threadpool(_attempt, request, username[:64], password[:256])
    if outcome.status == "locked":
        until = outcome.locked_until or datetime.now(UTC)
        return _login_page(request, 200, "locked", until=f"{until.astimezone(WITA):%H.%M} WITA")
    if outcome.status != "ok" or opened is None:
        return _login_page(request, 200, "bad-login")
    response = RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, opened.token, max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=secure_cookies(request.app.state.settings),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


def _end(request: Request, token: str) -> None:
    with request.app.state.sessions() as session:
        close_session(session, token)
        session.commit()


@router.post("/logout")
async def logout(request: Request, officer: OfficerDep) -> Response:
    await checked_form(request, officer)
    await run_in_threadpool(_end, request, request.cookies.get(SESSION_COOKIE) or "")
    response = RedirectResponse(f"{LOGIN_PATH}?logged_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


LangSwitchDep = Annotated[None, Depends(lang_switch)]
HANDLERS = {LanguageSwitchError: _switched}
