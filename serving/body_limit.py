"""The request body limit (`AMANAH_MAX_BODY_BYTES`): a larger body answers 413 `body_too_large`.

`BodyLimitMiddleware` is pure ASGI. A `Content-Length` above the limit is answered before
any of the body is read; a body without one (chunked) is counted as the app reads it, and
the chunk that crosses the limit stops the reading: the app never holds more than the limit
plus that one chunk, and whatever it was answering is replaced by the 413. It sits inside
`serving.errors.RequestContextMiddleware`, so the problem carries the request id, which it
reads from the scope itself (no `Request` is built here).
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import DomainError, problem


class BodyTooLargeError(DomainError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "body_too_large"
    title = "Request body too large"


class _BodyCutError(Exception):
    """Raised into the app by `receive` when the body crosses the limit: it stops reading."""


def declared_length(scope: Scope) -> int | None:
    """The request's `Content-Length`, or None when absent or not a plain number (the
    server has refused a malformed one already; the body is counted as it comes)."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def too_large(max_bytes: int) -> BodyTooLargeError:
    return BodyTooLargeError(
        f"The request body is larger than the {max_bytes} bytes this API accepts.",
        f"Isi permintaan lebih besar dari {max_bytes} byte yang diterima API ini.",
    )


class BodyLimitMiddleware:
    """Answers 413 `body_too_large` to a request body of more than `max_bytes` bytes;
    `larger` gives paths (exact) their own limit: the console's upload of a cooperative's
    export is a file, not an API body."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await self._answer(scope, receive, send, limit)
            return
        received = 0
        cut = started = False

        async def counted_receive() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = True
                    raise _BodyCutError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut and not started:  # the app's answer to a cut body is replaced by the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        # the cut may reach here as itself or as whatever the app made of it (FastAPI turns
        # a failed body read into a 400); either way the answer is the 413
        except Exception:
            if not cut or started:
                raise
        if cut and not started:
            await self._answer(scope, receive, send, limit)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = too_large(limit)
        response = problem(
            status=error.status, code=error.code, title=error.title, detail=error.detail,
            detail_id=error.detail_id, request_id=str(scope.get("state", {}).get("request_id", "")),
            extra={"max_bytes": limit},
        )  # fmt: skip
        await response(scope, receive, send)
