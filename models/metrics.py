"""Model-quality, stability and fairness figures: pure functions, arrays in, floats/frames out.

Conventions: ``y`` is the 0/1 default flag (1 = default), ``pd_`` a probability of default in
``[0, 1]``, ``score`` anything where higher means riskier (a PD or a log-odds margin), and
``group`` one label per row (e.g. a protected attribute, for fairness checks only).

Equal-count bins (calibration) and PSI bins are cut at unique quantiles, right-closed
(``(e_{i-1}, e_i]``), so tied values always share a bin and row order never matters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "PSI_EPSILON",
    "approval_rates",
    "auc",
    "brier",
    "calibration_by_group",
    "calibration_error",
    "calibration_table",
    "four_fifths",
    "psi",
]

PSI_EPSILON = 1e-6
"""Share given to an empty PSI bin, so its log term stays finite."""

FOUR_FIFTHS = 0.8


def _as_1d(values: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _as_labels(y: ArrayLike) -> NDArray[np.float64]:
    t = _as_1d(y, "y")
    if not np.all((t == 0.0) | (t == 1.0)):
        raise ValueError("y must contain only 0 (repaid) and 1 (default)")
    return t


def _as_pd(pd_: ArrayLike) -> NDArray[np.float64]:
    p = _as_1d(pd_, "pd_")
    if np.any((p < 0.0) | (p > 1.0)):
        raise ValueError("pd_ must lie in [0, 1]")
    return p


def _same_length(**arrays: NDArray[Any]) -> None:
    lengths = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs differ in length: {lengths}")


def _as_groups(group: ArrayLike, n: int) -> NDArray[Any]:
    g = np.asarray(group)
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"group must be 1-D with one label per row ({n}); got shape {g.shape}")
    return g


def _quantile_bin_index(
    reference: NDArray[np.float64], values: NDArray[np.float64], bins: int
) -> tuple[NDArray[np.intp], int]:
    """Bin ``values`` at the unique interior quantiles of ``reference``; (index, bin count)."""
    probs = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    edges = np.unique(np.quantile(reference, probs))
    edges = edges[edges < reference.max()]  # nothing of the reference above its maximum
    return np.searchsorted(edges, values, side="left"), edges.shape[0] + 1


def _check_bins(bins: object, function: str) -> int:
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool) and bins >= 1:
        return int(bins)
    raise ValueError(
        f"The 'bins' parameter of {function} must be an int >= 1; got {bins!r} instead."
    )


def _native(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


# -- discrimination and accuracy ---------------------------------------------------------------


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """ROC AUC: the chance a random default scores above a random repaid row (ties count 1/2).

    Computed from average ranks (Mann-Whitney U), so it is exact with tied scores.
    """
    t = _as_labels(y)
    s = _as_1d(score, "score")
    _same_length(y=t, score=s)
    n_pos = int(t.sum())
    n_neg = t.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        only = "1 (default)" if n_neg == 0 else "0 (repaid)"
        raise ValueError(
            f"AUC is undefined when y holds only one class; every label is {only} "
            f"({t.shape[0]} rows)"
        )
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    # average 1-based rank of each run of tied scores
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], sorted_s.shape[0]]
    run_rank = (starts + ends + 1) / 2.0
    ranks = np.empty_like(s)
    ranks[order] = np.repeat(run_rank, ends - starts)
    u = ranks[t == 1.0].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def brier(y: ArrayLike, pd_: ArrayLike) -> float:
    """Brier score: mean squared difference between PD and the 0/1 outcome (lower is better)."""
    t = _as_labels(y)
    p = _as_pd(pd_)
    _same_length(y=t, pd_=p)
    return float(np.mean((p - t) ** 2))


# -- calibration -------------------------------------------------------------------------------


def calibration_table(y: ArrayLike, pd_: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Observed default rate against mean PD in equal-count PD bins.

    Columns: ``bin`` (0 = lowest PD), ``n``, ``mean_pd``, ``observed_rate``. Tied PDs share a
    bin, so heavily tied PDs give fewer (and unequal) bins; empty bins are left out.
    """
    t = _as_labels(y)
    p = _as_pd(pd_)
    _same_length(y=t, pd_=p)
    k = _check_bins(bins, "calibration_table")
    idx, n_bins = _quantile_bin_index(p, p, k)
    n = np.bincount(idx, minlength=n_bins)
    sum_pd = np.bincount(idx, weights=p, minlength=n_bins)
    sum_y = np.bincount(idx, weights=t, minlength=n_bins)
    keep = n > 0
    return pd.DataFrame(
        {
            "bin": np.arange(int(keep.sum()), dtype=np.int64),
            "n": n[keep].astype(np.int64),
            "mean_pd": sum_pd[keep] / n[keep],
            "observed_rate": sum_y[keep] / n[keep],
        }
    )


def calibration_error(y: ArrayLike, pd_: ArrayLike, bins: int = 10) -> float:
    """Expected calibration error: ``sum_b n_b / N * |observed_rate_b - mean_pd_b|``.

    Over the equal-count bins of :func:`calibration_table`; 0 is perfect, in PD units.
    """
    table = calibration_table(y, pd_, bins)
    n = table["n"].to_numpy(dtype=np.float64)
    gap = np.abs(table["observed_rate"].to_numpy() - table["mean_pd"].to_numpy())
    return float(np.sum(n / n.sum() * gap))


def calibration_by_group(y: ArrayLike, pd_: ArrayLike, group: ArrayLike) -> pd.DataFrame:
    """Mean PD against observed default rate per group.

    Columns: ``group``, ``n``, ``mean_pd``, ``observed_rate``, ``difference`` =
    ``mean_pd - observed_rate`` (positive: the model over-states the group's risk).
    """
    t = _as_labels(y)
    p = _as_pd(pd_)
    _same_length(y=t, pd_=p)
    g = _as_groups(group, t.shape[0])
    frame = pd.DataFrame({"group": g, "y": t, "pd": p})
    agg = frame.groupby("group", sort=True, dropna=False, observed=True).agg(
        n=("y", "size"), mean_pd=("pd", "mean"), observed_rate=("y", "mean")
    )
    out = agg.reset_index()
    out["n"] = out["n"].astype(np.int64)
    out["difference"] = out["mean_pd"] - out["observed_rate"]
    return out[["group", "n", "mean_pd", "observed_rate", "difference"]]


# -- stability ---------------------------------------------------------------------------------


def psi(expected: ArrayLike, actual: ArrayLike, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (e.g. train vs. test scores).

    ``PSI = sum_b (a_b - e_b) * ln(a_b / e_b)`` over bins cut at the expected sample's unique
    quantiles, with ``a_b``/``e_b`` the shares of each sample in bin ``b``; an empty bin's share
    is taken as ``PSI_EPSILON``. Rule of thumb: < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted.
    """
    e = _as_1d(expected, "expected")
    a = _as_1d(actual, "actual")
    k = _check_bins(bins, "psi")
    e_idx, n_bins = _quantile_bin_index(e, e, k)
    a_idx, _ = _quantile_bin_index(e, a, k)
    e_share = np.bincount(e_idx, minlength=n_bins) / e.shape[0]
    a_share = np.bincount(a_idx, minlength=n_bins) / a.shape[0]
    e_share = np.where(e_share == 0.0, PSI_EPSILON, e_share)
    a_share = np.where(a_share == 0.0, PSI_EPSILON, a_share)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


# -- fairness ----------------------------------------------------------------------------------


def approval_rates(approved: ArrayLike, group: ArrayLike) -> pd.DataFrame:
    """Approvals per group. Columns: ``group``, ``n``, ``approved`` (count), ``rate``."""
    a = np.asarray(approved)
    if a.ndim != 1 or a.shape[0] == 0:
        raise ValueError(f"approved must be a non-empty 1-D array; got shape {a.shape}")
    if a.dtype != np.bool_:
        af = a.astype(np.float64)
        if not np.all((af == 0.0) | (af == 1.0)):
            raise ValueError("approved must be boolean (or 0/1)")
        a = af == 1.0
    g = _as_groups(group, a.shape[0])
    frame = pd.DataFrame({"group": g, "approved": a.astype(np.int64)})
    agg = frame.groupby("group", sort=True, dropna=False, observed=True).agg(
        n=("approved", "size"), approved=("approved", "sum")
    )
    out = agg.reset_index()
    out["n"] = out["n"].astype(np.int64)
    out["approved"] = out["approved"].astype(np.int64)
    out["rate"] = out["approved"] / out["n"]
    return out[["group", "n", "approved", "rate"]]


def four_fifths(approved: ArrayLike, group: ArrayLike, min_n: int = 30) -> dict[str, Any]:
    """The four-fifths (80 %) rule on approval rates.

    Returns ``rates`` (group -> approval rate, every group), ``ratio`` (lowest over highest rate
    among groups with at least ``min_n`` rows), ``passes`` (``ratio >= 0.8``) and
    ``groups_too_small`` (groups left out of the ratio). With fewer than two groups large enough,
    or no approvals at all among them, the ratio is undefined: ``ratio`` is NaN and ``passes``
    is False, so an unevaluable check never reads as a pass.
    """
    if not isinstance(min_n, int | np.integer) or isinstance(min_n, bool) or min_n < 1:
        raise ValueError(
            f"The 'min_n' parameter of four_fifths must be an int >= 1; got {min_n!r} instead."
        )
    table = approval_rates(approved, group)
    groups = [_native(v) for v in table["group"]]
    rates = {grp: float(r) for grp, r in zip(groups, table["rate"], strict=True)}
    large = table["n"].to_numpy() >= min_n
    too_small = [grp for grp, ok in zip(groups, large, strict=True) if not ok]
    eligible = table["rate"].to_numpy(dtype=np.float64)[large]
    ratio = math.nan
    if eligible.shape[0] >= 2 and eligible.max() > 0.0:
        ratio = float(eligible.min() / eligible.max())
    return {
        "rates": rates,
        "ratio": ratio,
        "passes": bool(ratio >= FOUR_FIFTHS),  # NaN compares False
        "groups_too_small": too_small,
    }
