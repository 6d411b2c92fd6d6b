"""The report's plots (PNG): ROC of the model and the WoE baseline, calibration, score
distribution and observed default rate by grade, all on the test period; and the figures
of the validation report (`models/report.py`): SHAP plots drawn by the shap library, and the
strategy curve of the policy's lending economics with the policy's own position marked."""

from __future__ import annotations

import base64
import io
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline plots
    matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import ArrayLike

from features.wording import format_percent
from models.metrics import calibration_table

if TYPE_CHECKING:
    from models.training import TrainingResult


def _roc(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-score, kind="stable")
    hits = y[order]
    tpr = np.r_[0, np.cumsum(hits) / max(hits.sum(), 1)]
    fpr = np.r_[0, np.cumsum(1 - hits) / max((1 - hits).sum(), 1)]
    return fpr, tpr


def write_plots(result: TrainingResult, folder: Path) -> list[Path]:
    from models.training import evaluated_scores

    test = result.test
    target = result.model.metadata["target"]
    y = test[target].to_numpy().astype(int)
    scored = evaluated_scores(result.model, test)
    pd_ = scored["pd"].to_numpy()
    paths = []

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, score in (
        (f"shipped model ({result.model.family})", pd_),
        ("WoE scorecard", test["pd_woe_baseline"].to_numpy()),
    ):
        fpr, tpr = _roc(y, np.asarray(score))
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test period")
    ax.legend()
    paths.append(_save(fig, folder / "roc.png"))

    table = calibration_table(y, pd_, bins=10)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(table["mean_pd"], table["observed_rate"], marker="o", label="model")
    top = float(max(table["mean_pd"].max(), table["observed_rate"].max()))
    ax.plot([0, top], [0, top], ls=":", color="grey", label="perfect")
    ax.set(xlabel="predicted PD", ylabel="observed default rate", title="Calibration, test period")
    ax.legend()
    paths.append(_save(fig, folder / "calibration.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist([scored["score"][y == 0], scored["score"][y == 1]], bins=30, stacked=True,
            label=["repaid", "defaulted"])  # fmt: skip
    ax.set(xlabel="score", ylabel="applications", title="Score distribution, test period")
    ax.legend()
    paths.append(_save(fig, folder / "scores.png"))

    grades = pd.DataFrame(result.report["grades"])
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.bar(grades["grade"], grades["observed_rate"].fillna(0))
    ax.set(xlabel="grade", ylabel="observed default rate", title="Default rate by grade")
    paths.append(_save(fig, folder / "grades.png"))
    return paths


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# -- the validation report's figures (models/report.py): pure, arrays in, Figure out ---------


def png_data_uri(fig: Figure, dpi: int = 96) -> str:
    """The figure as an embeddable ``data:image/png;base64,...`` URI; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def roc_points(y: ArrayLike, score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score (higher = riskier), from (0, 0)
    to (1, 1). Tied scores move both rates in one step, so the curve does not depend on row
    order and its area is the AUC with ties counted half."""
    t = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    last_of_run = np.r_[s[1:] != s[:-1], True]
    hits = np.cumsum(t)[last_of_run]
    misses = np.cumsum(1.0 - t)[last_of_run]
    tpr = np.r_[0.0, hits / max(float(t.sum()), 1.0)]
    fpr = np.r_[0.0, misses / max(float((1.0 - t).sum()), 1.0)]
    return fpr, tpr


def roc_figure(curves: Mapping[str, tuple[ArrayLike, ArrayLike]], title: str) -> Figure:
    """ROC curves on one plot: label -> (y, score), with each curve's AUC in the legend."""
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, (y, score) in curves.items():
        fpr, tpr = roc_points(y, score)
        ax.plot(fpr, tpr, label=f"{label} (AUC {np.trapezoid(tpr, fpr):.3f})")
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="chance")
    ax.set(
        xlabel="false positive rate (repaid flagged)",
        ylabel="true positive rate (defaults flagged)",
        title=title,
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="lower right")
    return fig


def ks_figure(y: ArrayLike, score: ArrayLike, ks: float, at: float) -> Figure:
    """Cumulative distribution of the score for defaults and for repaid loans, with the KS
    distance (their largest vertical gap) marked at the score ``at`` where it occurs."""
    t = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    grid = np.unique(s)
    fig, ax = plt.subplots(figsize=(6, 4))
    cdfs = {}
    for label, part, colour in (
        ("repaid", s[t == 0], "tab:blue"),
        ("defaulted", s[t == 1], "tab:red"),
    ):
        cdfs[label] = np.searchsorted(np.sort(part), grid, side="right") / max(len(part), 1)
        ax.step(grid, cdfs[label], where="post", label=label, color=colour)
    i = int(np.searchsorted(grid, at))
    low, high = sorted((float(cdfs["defaulted"][i]), float(cdfs["repaid"][i])))
    ax.vlines(at, low, high, colors="black", linestyles="--", label=f"KS = {ks:.3f}")
    ax.set(xlabel="PD", ylabel="cumulative share", title="KS: score CDFs by outcome", ylim=(0, 1))
    ax.legend(loc="lower right")
    return fig


def reliability_figure(table: pd.DataFrame) -> Figure:
    """Observed default rate against mean PD per PD bin (a `calibration_table`), each point
    labelled with its number of loans."""
    fig, ax = plt.subplots(figsize=(5, 5))
    x = table["mean_pd"].to_numpy(dtype=float)
    obs = table["observed_rate"].to_numpy(dtype=float)
    top = float(max(np.max(x), np.max(obs), 0.01)) * 1.1
    ax.plot([0, top], [0, top], ls=":", color="grey", label="perfect calibration")
    ax.plot(x, obs, marker="o", label="model")
    for xi, oi, n in zip(x, obs, table["n"].to_numpy(), strict=True):
        ax.annotate(
            f"n={int(n)}",
            (xi, oi),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
            color="dimgrey",
        )
    ax.set(
        xlabel="mean predicted PD in bin",
        ylabel="observed default rate",
        title="Reliability (equal-count PD bins)",
        xlim=(0, top),
        ylim=(0, top),
    )
    ax.legend(loc="upper left")
    return fig


def score_histogram_figure(y: ArrayLike, score: ArrayLike) -> Figure:
    """Histogram of the score for repaid and defaulted loans, each as a share of its own
    outcome so a small number of defaults stays visible."""
    t = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    edges = np.histogram_bin_edges(s, bins=30)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, part, colour in (
        ("repaid", s[t == 0], "tab:blue"),
        ("defaulted", s[t == 1], "tab:red"),
    ):
        if len(part):
            weights = np.full(len(part), 1.0 / len(part))
            ax.hist(
                part,
                bins=edges.tolist(),
                weights=weights,
                histtype="stepfilled",
                alpha=0.45,
                color=colour,
                label=f"{label} (n={len(part):,})",
            )
    ax.set(
        xlabel="score (points; higher = safer)",
        ylabel="share of the outcome's loans",
        title="Score distribution by outcome",
    )
    ax.legend()
    return fig


def grade_figure(table: pd.DataFrame) -> Figure:
    """Observed default rate (bars) and mean PD (markers) per grade, from
    `GradeBands.observed` with the grade as a column; empty grades are left blank."""
    fig, ax = plt.subplots(figsize=(5, 4))
    grades = table["grade"].astype(str).to_numpy()
    observed = table["observed_rate"].to_numpy(dtype=float)
    mean_pd = table["mean_pd"].to_numpy(dtype=float)
    ax.bar(grades, np.nan_to_num(observed), color="tab:blue", alpha=0.7, label="observed rate")
    ax.plot(grades, mean_pd, "o", color="black", label="mean PD")
    ax.set(xlabel="grade", ylabel="default rate", title="Observed default rate by grade")
    ax.legend(loc="upper left")
    return fig


def shap_beeswarm_figure(explanation: Any, max_display: int = 15) -> Figure:
    """The shap library's beeswarm summary of a `shap.Explanation`."""
    import shap

    rows = min(max_display, int(np.shape(explanation.values)[1]))
    fig, ax = plt.subplots(figsize=(7, 0.4 * rows + 1.8))
    with warnings.catch_warnings():  # shap's own arithmetic on missing values
        warnings.simplefilter("ignore", RuntimeWarning)
        shap.plots.beeswarm(explanation, max_display=max_display, ax=ax, show=False, plot_size=None)
    ax.set_title("SHAP summary (log-odds of default, before calibration)")
    return fig


def shap_dependence_figure(explanation: Any, feature: str) -> Figure:
    """The shap library's dependence (scatter) plot of one feature, coloured by the feature
    shap finds interacting most with it."""
    import shap

    fig, ax = plt.subplots(figsize=(5, 4))
    with warnings.catch_warnings():  # shap's own arithmetic on missing values
        warnings.simplefilter("ignore", RuntimeWarning)
        shap.plots.scatter(explanation[:, feature], color=explanation, ax=ax, show=False)
    ax.set_title(f"SHAP dependence: {feature}")
    return fig


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))
    )


def strategy_curve_figure(curve: pd.DataFrame, policy: Mapping[str, Any] | None = None) -> Figure:
    """The strategy curve (`models.economics.strategy_curve`: approving the safest share of
    applications) in two panels against the approval rate: the default rate among the
    approved, and the expected and realised return per Rupiah lent. ``policy``
    (`models.economics.policy_position`) is marked where it sits in each panel."""
    x = curve["approval_rate"].to_numpy(dtype=float)
    fig, (risk, money) = plt.subplots(1, 2, figsize=(10, 4))
    risk.plot(
        x,
        curve["default_rate"].to_numpy(dtype=float),
        marker="o",
        ms=3,
        color="tab:red",
        label="approving the safest first",
    )
    money.plot(
        x,
        curve["expected_return_per_rupiah"].to_numpy(dtype=float),
        marker="o",
        ms=3,
        color="tab:blue",
        label="expected (from PD)",
    )
    money.plot(
        x,
        curve["realised_return_per_rupiah"].to_numpy(dtype=float),
        ls="--",
        color="tab:blue",
        alpha=0.6,
        label="realised (observed outcome)",
    )
    money.axhline(0.0, color="grey", lw=0.8, ls=":")
    if policy is not None and _finite(policy.get("approval_rate")):
        at = float(policy["approval_rate"])
        for ax, key in ((risk, "default_rate"), (money, "expected_return_per_rupiah")):
            ax.axvline(at, color="black", lw=0.8, ls=":")
            if _finite(policy.get(key)):
                ax.plot(
                    [at],
                    [float(policy[key])],
                    marker="*",
                    ms=14,
                    color="black",
                    ls="none",
                    label=f"policy ({format_percent(at, 'en', 1)} approved)",
                )
        if _finite(policy.get("realised_return_per_rupiah")):
            money.plot(
                [at],
                [float(policy["realised_return_per_rupiah"])],
                marker="*",
                ms=12,
                mfc="none",
                color="black",
                ls="none",
                label="policy, realised",
            )
    risk.set(
        xlabel="approval rate", ylabel="default rate among approved", title="Risk of the approved"
    )
    money.set(
        xlabel="approval rate", ylabel="return per Rupiah lent", title="Return of the approved"
    )
    for ax in (risk, money):
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlim(0, 1.02)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle("Strategy curve, test period")
    return fig
