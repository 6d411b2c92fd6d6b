"""Who is asking, for every console page: the session cookie, the CSRF token, the errors
that become pages.

- `OfficerDep`: the logged-in officer (`serving.officers.CurrentOfficer`). Without a valid
  session the page answers 303 to the login page, with `next` (and `expired` when a
  session cookie was sent but is no longer valid: idle, too old, or logged out).
- `checked_form(request, officer)`: the posted form, once its `csrf_token` matches the
  session's (synchronizer token); otherwise 403. The login form, before any session, uses
  a double-submit cookie (`LOGIN_CSRF_COOKIE`) instead.
- `PageError`: an error page with its status and wording key (404 for a member outside the
  officer's cooperative, exactly as for one who does not exist).
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from serving.console.render import render
from serving.officers import CurrentOfficer, csrf_matches, current_officer

SESSION_COOKIE = "amanah_session"
LOGIN_CSRF_COOKIE = "amanah_login_csrf"
LOGIN_PATH = "/console/login"


class LoginRequiredError(Exception):
    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


class CsrfRejectedError(Exception):
    """A form posted without this session's CSRF token."""


class PageError(Exception):
    """An error shown as a page: `key` is the wording of `serving.console.wording`."""

    def __init__(self, status: int, key: str, error: str, **values: object) -> None:
        super().__init__(key)
        self.status, self.key, self.error, self.values = status, key, error, values


def officer_of(request: Request) -> CurrentOfficer:
    """The officer of the session cookie (see the module docstring)."""
    token = request.cookies.get(SESSION_COOKIE)
    found = None
    if token:
        with request.app.state.sessions() as session:
            found = current_officer(session, token)
            session.commit()
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(target, expired=bool(token))
    request.state.officer = found
    return found


OfficerDep = Annotated[CurrentOfficer, Depends(officer_of)]


async def checked_form(request: Request, officer: CurrentOfficer) -> FormData:
    """The posted form when its CSRF token is this session's; else CsrfRejectedError."""
    form = await request.form()
    presented = form.get("csrf_token")
    if not csrf_matches(officer.csrf_token, presented if isinstance(presented, str) else None):
        raise CsrfRejectedError
    return form


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def safe_next(value: str | None) -> str:
    """A `next` target inside the console only (no open redirect to another site)."""
    if value and value.startswith("/console/") and not value.startswith("//"):
        return value
    return "/console/"


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    where = f"{LOGIN_PATH}?next={quote(exc.next_path, safe='/')}"
    response = RedirectResponse(where + ("&expired=1" if exc.expired else ""), status_code=303)
    if exc.expired:
        response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", 403, message_key="csrf", error="csrf", values={})


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(
        request, "error.html", exc.status, message_key=exc.key, error=exc.error, values=exc.values
    )


HANDLERS = {
    LoginRequiredError: _login_required,
    CsrfRejectedError: _csrf_rejected,
    PageError: _page_error,
}
