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
        return self._encode(frame, unseen=False)[0]

    def matrix_with_unseen(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """`matrix` and a bool matrix of the same shape, True where a categorical cell held a
        value that is not a training category (`matrix` turned it into NaN, so the model's
        missing branch answered): what `models.experience` needs to name it."""
        X, unseen = self._encode(frame, unseen=True)
        return X, cast(np.ndarray, unseen)

    def matrix_from_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """`matrix` for plain records (an API body): no pandas on the way to the booster."""
        return self._encode_records(records, unseen=False)[0]

    def matrix_from_records_with_unseen(
        self, records: Sequence[Mapping[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """`matrix_with_unseen` for plain records."""
        X, unseen = self._encode_records(records, unseen=True)
        return X, cast(np.ndarray, unseen)

    def _encode(self, frame: pd.DataFrame, unseen: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The matrix, and the unseen-category mask only when asked: callers that do not
        need it pay nothing for it."""
        self._check_columns(frame)
        if len(frame) <= _FEW_ROWS:
            records = cast(list[dict[str, Any]], frame[self.features].to_dict("records"))
            return self._encode_records(records, unseen)
        X = np.empty((len(frame), len(self.features)))
        mask = np.zeros(X.shape, dtype=bool) if unseen else None
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
            absent = column.isna().to_numpy()
            X[:, j] = np.where((codes < 0) | absent, np.nan, codes)
            if mask is not None:
                mask[:, j] = (codes < 0) & ~absent
        return X, mask

    def _encode_records(
        self, records: Sequence[Mapping[str, Any]], unseen: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        X = np.full((len(records), len(self.features)), np.nan)
        mask = np.zeros(X.shape, dtype=bool) if unseen else None
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
                    code = codes.get(str(value))
                    if code is not None:
                        X[i, j] = code
                    elif mask is not None:
                        mask[i, j] = True
        return X, mask
