"""Interest arithmetic of cooperative loans, which quote flat monthly rates."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

EFFECTIVE_RATE_TOLERANCE = 0.001
"""How far a stated effective annual rate may sit from the one its flat rate and tenor give:
0.1 percentage point, so a treasurer's rate rounded or cut to one decimal of a percent
("36,8%" for 36.76%) passes, while a flat annual rate in its place (18% for 1.5% a month) or
a fraction read as a percent does not."""


def effective_annual_rate(
    flat_monthly: npt.NDArray[Any], tenor: npt.NDArray[Any]
) -> npt.NDArray[np.float64]:
    """(1 + IRR)^12 - 1 of a flat schedule (tenor 1-60 months), by Newton on the monthly IRR.

    Flat quotes hide the cost: 1.5% a month flat over 12 months is 36.8% a year effective.
    """
    payment = 1.0 / tenor + flat_monthly
    k = np.arange(1, 61)[None, :]
    live = k <= tenor[:, None]
    r = np.full(len(tenor), 0.02)
    for _ in range(30):
        disc = (1 + r[:, None]) ** (-k)
        f = (payment[:, None] * disc * live).sum(axis=1) - 1.0
        slope = (-k * payment[:, None] * disc / (1 + r[:, None]) * live).sum(axis=1)
        r = r - f / slope
    return np.asarray(np.round((1 + r) ** 12 - 1, 6), dtype=np.float64)


def rate_contradicts(stated: npt.NDArray[Any], expected: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """True where a stated effective annual rate is further than the tolerance from the
    expected one (binary noise of the two floats aside); NaN on either side is no conflict."""
    return np.asarray(np.abs(stated - expected) > EFFECTIVE_RATE_TOLERANCE + 1e-9, dtype=bool)
