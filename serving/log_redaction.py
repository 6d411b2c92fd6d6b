"""Access-log lines without personal data (UU PDP: nothing personal in logs).

uvicorn's access log writes each request's path and query. The API's paths carry no
member (members travel in bodies), but the console's do: a member page is
`/console/members/<number>` and a search `/console/members?q=<part of a name>`. The
filter keeps the method, the status and the route's shape, and replaces each path segment
after `members/` and every query string with `…`.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactPersonalPaths", "install_access_log_redaction", "redact_path"]

_MEMBER_SEGMENT = re.compile(r"(/console/members/)[^/?]+")


def redact_path(path: str) -> str:
    """`/console/members/A00001/apply?x=1` -> `/console/members/…/apply?…`."""
    base, sep, _query = path.partition("?")
    return _MEMBER_SEGMENT.sub(r"\1…", base) + ("?…" if sep else "")


class RedactPersonalPaths(logging.Filter):
    """Rewrites the path argument of uvicorn's access-log records (its third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install_access_log_redaction() -> None:
    """Adds the filter to uvicorn's access logger once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactPersonalPaths) for f in access.filters):
        access.addFilter(RedactPersonalPaths())
