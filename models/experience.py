"""The model's experience: what its training rows held, and which answers lie outside it.

A gradient-boosted model answers for any input, but it has only learnt from the values its
training rows held. Beyond them its trees are flat: a member with 200 months of history is
scored exactly like the longest-standing member in training, a sector never seen goes down
the missing-value branch, and a feature that never varied in training was never split on.
Such an answer is an extrapolation nobody checked, so the application goes to an officer
(the policy's ``OUTSIDE_EXPERIENCE`` rule) and the answer names the features and why:

* ``above_range`` / ``below_range``: a numeric value above the training maximum or below
  the training minimum. Exactly the minimum or maximum is inside: training saw it, and the
  trees' thresholds lie between seen values, so the answer there is one the model learnt.
  No tolerance beyond it: any step past the edge is already on the flat part.
* ``unseen_category``: a categorical value that is not one of the training categories.
* ``constant_in_training``: a numeric feature that held one value in every training row
  that had it now holds another (reported instead of above/below range).
* ``never_seen_value``: a numeric feature missing in every training row now has a value.

Beyond the range on the side where a monotone feature lowers risk (more months of
membership for a feature the catalog marks as risk-lowering), the flat trees answer with
the lowest risk training saw there, which can only overstate the risk: that side is not
flagged. Beyond it on the risk-raising side (more days late than anyone in training) the
flat trees understate the risk, so it is. Without this, 63% of the demo's applicants of
tomorrow were "outside", nearly all for membership and history lengths that grow with the
calendar in young cooperatives.

The cooperative's own conditions (catalog risk factor ``local_conditions``: its arrears
rate, the same number for every member who applies that month) are not judged per
applicant. A cooperative whose arrears pass anything in training is a portfolio alarm for
the analyst's drift monitoring, not a reason to send each of its members to the officer;
on the demo that one feature referred every applicant of five coastal cooperatives in the
test period (7% of all applications), members who already carry the highest arrears
penalty the model learnt.

A missing value is never outside: LightGBM learns a branch for missing values, and the
catalog's missing texts explain them. Minimum and maximum ignore missing values.

The check is vectorised (two comparisons per cell, then only the rows with an outside cell
are looked at again) for batches, with a plain-Python path for the single applications of the API,
where numpy's per-call overhead costs more than the comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, cast, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.catalog import Feature
from features.wording import Lang
from models.model_input import ModelInput

__all__ = [
    "KINDS",
    "Experience",
    "Kind",
    "Outside",
    "feature_labels",
    "outside_labels",
    "outside_names",
]

Kind = Literal[
    "above_range", "below_range", "unseen_category", "constant_in_training", "never_seen_value"
]
KINDS: tuple[Kind, ...] = get_args(Kind)
_CODE: dict[Kind, int] = {k: i + 1 for i, k in enumerate(KINDS)}  # 0: inside

# up to this many rows the plain-Python check is faster than numpy's
_FEW_ROWS = 8


class Outside(NamedTuple):
    """One feature of one application outside the model's experience, and why."""

    feature: str
    kind: Kind

    def to_dict(self) -> dict[str, str]:
        """For a JSON answer (a NamedTuple alone would travel as a bare list)."""
        return {"feature": self.feature, "kind": self.kind}


def _bound(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"Experience bounds must be numbers or None; got {value!r}")
    return float(value)


class _Compiled(NamedTuple):
    """The bounds as the checks read them: a categorical feature is never above or below
    (+-inf), a never-seen one compares False (NaN) and is caught by ``never``."""

    low: list[float]
    high: list[float]
    never: list[bool]
    constant: list[bool]
    low_array: np.ndarray
    high_array: np.ndarray
    never_at: np.ndarray
    never_array: np.ndarray
    constant_array: np.ndarray


def _compile(e: Experience) -> _Compiled:
    low: list[float] = []
    high: list[float] = []
    monotone = e.monotone or (0,) * len(e.features)
    for name, lo, hi, m in zip(e.features, e.low, e.high, monotone, strict=True):
        free = name in e.categorical or name in e.unchecked
        low.append(-math.inf if free else math.nan if lo is None else lo)
        high.append(math.inf if free else math.nan if hi is None else hi)
        if lo is not None and m == 1:  # below the range of a risk-raising feature: safe side
            low[-1] = -math.inf
        if hi is not None and m == -1:  # above the range of a risk-lowering one
            high[-1] = math.inf
    never = [
        f not in e.categorical and f not in e.unchecked and lo is None
        for f, lo in zip(e.features, e.low, strict=True)
    ]
    constant = [
        f not in e.unchecked and lo is not None and lo == hi
        for f, lo, hi in zip(e.features, e.low, e.high, strict=True)
    ]
    return _Compiled(
        low,
        high,
        never,
        constant,
        np.array(low, dtype=float),
        np.array(high, dtype=float),
        np.flatnonzero(never),
        np.array(never, dtype=bool),
        np.array(constant, dtype=bool),
    )


@dataclass(frozen=True)
class Experience:
    """Per feature (model order) the training minimum and maximum of its non-missing
    values (None for a categorical feature, or a numeric one missing in every training
    row); categorical features are judged by the unseen-category mask of `ModelInput`."""

    features: tuple[str, ...]
    categorical: tuple[str, ...]
    low: tuple[float | None, ...]
    high: tuple[float | None, ...]
    # the monotone direction per feature (+1 raises risk, -1 lowers it); () for none known
    monotone: tuple[int, ...] = ()
    # features never judged outside: the cooperative's own conditions (module docstring)
    unchecked: tuple[str, ...] = ()

    _c: _Compiled = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.features)
        if len(self.low) != n or len(self.high) != n:
            raise ValueError(
                f"Experience needs one low and one high per feature ({n}); got "
                f"{len(self.low)} and {len(self.high)}"
            )
        if self.monotone and (len(self.monotone) != n or not set(self.monotone) <= {-1, 0, 1}):
            raise ValueError(
                f"Experience needs one monotone direction (-1, 0, 1) per feature ({n})"
            )
        unknown = sorted(set(self.categorical) - set(self.features))
        if unknown:
            raise ValueError(f"Experience: categorical features not among features: {unknown}")
        unknown = sorted(set(self.unchecked) - set(self.features))
        if unknown:
            raise ValueError(f"Experience: unchecked features not among features: {unknown}")
        for name, lo, hi in zip(self.features, self.low, self.high, strict=True):
            if name in self.categorical and (lo is not None or hi is not None):
                raise ValueError(f"Experience: categorical {name!r} has no numeric range")
            if (lo is None) != (hi is None) or (lo is not None and hi is not None and lo > hi):
                raise ValueError(f"Experience: {name!r} has an invalid range {lo!r}..{hi!r}")
        object.__setattr__(self, "_c", _compile(self))

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        inputs: ModelInput,
        X: npt.ArrayLike,
        monotone: Sequence[int] = (),
        unchecked: Sequence[str] = (),
    ) -> Experience:
        """The experience of the training rows' model inputs ``X`` (`inputs.matrix` of the
        rows the booster was trained on; at least one row), with the model's monotone
        directions (feature order) where it has them, and the features never judged
        outside (``unchecked``; those of them the model does not use are ignored)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(inputs.features) or len(X) == 0:
            raise ValueError(
                f"Experience.fit needs a (rows >= 1, {len(inputs.features)}) matrix; got {X.shape}"
            )
        # fmin/fmax ignore NaN and give NaN for an all-missing column, without a warning
        lows, highs = np.fmin.reduce(X, axis=0).tolist(), np.fmax.reduce(X, axis=0).tolist()
        low: list[float | None] = []
        high: list[float | None] = []
        for name, lo, hi in zip(inputs.features, lows, highs, strict=True):
            seen = name not in inputs.categories and lo == lo  # not NaN
            low.append(float(lo) if seen else None)
            high.append(float(hi) if seen else None)
        categorical = tuple(f for f in inputs.features if f in inputs.categories)
        return cls(
            tuple(inputs.features),
            categorical,
            tuple(low),
            tuple(high),
            tuple(int(m) for m in monotone),
            tuple(f for f in inputs.features if f in set(unchecked)),
        )

    # ------------------------------------------------------------------ checking
    def check(self, X: npt.ArrayLike, unseen: npt.ArrayLike) -> list[tuple[Outside, ...]]:
        """Per row of model inputs ``X`` (with `ModelInput`'s unseen-category mask
        ``unseen``), the features outside experience in model order; an empty tuple means
        the row lies inside (tuples: the many inside rows share one)."""
        X = np.asarray(X, dtype=float)
        unseen = np.asarray(unseen, dtype=bool)
        if X.ndim != 2 or X.shape[1] != len(self.features) or unseen.shape != X.shape:
            raise ValueError(
                f"Experience.check needs X and unseen of shape (rows, {len(self.features)}); "
                f"got {X.shape} and {unseen.shape}"
            )
        if len(X) <= _FEW_ROWS:
            rows = zip(X.tolist(), unseen.tolist(), strict=True)
            return [self._check_row(x, u) for x, u in rows]
        return self._check_batch(X, unseen)

    def _check_row(self, x: list[float], unseen: list[bool]) -> tuple[Outside, ...]:
        """One row in plain Python: the API's single application."""
        out: list[Outside] = []
        c = self._c
        lows, highs = c.low, c.high
        for j, v in enumerate(x):
            if unseen[j]:
                out.append(Outside(self.features[j], "unseen_category"))
            elif v != v:  # missing: the model's missing branch, never outside
                continue
            elif c.never[j]:
                out.append(Outside(self.features[j], "never_seen_value"))
            elif v > highs[j] or v < lows[j]:
                out.append(Outside(self.features[j], self._range_kind(j, v > highs[j])))
        return tuple(out)

    def _range_kind(self, j: int, above: bool) -> Kind:
        if self._c.constant[j]:
            return "constant_in_training"
        return "above_range" if above else "below_range"

    def _check_batch(self, X: np.ndarray, unseen: np.ndarray) -> list[tuple[Outside, ...]]:
        """Two comparisons per cell; then only the rows with a flagged cell, whose few
        distinct patterns (the same features outside, for the same reasons) are each built
        once and shared."""
        c = self._c
        above = np.greater(X, c.high_array)
        flagged = above | np.less(X, c.low_array)  # NaN compares False: missing is inside
        if len(c.never_at):
            flagged[:, c.never_at] = ~np.isnan(X[:, c.never_at])
        flagged |= unseen
        out: list[tuple[Outside, ...]] = [()] * len(X)
        hit = np.flatnonzero(flagged.any(axis=1))
        if not len(hit):
            return out
        # 1 + the index in KINDS of each flagged cell's kind, 0 inside
        code = np.where(above[hit], _CODE["above_range"], _CODE["below_range"])
        code = np.where(c.constant_array, _CODE["constant_in_training"], code)
        code = np.where(c.never_array, _CODE["never_seen_value"], code)
        code = np.where(unseen[hit], _CODE["unseen_category"], code)
        code = np.ascontiguousarray(np.where(flagged[hit], code, 0), dtype=np.int8)
        # each row's codes as bytes: a dict finds the distinct patterns (np.unique(axis=0)
        # sorts, 100 times slower on 100,000 rows)
        keys = cast(list[bytes], code.view(np.dtype((np.void, code.shape[1]))).ravel().tolist())
        built: dict[bytes, tuple[Outside, ...]] = {}
        names = self.features
        for i, key in zip(hit.tolist(), keys, strict=True):
            row = built.get(key)
            if row is None:
                kinds = np.frombuffer(key, dtype=np.int8)
                row = built[key] = tuple(
                    Outside(names[j], KINDS[kinds[j] - 1]) for j in np.flatnonzero(kinds)
                )
            out[i] = row
        return out

    def check_frame(self, inputs: ModelInput, frame: pd.DataFrame) -> list[tuple[Outside, ...]]:
        """`check` of a table's rows, encoded by ``inputs``."""
        return self.check(*inputs.matrix_with_unseen(frame))

    def bounds(self, feature: str) -> tuple[float | None, float | None]:
        """The training minimum and maximum of a feature (None, None if categorical or
        never seen): for an answer that shows the officer the range."""
        j = self.features.index(feature)
        return self.low[j], self.high[j]

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (floats round-trip exactly through JSON; None for no bound)."""
        return {
            "features": list(self.features),
            "categorical": list(self.categorical),
            "low": list(self.low),
            "high": list(self.high),
            "monotone": list(self.monotone),
            "unchecked": list(self.unchecked),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Experience:
        """Rebuild from `to_dict` output; exactly its keys are required."""
        keys = {"features", "categorical", "low", "high"}
        if not keys <= set(data) <= keys | {"monotone", "unchecked"}:
            raise ValueError(
                f"Experience.from_dict needs exactly the keys {sorted(keys)} (and optionally "
                f"monotone and unchecked); got {sorted(data)}"
            )
        return cls(
            features=tuple(str(f) for f in data["features"]),
            categorical=tuple(str(f) for f in data["categorical"]),
            low=tuple(_bound(v) for v in data["low"]),
            high=tuple(_bound(v) for v in data["high"]),
            monotone=tuple(int(m) for m in data.get("monotone", ())),
            unchecked=tuple(str(f) for f in data.get("unchecked", ())),
        )


def outside_names(outside: Iterable[Iterable[Outside]]) -> list[list[str]]:
    """The feature names per row: what an answer lists next to the kinds."""
    return [[o.feature for o in row] for row in outside]


def feature_labels(catalog: Iterable[Feature]) -> dict[str, dict[Lang, str]]:
    """Officer labels per feature for the policy's texts: the catalog's description in each
    language, without its closing full stop (it is listed inside a sentence)."""
    return {
        f.name: {"id": f.description_id.rstrip(". "), "en": f.description_en.rstrip(". ")}
        for f in catalog
    }


def outside_labels(
    outside: Iterable[tuple[Outside, ...]], labels: Mapping[str, Mapping[Lang, str]]
) -> list[tuple[str | Mapping[Lang, str], ...]]:
    """Per row, each feature outside experience by its officer label (`feature_labels`),
    or by its name when it has none: the policy's ``outside_experience``. Rows with the
    same features outside share one tuple."""
    memo: dict[tuple[Outside, ...], tuple[str | Mapping[Lang, str], ...]] = {(): ()}
    rows = []
    for row in outside:
        labelled = memo.get(row)
        if labelled is None:
            labelled = memo[row] = tuple(labels.get(o.feature, o.feature) for o in row)
        rows.append(labelled)
    return rows
