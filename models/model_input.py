"""The model's input encoding: feature order and categories fixed at training.

Separate from the artifact so training can encode its rows before a booster exists, and the
artifact is built complete once it does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = ["InputError", "ModelInput"]

_FEW_ROWS = 8


class InputError(ValueError):
    """The rows to score do not carry what the model needs; the message names it."""


def missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def number(value: object, name: str, row: int) -> float:
    """A record's value as a float, NaN when missing; an error naming the row otherwise."""
    if missing(value):
        return np.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"row {row}: feature {name!r} must be numeric, got {value!r}") from None


class ModelInput:
    """Feature names in model order and the training categories of the categorical ones."""

    def __init__(self, features: Sequence[str], categories: Mapping[str, Sequence[str]]) -> None:
        self.features = list(features)
        self.categories = {k: list(v) for k, v in categories.items()}
        self._numeric_at = [j for j, c in enumerate(self.features) if c not in self.categories]
        self._categorical_at = [j for j, c in enumerate(self.features) if c in self.categories]
        self._category_index = {c: pd.Index(v, dtype="str") for c, v in self.categories.items()}
        self._category_code = {
            c: {v: k for k, v in enumerate(vs)} for c, vs in self.categories.items()
        }

    def _check_columns(self, frame: pd.DataFrame) -> None:
        absent = [c for c in self.features if c not in frame.columns]
        if absent:
            raise InputError(f"missing feature columns: {', '.join(absent)}")

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns with the training dtypes (categories fixed at training;
        an unseen category becomes missing, which LightGBM treats as its own branch)."""
        self._check_columns(frame)
        X = pd.DataFrame(index=frame.index)
        for c in self.features:
            if c in self.categories:
                text = frame[c].astype("str")
                known = frame[c].notna() & text.isin(self.categories[c])
                X[c] = pd.Categorical(text.where(known), categories=self.categories[c])
            else:
                try:
                    X[c] = pd.to_numeric(frame[c]).astype(float)
                except (TypeError, ValueError) as exc:
                    raise InputError(f"feature {c!r} must be numeric: {exc}") from exc
        return X

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The inputs as one float matrix in feature order, categories as their training
        codes (NaN when missing or unseen), exactly what `prepare` gives LightGBM.

        Scoring goes through this, not `prepare`: building a categorical DataFrame column by
        column cost more than the booster itself. A few rows go through the records path,
        where pandas' per-call overhead would dominate.
        """
        self._check_columns(frame)
        if len(frame) <= _FEW_ROWS:
            records = cast(list[dict[str, Any]], frame[self.features].to_dict("records"))
            return self.matrix_from_records(records)
        X = np.empty((len(frame), len(self.features)))
        numeric = [self.features[j] for j in self._numeric_at]
        try:
            X[:, self._numeric_at] = frame[numeric].to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            X[:, self._numeric_at] = self.prepare(frame)[numeric].to_numpy(dtype=float)
        for j in self._categorical_at:
            column = frame[self.features[j]]
            codes = self._category_index[self.features[j]].get_indexer(
                pd.Index(column.astype("str").to_numpy(), dtype="str")
            )
            X[:, j] = np.where((codes < 0) | column.isna().to_numpy(), np.nan, codes)
        return X

    def matrix_from_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """`matrix` for plain records (an API body): no pandas on the way to the booster."""
        X = np.full((len(records), len(self.features)), np.nan)
        for i, record in enumerate(records):
            for j, name in enumerate(self.features):
                try:
                    value = record[name]
                except KeyError:
                    raise InputError(f"row {i}: missing feature {name!r}") from None
                codes = self._category_code.get(name)
                if codes is None:
                    X[i, j] = number(value, name, i)
                elif not missing(value):
                    X[i, j] = codes.get(str(value), np.nan)
        return X
