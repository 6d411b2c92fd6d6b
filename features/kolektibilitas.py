"""Loan quality classes (kolektibilitas) from days past due, as OJK has banks report to SLIK
(DOMAIN.md): 1 Lancar (0 days), 2 Dalam Perhatian Khusus (1-90), 3 Kurang Lancar (91-120),
4 Diragukan (121-180), 5 Macet (over 180). Classes 3-5 are non-performing (NPL)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from features.wording import Lang

__all__ = ["KOL_NAMES", "NPL_FROM", "kolektibilitas"]

# upper bound (inclusive) of days past due for classes 1..4; beyond the last is class 5
_UPPER_DAYS = np.array([0, 90, 120, 180], dtype=np.float64)
NPL_FROM = 3  # the first non-performing class

KOL_NAMES: dict[int, dict[Lang, str]] = {
    1: {"id": "Lancar", "en": "Current"},
    2: {"id": "Dalam Perhatian Khusus", "en": "Special mention"},
    3: {"id": "Kurang Lancar", "en": "Substandard"},
    4: {"id": "Diragukan", "en": "Doubtful"},
    5: {"id": "Macet", "en": "Loss"},
}


def kolektibilitas(days_past_due: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Class 1-5 per value of days past due; missing or negative counts as current (1)."""
    d = np.nan_to_num(np.asarray(days_past_due, dtype=np.float64), nan=0.0)
    return np.searchsorted(_UPPER_DAYS, d, side="left").astype(np.int64) + 1
