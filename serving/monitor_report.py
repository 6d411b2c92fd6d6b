"""The monitoring report: one self-contained HTML page (plots embedded as PNG) for the
analyst, English with the Indonesian headings beside, written by `amanah monitor`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline plots
    matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt

from models.html_parts import escape
from models.html_parts import number as _num
from models.html_parts import percent as _pct
from models.html_parts import table as _table
from models.monitoring import (
    ALERT_PSI,
    APPROVAL_RATIO,
    WATCH_PSI,
    DecisionRates,
    Drift,
    approval_ratio,
)
from models.plots import png_data_uri
from serving.monitor import MonitorRun

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1080px;
  color: #1d2733; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
.id { color: #5b6b7b; font-weight: normal; font-size: 0.85em; margin-left: 6px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 4px 10px;
  border-bottom: 1px solid #dde3ea; text-align: left; } td { font-variant-numeric: tabular-nums; }
.alert { background: #fdecea; border-left: 4px solid #b3261e; padding: 8px 12px; }
.ok { background: #e8f5e9; border-left: 4px solid #2e7d32; padding: 8px 12px; }
.shift { color: #b3261e; font-weight: 600; } .watch { color: #a15c00; }
.note { color: #5b6b7b; } img { max-width: 100%; }
"""


def _drift_rows(found: Sequence[Drift]) -> list[list[str]]:
    return [
        [escape(d.name), _num(d.psi), d.status + (" (small sample)" if d.small_sample else ""),
         _num(d.reference_rows), _num(d.recent_rows)]
        for d in found
    ]  # fmt: skip


def _psi_figure(found: Sequence[Drift]) -> str:
    top = list(found[:15])[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(top) + 1.2))
    colours = ["#b3261e" if d.psi >= ALERT_PSI else "#e09b2d" if d.psi >= WATCH_PSI
               else "#4c78a8" for d in top]  # fmt: skip
    ax.barh([d.name for d in top], [d.psi for d in top], color=colours)
    for x in (WATCH_PSI, ALERT_PSI):
        ax.axvline(x, color="#5b6b7b", linestyle="--", linewidth=1)
    ax.set_xlabel("PSI against the training reference")
    ax.set_title("Largest input shifts")
    return png_data_uri(fig)


def _scores_figure(reference: npt.NDArray[np.float64], recent: npt.NDArray[np.float64]) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bins = np.histogram_bin_edges(np.concatenate([reference, recent]), bins=30)
    ax.hist(reference, bins=bins.tolist(), density=True, alpha=0.55, label="training reference")
    ax.hist(recent, bins=bins.tolist(), density=True, alpha=0.55, label="recent applications")
    ax.set_xlabel("score")
    ax.legend()
    ax.set_title("Score distribution")
    return png_data_uri(fig)


def _grades_figure(run: MonitorRun) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    x = np.arange(len(run.grades))
    ax.bar(x - 0.2, [g.predicted_pd for g in run.grades], 0.4, label="mean predicted PD")
    ax.bar(x + 0.2, [g.dpd90 or 0.0 for g in run.grades], 0.4, label="observed 90+ DPD")
    ax.set_xticks(x, [g.grade for g in run.grades])
    ax.set_ylabel("share of loans")
    ax.legend()
    ax.set_title("Matured loans by grade")
    return png_data_uri(fig)


def _rates_row(label: str, rates: DecisionRates) -> list[str]:
    return [escape(label), _pct(rates.approve), _pct(rates.refer), _pct(rates.decline),
            _num(rates.scored)]  # fmt: skip


def _img(uri: str, caption: str) -> str:
    return f'<figure><img src="{uri}" alt="{escape(caption)}"></figure>'


def render(run: MonitorRun) -> str:
    """The page (module docstring)."""
    model = run.model
    title = f"Monitoring {model.get('name') or 'model'} v{model.get('version') or '-'}"
    parts = [
        f"<h1>{escape(title)} <span class='id'>Pemantauan model</span></h1>",
        f"<p>Applications since {run.since.date()}: {run.recent_rows} "
        f"(matured: {run.matured_rows}); training reference: {run.reference_rows} rows.</p>",
    ]
    if run.alerts:
        items = "".join(
            f"<li>{escape(a.text_en)}<br><span class='id'>{escape(a.text_id)}</span></li>"
            for a in run.alerts
        )
        parts.append(f"<div class='alert'><strong>Alerts</strong><ul>{items}</ul></div>")
    else:
        parts.append("<div class='ok'>No threshold crossed. <span class='id'>Tidak ada ambang "
                     "yang terlampaui.</span></div>")  # fmt: skip
    parts += [f"<p class='note'>{escape(n)}</p>" for n in run.notes]
    parts.append("<h2>Input drift <span class='id'>Pergeseran data</span></h2>")
    parts.append(
        f"<p>Score PSI {_num(run.score.psi)} ({run.score.status}). Thresholds: {WATCH_PSI} "
        f"watch, {ALERT_PSI} shift; fewer than 200 recent rows is a small sample.</p>"
    )
    parts.append(
        _img(_scores_figure(run.reference_scores, run.recent_scores), "score distribution")
    )
    if run.features:
        parts.append(_img(_psi_figure(run.features), "PSI per feature"))
    parts.append(_table(["feature", "PSI", "status", "reference rows", "recent rows"],
                        _drift_rows(run.features)))  # fmt: skip
    parts.append("<h2>Decisions <span class='id'>Keputusan</span></h2>")
    rec, ref = run.recommended, run.reference_recommended
    parts.append(
        _table(
            ["", "approve", "refer", "decline", "rows"],
            [_rates_row("recommended, recent", rec), _rates_row("recommended, reference", ref)],
        )
    )
    ratio = approval_ratio(rec, ref)
    parts.append(
        f"<p>Approve share, recent over reference: {_num(ratio, 2)} (an alert outside "
        f"{APPROVAL_RATIO[0]}-{APPROVAL_RATIO[1]}).</p>"
    )
    if run.served is not None and run.served.scores == 0:
        parts.append(f"<p>No scores served by this version since {run.since.date()}.</p>")
    elif run.served is not None:
        s = run.served
        parts.append(
            f"<p>Served by the API and console since {run.since.date()}: {s.scores} scores "
            f"of this version ({s.other_versions} by other versions left out); score PSI "
            f"{_num(s.score.psi)} ({s.score.status}); approve {_pct(s.rates.approve)}, refer "
            f"{_pct(s.rates.refer)}, decline {_pct(s.rates.decline)}; decisions recorded "
            f"{s.rates.decided}, overridden {s.rates.overridden} "
            f"({_pct(s.rates.override_rate)}).</p>"
        )
        if s.reasons:
            parts.append(_table(["adverse reason code", "times given"],
                                [[escape(c), _num(n)] for c, n in s.reasons]))  # fmt: skip
    parts.append("<h2>Outcomes <span class='id'>Hasil pinjaman</span></h2>")
    if run.book is None:
        parts.append("<p>No loan applied for since then has matured yet (12 months).</p>")
    else:
        b = run.book
        parts.append(
            f"<p>Matured loans {b.loans}: {b.observed} defaults against {b.expected:.1f} "
            f"expected from their PDs (observed / expected {_num(b.ratio, 2)}, z "
            f"{_num(b.z, 2)}; alarm beyond ±3).</p>"
        )
        parts.append(_img(_grades_figure(run), "outcomes by grade"))
        parts.append(_table(
            ["grade", "loans", "mean PD", "30+ DPD", "60+ DPD", "90+ DPD"],
            [[escape(g.grade), _num(g.loans), _pct(g.predicted_pd), _pct(g.dpd30), _pct(g.dpd60),
              _pct(g.dpd90)] for g in run.grades],
        ))  # fmt: skip
        parts.append(_table(
            ["vintage", "loans", "defaults", "mean PD", "AUC", "KS"],
            [[escape(v.month), _num(v.loans), _num(v.defaults), _pct(v.predicted_pd), _num(v.auc),
              _num(v.ks)] for v in run.vintages],
        ))  # fmt: skip
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def write(run: MonitorRun, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(run), encoding="utf-8")
    return out
