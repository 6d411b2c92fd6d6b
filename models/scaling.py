"""Score scaling: a calibrated probability of default (PD) as points on a log-odds scale.

The score is the classic scorecard scaling (DESIGN decision 5)::

    odds   = (1 - PD) / PD                       # good:bad odds
    factor = pdo / ln 2                          # points per unit of ln(odds)
    offset = anchor_points - factor * ln(anchor_odds)
    score  = offset + factor * ln(odds)

so a member at the anchor odds (50:1 by default, PD = 1/51) scores exactly ``anchor_points``
(600), and every ``pdo`` (20) points more doubles the good:bad odds. Higher score, lower risk.
Scores are real numbers; round only for display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from models.stored_fields import exact_field_names

__all__ = ["PD_FLOOR", "ScoreScale"]

FloatArray = npt.NDArray[np.float64]

# A calibrated PD of exactly 0 or 1 would score +/- infinity; PDs are clipped to
# [PD_FLOOR, 1 - PD_FLOOR] first, which bounds the score to about offset +/- 399 points at the
# default scale (ln(1e6 - 1) * 20 / ln 2).
PD_FLOOR = 1e-6


@dataclass(frozen=True)
class ScoreScale:
    """Points-to-double-the-odds scaling between PD and score.

    Parameters
    ----------
    anchor_points:
        Score given to a member at the anchor odds.
    anchor_odds:
        Good:bad odds at the anchor (50 means PD = 1/51). Must be > 0.
    pdo:
        Points to double the odds. Must be > 0.
    """

    anchor_points: float = 600.0
    anchor_odds: float = 50.0
    pdo: float = 20.0

    def __post_init__(self) -> None:
        for name in ("anchor_points", "anchor_odds", "pdo"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(
                    f"The {name!r} parameter of ScoreScale must be a real number; "
                    f"got {value!r} instead."
                )
            if not math.isfinite(value):
                raise ValueError(
                    f"The {name!r} parameter of ScoreScale must be finite; got {value!r} instead."
                )
        for name in ("anchor_odds", "pdo"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(
                    f"The {name!r} parameter of ScoreScale must be > 0; got {value:g} instead."
                )

    @property
    def factor(self) -> float:
        """Points per unit of natural-log odds: ``pdo / ln 2``."""
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        """Score at odds 1:1 (PD = 0.5): ``anchor_points - factor * ln(anchor_odds)``."""
        return self.anchor_points - self.factor * math.log(self.anchor_odds)

    def score(self, pd_: ArrayLike) -> FloatArray:
        """Score of each PD: ``offset + factor * ln((1 - pd) / pd)``.

        ``pd_`` is any array-like of probabilities in [0, 1] (any shape; the result has the
        same shape). PDs are clipped to [PD_FLOOR, 1 - PD_FLOOR] so the score stays finite.
        Raises ValueError for NaN or values outside [0, 1].
        """
        p = np.asarray(pd_, dtype=np.float64)
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError("PD values must be probabilities in [0, 1] (no NaN).")
        p = np.clip(p, PD_FLOOR, 1.0 - PD_FLOOR)
        return np.asarray(self.offset + self.factor * (np.log1p(-p) - np.log(p)))

    def pd_from_score(self, score: ArrayLike) -> FloatArray:
        """PD of each score, the inverse of :meth:`score`: ``1 / (1 + exp((score - offset) /
        factor))``. Any shape; NaN stays NaN."""
        s = np.asarray(score, dtype=np.float64)
        log_odds = (s - self.offset) / self.factor
        # 1 / (1 + e^x) as exp(-log(1 + e^x)): no overflow, full precision for tiny PDs
        return np.asarray(np.exp(-np.logaddexp(0.0, log_odds)))

    def to_dict(self) -> dict[str, float]:
        """The scale as plain floats, for the model artifact."""
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreScale:
        """Rebuild a scale from :meth:`to_dict` output. Every field is required, so an
        artifact can never silently fall back to a default scale."""
        return cls(**{n: float(data[n]) for n in exact_field_names(cls, data)})
