"""Small statistics and a free loopback port, used by several tests (each has its own test in
test_helpers.py)."""

from __future__ import annotations

import socket

import numpy as np
import numpy.typing as npt
import pandas as pd


def auc(score: npt.ArrayLike, label: npt.ArrayLike) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula; ties count half."""
    y = np.asarray(label, dtype=bool)
    ranks = pd.Series(np.asarray(score, dtype=float)).rank().to_numpy()
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("AUC needs both classes")
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
