"""The one model artifact: booster, calibrator, score scale, grade bands, policy and the
feature list with its categories, loaded together; `predict` only computes.

Saved as plain files (LightGBM text model + JSON), never pickle, so an artifact can be read
by any version of this code that knows the format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.calibration import PDCalibrator
from models.grades import GradeBands
from models.policy import RUPIAH_COLUMNS, TERM_COLUMNS, DecisionPolicy, decisions_frame
from models.scaling import ScoreScale

FORMAT_VERSION = 1
# a table without the loan terms is decided by grade alone; without a history length
# nobody is treated as a thin file
_ABSENT = {c: np.inf if c == "months_of_history" else np.nan for c in TERM_COLUMNS}
_FEW_ROWS = 8


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _number(value: object, name: str, row: int) -> float:
    """A record's value as a float, NaN when missing; an error naming the row otherwise."""
    if _missing(value):
        return np.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"row {row}: feature {name!r} must be numeric, got {value!r}") from None


class InputError(ValueError):
    """The rows to score do not carry what the model needs; the message names it."""


@dataclass
class AmanahModel:
    booster: lgb.Booster
    features: list[str]
    categories: dict[str, list[str]]
    calibrator: PDCalibrator
    scale: ScoreScale
    grades: GradeBands
    policy: DecisionPolicy
    metadata: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ scoring
    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns with the training dtypes (categories fixed at training;
        an unseen category becomes missing, which LightGBM treats as its own branch)."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise InputError(f"missing feature columns: {', '.join(missing)}")
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
        """The model's inputs as one float matrix in feature order, categories as their
        training codes (NaN when missing or unseen), exactly what `prepare` gives LightGBM.

        Scoring goes through this, not `prepare`: building a categorical DataFrame column by
        column cost more than the booster itself. A few rows go through the records path,
        where pandas' per-call overhead would dominate.
        """
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise InputError(f"missing feature columns: {', '.join(missing)}")
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
                    X[i, j] = _number(value, name, i)
                elif not _missing(value):
                    X[i, j] = codes.get(str(value), np.nan)
        return X

    def __post_init__(self) -> None:
        self._numeric_at = [j for j, c in enumerate(self.features) if c not in self.categories]
        self._categorical_at = [j for j, c in enumerate(self.features) if c in self.categories]
        self._category_index = {c: pd.Index(v, dtype="str") for c, v in self.categories.items()}
        self._category_code = {
            c: {v: k for k, v in enumerate(vs)} for c, vs in self.categories.items()
        }

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        """Raw log-odds of default from the booster."""
        return self._margin(self.matrix(frame))

    def _margin(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(X, raw_score=True), dtype=float)

    def _score(self, X: np.ndarray, terms: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """pd, score, grade and the policy's decision for a matrix and the loan terms."""
        pd_ = self.calibrator.predict(self._margin(X))
        grade = self.grades.transform(pd_)
        return {
            "pd": pd_,
            "score": np.round(self.scale.score(pd_)).astype(int),
            "grade": grade,
            **self.policy.decide_arrays(grade, **terms),
        }

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """pd, score, grade and the policy's decision (with rule codes and texts) per row.

        A table without the loan terms is decided by grade alone; without a history length
        nobody is treated as a thin file.
        """
        terms = {
            c: (
                pd.to_numeric(frame[c]).to_numpy(dtype=float, na_value=np.nan)
                if c in frame.columns
                else np.full(len(frame), _ABSENT[c])
            )
            for c in TERM_COLUMNS
        }
        return decisions_frame(self._score(self.matrix(frame), terms), frame.index)

    def predict_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`predict` for plain records, answered as plain records (Rupiah as int or None):
        the single-application path of the API, with no DataFrame on the way."""
        terms = {
            c: np.array(
                [_number(r[c], c, i) if c in r else _ABSENT[c] for i, r in enumerate(records)]
            )
            for c in TERM_COLUMNS
        }
        out = self._score(self.matrix_from_records(records), terms)
        rows = []
        for i in range(len(records)):
            row = {k: v[i] for k, v in out.items()}
            row["pd"], row["score"] = float(row["pd"]), int(row["score"])
            for c in RUPIAH_COLUMNS:
                row[c] = None if np.isnan(row[c]) else int(row[c])
            rows.append(row)
        return rows

    # ------------------------------------------------------------------ files
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / "booster.txt"))
        spec = {
            "format_version": FORMAT_VERSION,
            "features": self.features,
            "categories": self.categories,
            "calibrator": self.calibrator.to_dict(),
            "scale": self.scale.to_dict(),
            "grades": self.grades.to_dict(),
            "policy": self.policy.to_dict(),
            "metadata": self.metadata,
        }
        (directory / "model.json").write_text(json.dumps(spec, indent=2, default=str), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> AmanahModel:
        spec = json.loads((directory / "model.json").read_text("utf-8"))
        if spec.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{directory} holds model format {spec.get('format_version')}, "
                f"this code reads format {FORMAT_VERSION}"
            )
        return cls(
            booster=lgb.Booster(model_file=str(directory / "booster.txt")),
            features=list(spec["features"]),
            categories={k: list(v) for k, v in spec["categories"].items()},
            calibrator=PDCalibrator.from_dict(spec["calibrator"]),
            scale=ScoreScale.from_dict(spec["scale"]),
            grades=GradeBands.from_dict(spec["grades"]),
            policy=DecisionPolicy.from_dict(spec["policy"]),
            metadata=dict(spec.get("metadata", {})),
        )
