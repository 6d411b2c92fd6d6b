"""The one model artifact: booster, calibrator, score scale, grade bands, policy and the
feature list with its categories, loaded together; `predict` only computes.

Saved as plain files (LightGBM text model + JSON), never pickle, so an artifact can be read
by any version of this code that knows the format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.calibration import PDCalibrator
from models.grades import GradeBands
from models.policy import DecisionPolicy
from models.scaling import ScoreScale

FORMAT_VERSION = 1
POLICY_INPUTS = (
    "loan_amount",
    "tenor_months",
    "flat_monthly_rate",
    "estimated_monthly_income",
    "existing_debt_service",
    "months_of_history",
)


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
                X[c] = pd.Categorical(frame[c].astype("str").where(frame[c].notna()),
                                      categories=self.categories[c])  # fmt: skip
            else:
                try:
                    X[c] = pd.to_numeric(frame[c]).astype(float)
                except (TypeError, ValueError) as exc:
                    raise InputError(f"feature {c!r} must be numeric: {exc}") from exc
        return X

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        """Raw log-odds of default from the booster."""
        X = self.prepare(frame)
        return np.asarray(self.booster.predict(X, raw_score=True), dtype=float)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """pd, score, grade and the policy's decision (with rule codes and texts) per row."""
        pd_ = self.calibrator.predict(self.margin(frame))
        out = pd.DataFrame(index=frame.index)
        out["pd"] = pd_
        out["score"] = np.round(self.scale.score(pd_)).astype(int)
        out["grade"] = self.grades.transform(pd_)
        policy_in = out[["grade", "pd"]].copy()
        for c in POLICY_INPUTS:
            # a table without the loan terms is decided by grade alone; without a history
            # length nobody is treated as a thin file
            absent = np.inf if c == "months_of_history" else np.nan
            policy_in[c] = frame[c] if c in frame.columns else absent
        decided = self.policy.decide(policy_in)
        return out.join(decided.drop(columns=[c for c in decided.columns if c in out.columns]))

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
