"""Pieces of the analysts' HTML pages (the validation report, the monitoring page): cells
escaped once, figures as "n/a" when missing or not finite."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["escape", "number", "percent", "table"]


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 3) -> str:
    """A figure for the page: "n/a" for anything missing or not finite."""
    if value is None or value is pd.NA:
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.{digits}f}" if math.isfinite(value) else "n/a"
    return escape(value)


def percent(value: Any, digits: int = 1) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return f"{100.0 * value:.{digits}f}%"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table from already-escaped cell HTML."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
