"""How labelled applications are split: out of time by default, never randomly within one
period (a random split lets the model see the future of its own test period)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Part = Literal["train", "valid", "test"]
DEFAULT_SHARES = (0.6, 0.2, 0.2)


def _check(shares: tuple[float, float, float]) -> None:
    if len(shares) != 3 or min(shares) <= 0 or abs(sum(shares) - 1) > 1e-9:
        raise ValueError(
            f"The 'shares' parameter must be three positive shares summing to 1; got {shares}"
        )


def out_of_time_split(
    dates: pd.Series, shares: tuple[float, float, float] = DEFAULT_SHARES
) -> pd.Series:
    """train = earliest applications, valid = the next, test = the latest.

    Cut points are dates, so one day's applications never straddle two parts.
    """
    _check(shares)
    days = pd.to_datetime(dates).to_numpy("datetime64[D]").astype(np.int64)
    cut1, cut2 = np.quantile(days, [shares[0], shares[0] + shares[1]], method="lower")
    part = np.where(days <= cut1, "train", np.where(days <= cut2, "valid", "test"))
    out = pd.Series(part, index=dates.index, name="part")
    if out.nunique() < 3:
        raise ValueError(
            "Too few distinct application dates for an out-of-time split into train, "
            "validation and test periods; add history or use a random split"
        )
    return out


def stratified_split(
    y: npt.ArrayLike, shares: tuple[float, float, float] = DEFAULT_SHARES, seed: int = 42
) -> pd.Series:
    """Random split keeping the default rate equal across parts (for tables without time)."""
    _check(shares)
    labels = np.asarray(y).astype(bool)
    rng = np.random.default_rng(seed)
    part = np.empty(len(labels), dtype=object)
    for value in (False, True):
        idx = np.flatnonzero(labels == value)
        idx = idx[rng.permutation(len(idx))]
        n1 = round(len(idx) * shares[0])
        n2 = round(len(idx) * (shares[0] + shares[1]))
        part[idx[:n1]], part[idx[n1:n2]], part[idx[n2:]] = "train", "valid", "test"
    return pd.Series(part, name="part")


def stratified_folds(y: npt.ArrayLike, k: int = 5, seed: int = 42) -> npt.NDArray[np.int64]:
    """Fold number per row, 0..k-1, each fold with the same default rate (for tables without
    time: every labelled row is scored once by a model that never saw it)."""
    if k < 2:
        raise ValueError(f"The 'k' parameter must be at least 2; got {k}")
    labels = np.asarray(y).astype(bool)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=np.int64)
    dealt = 0
    for value in (False, True):
        idx = np.flatnonzero(labels == value)
        idx = idx[rng.permutation(len(idx))]
        # each class dealt round-robin after a shuffle, the second where the first stopped:
        # fold sizes differ by at most one
        folds[idx] = (dealt + np.arange(len(idx))) % k
        dealt += len(idx)
    return folds
