"""The WoE scorecard as a shipped model: the same float matrix the booster reads, the same
log-odds, and its attributions as points below each feature's best bin.

A scorecard's margin is ``intercept + sum_j coef_j * WoE_j(x_j)``. Its natural explanation is
the one banks print on a scorecard: for each feature, how many points the applicant's bin
costs against the best bin that feature has. With ``best_j = min over bins of coef_j *
WoE_j``, the contribution ``phi_j = coef_j * WoE_j(x_j) - best_j`` is never negative for a
bin seen at fit, and ``base_value_ + sum_j phi_j`` is the margin exactly (``base_value_ =
intercept + sum_j best_j``): the same sum property the booster's attribution has, so the
reason writer works unchanged. A value in no fitted bin (a category never seen) has WoE 0,
as in `models.woe`.

Built from a fitted `WoEScorecard` and the model's `ModelInput`, so its lookups follow the
matrix encoding: categorical columns as training category codes, NaN when missing or unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.model_input import ModelInput
from models.woe import MISSING, WoEScorecard

__all__ = ["ColumnPoints", "ScorecardScorer"]


@dataclass(frozen=True)
class ColumnPoints:
    """One kept feature: its bins' log-odds (``coef * WoE``), in the matrix's encoding.

    Numeric: ``edges`` are right-closed interior edges and ``values[i]`` the log-odds of
    interval ``i``. Categorical: ``values[code]`` per training category code. ``missing`` is
    the missing bin's log-odds (0 when training saw no missing value)."""

    kind: str  # "numeric" or "categorical"
    edges: tuple[float, ...]
    values: tuple[float, ...]
    missing: float
    best: float

    def lookup(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each row's log-odds for this feature."""
        present = np.isfinite(x)
        values = np.asarray(self.values, dtype=np.float64)
        if not len(values):
            return np.where(present, 0.0, self.missing)
        if self.kind == "numeric":
            idx = np.searchsorted(np.asarray(self.edges, dtype=np.float64), np.where(present, x, 0))
        else:
            idx = np.clip(np.where(present, x, 0), 0, len(values) - 1).astype(np.int64)
        return np.where(present, values[idx], self.missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "edges": list(self.edges),
            "values": list(self.values),
            "missing": self.missing,
            "best": self.best,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnPoints:
        return cls(
            str(d["kind"]),
            tuple(float(v) for v in d["edges"]),
            tuple(float(v) for v in d["values"]),
            float(d["missing"]),
            float(d["best"]),
        )


@dataclass(frozen=True)
class ScorecardScorer:
    """Margin and exact attributions of a WoE scorecard on the model's float matrix."""

    features: tuple[str, ...]  # the model's features, matrix order
    columns: dict[str, ColumnPoints]  # the kept ones
    intercept: float

    @classmethod
    def from_scorecard(cls, card: WoEScorecard, inputs: ModelInput) -> ScorecardScorer:
        columns = {}
        for name in card.features_:
            woe, bins, coef = card.binner_.woe_[name], card.binner_.bins_[name], card.coef_[name]
            if bins.kind == "numeric":
                values = [coef * woe[label] for label in bins.labels if label != MISSING]
                edges = tuple(float(e) for e in bins.edges)
            else:
                values = [coef * woe.get(str(c), 0.0) for c in inputs.categories[name]]
                edges = ()
            fitted = [coef * w for w in woe.values()]
            columns[name] = ColumnPoints(
                bins.kind,
                edges,
                tuple(float(v) for v in values),
                float(coef * woe.get(MISSING, 0.0)),
                float(min(fitted)),
            )
        return cls(tuple(inputs.features), columns, float(card.intercept_))

    @property
    def base_value_(self) -> float:
        """The margin of an applicant in every feature's best bin."""
        return self.intercept + sum(c.best for c in self.columns.values())

    def explain_with_margin(
        self, X: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(n, features) points below the best bins, and the rows' margins."""
        X = np.asarray(X, dtype=np.float64)
        phi = np.zeros(X.shape, dtype=np.float64)
        for j, name in enumerate(self.features):
            column = self.columns.get(name)
            if column is not None:
                phi[:, j] = column.lookup(X[:, j]) - column.best
        return phi, phi.sum(axis=1) + self.base_value_

    def explain(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.explain_with_margin(X)[0]

    def margin(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.explain_with_margin(X)[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "columns": {k: v.to_dict() for k, v in self.columns.items()},
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScorecardScorer:
        return cls(
            tuple(d["features"]),
            {k: ColumnPoints.from_dict(v) for k, v in d["columns"].items()},
            float(d["intercept"]),
        )
