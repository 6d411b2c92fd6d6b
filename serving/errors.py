"""Every error the API answers is RFC 9457 problem details (`application/problem+json`).

A problem carries `type`, `title`, `status`, `detail` (English), `code` (stable, for
programs), `request_id` (also the `X-Request-ID` header) and, where an officer may read it,
`detail_id` (Indonesian). Domain code raises a :class:`DomainError` subclass, which carries
its own status and code; one handler renders it. Validation errors name each field and
where it was (body, query, path, header) but never echo the value sent: it may be a NIK.
An unexpected exception answers 500 `internal_error` with no trace in the body; it is
logged with method, path and request id, never the request body.

`RequestContextMiddleware` is pure ASGI (no `BaseHTTPMiddleware`): it assigns the request
id and turns an exception that escaped every handler into the 500 problem itself, so the
response still carries the request id and the exception is logged once, here.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:amanah:problem:"  # + code; a name to compare, not a page to fetch
REQUEST_ID_HEADER = "X-Request-ID"
# a caller's own id is kept only when it is short and plain (it is echoed and logged)
INBOUND_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """An error the API answers on purpose. Subclasses set `status`, `code` and `title`;
    each instance says what happened in English (`detail`) and Indonesian (`detail_id`)."""

    status: int = HTTPStatus.BAD_REQUEST
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        detail_id: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_id = detail_id
        self.headers = dict(headers or {})


def request_id(request: Request) -> str:
    """The id `RequestContextMiddleware` gave this request."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def problem(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    request_id: str,
    detail_id: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """One problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    if detail_id is not None:
        body["detail_id"] = detail_id
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem(
        status=exc.status, code=exc.code, title=exc.title, detail=exc.detail,
        detail_id=exc.detail_id, request_id=request_id(request), headers=exc.headers,
    )  # fmt: skip


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Each invalid field: `location` (body, query, path, header, cookie), `field` (the
    dotted path inside it, "" for the whole body), `message` and pydantic's `type`."""
    found = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        found.append(
            {
                "location": loc[0] if loc else "request",
                "field": ".".join(loc[1:]),
                "message": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return found


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc)
    named = ", ".join(
        f"{e['location']}.{e['field']}" if e["field"] else e["location"] for e in errors
    )
    listed = "; ".join(f"{e['location']}.{e['field'] or '(whole)'}: {e['message']}" for e in errors)
    return problem(
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        code="validation_error",
        title="The request is not valid",
        detail=f"The request is not valid: {listed}",
        detail_id=f"Permintaan tidak valid; periksa: {named}",
        request_id=request_id(request),
        extra={"errors": errors},
    )


_HTTP_CODES = {
    404: ("not_found", "The requested resource does not exist.",
          "Sumber daya yang diminta tidak ada."),
    405: ("method_not_allowed", "This method is not allowed on this resource.",
          "Metode ini tidak diizinkan untuk sumber daya ini."),
}  # fmt: skip


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method) and any HTTPException."""
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    code, detail, detail_id = _HTTP_CODES.get(
        exc.status_code, (f"http_{exc.status_code}", None, None)
    )
    if detail is None or (isinstance(exc.detail, str) and exc.detail != phrase):
        detail = str(exc.detail)
        detail_id = None
    return problem(
        status=exc.status_code, code=code, title=phrase, detail=detail,
        detail_id=detail_id, request_id=request_id(request), headers=exc.headers,
    )  # fmt: skip


def add_problem_handlers(app: FastAPI) -> None:
    """Every error of `app` as problem+json, and the request id on every response."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(RequestContextMiddleware)


class RequestContextMiddleware:
    """Gives each HTTP request an id (the caller's `X-Request-ID` when plain, else a new
    one), echoes it as `X-Request-ID`, and answers an unhandled exception with the 500
    problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _inbound_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v) for k, v in message.get("headers", [])
                    if k.lower() != REQUEST_ID_HEADER.lower().encode()
                ]  # fmt: skip
                headers.append((REQUEST_ID_HEADER.lower().encode(), rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # method and path only: a query string or body may hold personal data
            logger.exception(
                "unexpected error on %s %s (request %s)", scope.get("method"),
                scope.get("path"), rid,
            )  # fmt: skip
            if started:  # the answer is half sent; the server closes the connection
                raise
            response = problem(
                status=HTTPStatus.INTERNAL_SERVER_ERROR,
                code="internal_error",
                title="Internal server error",
                detail="An unexpected error occurred; it has been logged with this request id.",
                detail_id="Terjadi kesalahan tak terduga; sudah dicatat dengan id permintaan ini.",
                request_id=rid,
            )
            await response(scope, receive, send_with_id)


def _inbound_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            return text if INBOUND_REQUEST_ID.match(text) else None
    return None
