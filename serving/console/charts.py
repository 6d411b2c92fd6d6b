"""Small charts as inline SVG: no script, no library, a few hundred bytes each.

Each chart is an `<svg role="img">` with a `<title>` (its accessible name) and a `<desc>`
saying in words what it shows, so a screen reader and a slow phone get the same facts;
the page shows the numbers in a table next to it. Width follows the container
(`viewBox` + CSS `width: 100%`), so a chart fits 360 px as well as a laptop.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bars", "diverging_bars"]

_W, _H, _PAD = 300, 90, 14


def _frame(title: str, desc: str, body: str, height: int = _H) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {_W} {height}" role="img" '
        f'preserveAspectRatio="none" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>"
    )


def bars(
    values: Sequence[float],
    title: str,
    desc: str,
    *,
    classes: Sequence[str] | None = None,
) -> Markup:
    """Vertical bars from 0 up, one per value (negative values drawn as 0); `classes`
    colours single bars (`late`, `npl`)."""
    n = max(len(values), 1)
    top = max([float(v) for v in values] + [1.0])
    step = (_W - 2) / n
    width = max(step * 0.8, 1.0)
    parts = [f'<line x1="0" y1="{_H - _PAD}" x2="{_W}" y2="{_H - _PAD}" class="axis"/>']
    for i, v in enumerate(values):
        h = max(float(v), 0.0) / top * (_H - _PAD - 4)
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        x = 1 + i * step + (step - width) / 2
        y = _H - _PAD - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}"{cls}/>')
    return _frame(title, desc, "".join(parts))


def diverging_bars(items: Sequence[tuple[str, float]], title: str, desc: str) -> Markup:
    """Horizontal bars either side of a centre line, one row per (label, value): a
    factor's effect on the score in points, negative (adverse) to the left in red,
    positive (favourable) to the right in green."""
    row = 18
    height = max(len(items), 1) * row + 4
    top = max([abs(v) for _, v in items] + [1.0])
    centre = _W / 2
    parts = [f'<line x1="{centre}" y1="0" x2="{centre}" y2="{height}" class="axis"/>']
    for i, (label, v) in enumerate(items):
        w = abs(v) / top * (centre - 4)
        x = centre - w if v < 0 else centre
        cls = "adverse" if v < 0 else "favourable"
        y = 2 + i * row
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 6}" class="{cls}">'
            f"<title>{escape(label)}: {v:+.0f}</title></rect>"
        )
    return _frame(title, desc, "".join(parts), height)
