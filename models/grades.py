"""Risk grades A (lowest risk) to E (highest) as bands of calibrated PD.

`GradeBands.fit` places the four upper PD bounds of grades A..D at quantiles of a sample of
PDs (the out-of-time validation set), so grade shares are stable and explainable ("about 30%
of members are grade A"). `observed` compares each band's observed default rate with its
mean PD; `is_monotone` checks that observed risk rises from A to E, the property officers
rely on when they read a grade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "GRADES",
    "GRADE_LABELS",
    "Grade",
    "GradeBands",
    "NotFittedError",
]

Grade = Literal["A", "B", "C", "D", "E"]
GRADES: tuple[str, ...] = get_args(Grade)  # A = lowest risk

# Short officer-facing labels per grade: (Bahasa Indonesia, English).
GRADE_LABELS: dict[str, tuple[str, str]] = {
    "A": ("Sangat rendah", "Very low risk"),
    "B": ("Rendah", "Low risk"),
    "C": ("Sedang", "Medium risk"),
    "D": ("Tinggi", "High risk"),
    "E": ("Sangat tinggi", "Very high risk"),
}

_N_BOUNDS = len(GRADES) - 1
# Relative tolerance when turning a quantile into a rank: 0.55 * 100 is 55.000000000000007 in
# floating point and must still mean the 55th value, not the 56th.
_RANK_TOL = 1e-9


# cut positions the monotone fit considers, and the least share of the sample in a
# populated grade (a grade of a handful of loans would order by noise)
_GRID = 64
_MIN_SHARE = 0.02


def _monotone_bounds(
    pd_: npt.NDArray[np.float64], y: npt.NDArray[np.float64], q: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Upper PD bounds of grades A..D (see `GradeBands.fit`): dynamic programming over cut
    positions, the state being the last populated grade's (start, end) cut."""
    order = np.argsort(pd_, kind="stable")
    p, labels = pd_[order], y[order]
    n = len(p)
    # positions between distinct PDs (0 and n included), thinned to a grid
    ends = np.unique(np.r_[0, np.searchsorted(p, np.unique(p), side="right")])
    wanted = np.linspace(0, n, _GRID)
    pick = np.unique(np.clip(np.searchsorted(ends, wanted), 0, len(ends) - 1))
    cuts = ends[pick]
    g = len(cuts)
    cum = np.r_[0.0, np.cumsum(labels)]
    size = cuts[None, :] - cuts[:, None]  # rows of the band [cuts[i], cuts[j])
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (cum[cuts][None, :] - cum[cuts][:, None]) / size
    allowed = size >= max(1, math.ceil(_MIN_SHARE * n))
    inf = np.inf
    # cost[i, j]: best cost so far with the last populated grade on [cuts[i], cuts[j]);
    # i == j == 0 is the start (no grade populated yet)
    cost = np.full((g, g), inf)
    cost[0, 0] = 0.0
    back: list[npt.NDArray[np.int64]] = []
    targets = [*q.tolist(), None]  # the last step closes grade E at n
    for target in targets:
        new = np.full((g, g), inf)
        came = np.full((g, g, 2), -1, dtype=np.int64)
        share = cuts / n
        # an empty grade: the cut stays where it is
        stay = cost + (0.0 if target is None else (share[None, :] - target) ** 2)
        if target is None:
            stay[:, :] = inf
            stay[:, g - 1] = cost[:, g - 1]
        keep = stay < new
        new[keep] = stay[keep]
        idx = np.nonzero(keep)
        came[idx[0], idx[1]] = np.stack(idx, axis=1)
        # a populated grade [cuts[j], cuts[k]) after the state (i, j)
        for j in range(g):
            column = cost[:, j]
            live = np.isfinite(column)
            if not live.any():
                continue
            prev_rate = np.where(np.arange(g) == j, -inf, rate[:, j])  # start: no grade yet
            ks = np.flatnonzero(allowed[j])
            if target is None:
                ks = ks[ks == g - 1]
            if len(ks) == 0:
                continue
            ok = live[:, None] & (prev_rate[:, None] < rate[j, ks][None, :])
            masked = np.where(ok, column[:, None], inf)
            best_i = masked.argmin(axis=0)
            best = masked[best_i, np.arange(len(ks))]
            if target is not None:
                best = best + (share[ks] - target) ** 2
            better = best < new[j, ks]
            new[j, ks[better]] = best[better]
            came[j, ks[better], 0] = best_i[better]
            came[j, ks[better], 1] = j
        back.append(came)
        cost = new
    # walk back from the cheapest final state
    at = tuple(int(v) for v in np.unravel_index(np.argmin(cost), cost.shape))
    chosen: list[int] = []
    for came in reversed(back):
        chosen.append(at[1])
        at = (int(came[at][0]), int(came[at][1]))
    positions = np.asarray(chosen[::-1][:_N_BOUNDS], dtype=np.int64)
    positions = cuts[positions]
    # the bound of a cut is the last PD below it (below every PD for a cut at 0)
    below = np.nextafter(p[0], -np.inf)  # for a PD of 0 a hair below 0: the grade is empty
    return np.where(positions > 0, p[np.maximum(positions - 1, 0)], below).astype(np.float64)


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before `fit` (same bases as scikit-learn's)."""


def _check_pd(pd_: ArrayLike) -> npt.NDArray[np.float64]:
    p = np.asarray(pd_, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"PD values must be one-dimensional; got shape {p.shape}.")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("PD values must be probabilities in [0, 1] (no NaN).")
    return p


class GradeBands:
    """Grades from PD by four upper bounds fitted on quantiles of a PD sample.

    Parameters
    ----------
    quantiles:
        Four strictly increasing shares in (0, 1): the cumulative share of the fitting
        sample at or below the upper bound of grades A, B, C and D.

    Attributes
    ----------
    upper_:
        Array of shape (4,), strictly increasing: the upper PD bound (inclusive) of grades
        A, B, C and D. PD <= ``upper_[0]`` is grade A; PD > ``upper_[3]`` is grade E.
    """

    def __init__(self, quantiles: tuple[float, ...] = (0.30, 0.55, 0.75, 0.90)) -> None:
        self.quantiles = quantiles

    def _check_quantiles(self) -> npt.NDArray[np.float64]:
        q = np.asarray(self.quantiles, dtype=np.float64)
        if q.shape != (_N_BOUNDS,) or not np.all((q > 0) & (q < 1)) or not np.all(np.diff(q) > 0):
            raise ValueError(
                f"The 'quantiles' parameter of GradeBands must be {_N_BOUNDS} strictly "
                f"increasing values in (0, 1); got {self.quantiles!r} instead."
            )
        return q

    def fit(self, pd_: ArrayLike, y: ArrayLike | None = None) -> GradeBands:
        """Fit the bounds on a 1-D sample of PDs, and with its 0/1 default labels ``y``
        make the grades monotone by construction.

        Without ``y``, each bound is the empirical quantile (inverted CDF): the smallest PD
        in the sample such that at least that share of the sample is at or below it.

        With ``y``, the bounds are the cuts of the sorted sample (between distinct PDs, on
        a grid of about `_GRID` positions) whose shares come closest to the quantiles (least
        squares) among all cuts under which the observed default rate rises strictly from
        one populated grade to the next, each holding at least `_MIN_SHARE` of the sample.
        Such cuts always exist (one grade holding everything), so on the sample it was
        fitted on `is_monotone` holds by construction, not by luck of the quantiles; a
        grade may then be empty rather than out of order.

        Where bounds tie, each later bound is nudged up to the next representable float,
        keeping them strictly increasing.
        """
        q = self._check_quantiles()
        p = _check_pd(pd_)
        if len(p) == 0:
            raise ValueError("GradeBands.fit needs at least one PD.")
        if y is None:
            p = np.sort(p)
            rank = np.ceil(q * len(p) * (1 - _RANK_TOL)).astype(np.int64)
            upper = p[np.clip(rank, 1, len(p)) - 1].copy()
        else:
            labels = np.asarray(y, dtype=np.float64)
            if labels.shape != p.shape or not np.isin(labels, (0.0, 1.0)).all():
                raise ValueError("y must hold one 0/1 default label per PD.")
            upper = _monotone_bounds(p, labels, q)
        for i in range(1, _N_BOUNDS):
            if upper[i] <= upper[i - 1]:
                upper[i] = np.nextafter(upper[i - 1], np.inf)
        self.upper_ = upper
        return self

    def _check_fitted(self) -> npt.NDArray[np.float64]:
        upper: npt.NDArray[np.float64] | None = getattr(self, "upper_", None)
        if upper is None:
            raise NotFittedError(
                "This GradeBands instance is not fitted yet; call 'fit' with PDs first."
            )
        return upper

    def transform(self, pd_: ArrayLike) -> npt.NDArray[np.object_]:
        """Grade letter of each PD (1-D object array of "A".."E", same length).

        A PD equal to a bound gets that bound's grade: bounds are inclusive upper limits.
        """
        upper = self._check_fitted()
        idx = np.searchsorted(upper, _check_pd(pd_), side="left")
        return np.asarray(GRADES, dtype=object)[idx]

    def observed(self, pd_: ArrayLike, y: ArrayLike) -> pd.DataFrame:
        """Observed default rate per grade against the mean predicted PD.

        ``pd_`` and ``y`` are 1-D and of equal length; ``y`` holds 0/1 default labels.
        Returns one row per grade (index "A".."E", named "grade", all five kept) with columns
        ``pd_low`` (exclusive lower bound; 0 for A), ``pd_high`` (inclusive upper bound; 1 for
        E), ``n`` and ``defaults`` (int), and ``observed_rate`` and ``mean_pd`` (float, NaN
        where n = 0).
        """
        upper = self._check_fitted()
        grades = self.transform(pd_)
        p = np.asarray(pd_, dtype=np.float64)
        labels = np.asarray(y, dtype=np.float64)
        if labels.shape != p.shape:
            raise ValueError(f"y must have the shape of pd_ {p.shape}; got {labels.shape}.")
        if not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError("y must hold 0/1 default labels only.")
        code = np.searchsorted(np.asarray(GRADES, dtype=object), grades)
        k = len(GRADES)
        n = np.bincount(code, minlength=k)
        defaults = np.bincount(code, weights=labels, minlength=k)
        pd_sum = np.bincount(code, weights=p, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(n > 0, defaults / n, np.nan)
            mean_pd = np.where(n > 0, pd_sum / n, np.nan)
        table = pd.DataFrame(
            {
                "pd_low": np.concatenate([[0.0], upper]),
                "pd_high": np.concatenate([upper, [1.0]]),
                "n": n.astype(np.int64),
                "defaults": np.rint(defaults).astype(np.int64),
                "observed_rate": rate,
                "mean_pd": mean_pd,
            },
            index=pd.Index(list(GRADES), name="grade"),
        )
        return table

    def is_monotone(self, pd_: ArrayLike, y: ArrayLike) -> bool:
        """True when the observed default rate strictly increases from A to E over the grades
        that hold at least one member (vacuously true with fewer than two such grades)."""
        table = self.observed(pd_, y)
        rates = table.loc[table["n"] > 0, "observed_rate"].to_numpy(dtype=np.float64)
        return bool(np.all(np.diff(rates) > 0))

    def to_dict(self) -> dict[str, Any]:
        """Parameters and (when fitted) bounds as plain lists, for the model artifact."""
        upper = getattr(self, "upper_", None)
        return {
            "quantiles": [float(q) for q in self.quantiles],
            "upper": None if upper is None else [float(u) for u in upper],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradeBands:
        """Rebuild bands from :meth:`to_dict` output (fitted when ``upper`` is not None)."""
        unknown = sorted(set(data) - {"quantiles", "upper"})
        if unknown or "quantiles" not in data:
            raise ValueError(
                "GradeBands.from_dict needs the key 'quantiles' (and optionally 'upper'); "
                f"unknown {unknown}."
            )
        bands = cls(quantiles=tuple(float(q) for q in data["quantiles"]))
        bands._check_quantiles()
        upper = data.get("upper")
        if upper is not None:
            u = np.asarray(upper, dtype=np.float64)
            if (
                u.shape != (_N_BOUNDS,)
                or not all(math.isfinite(x) for x in u)
                or not np.all(np.diff(u) > 0)
            ):
                raise ValueError(
                    f"'upper' must be {_N_BOUNDS} strictly increasing finite PDs; got {upper!r}."
                )
            bands.upper_ = u
        return bands
