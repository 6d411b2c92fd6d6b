"""The one model artifact: the risk model (a LightGBM booster or a WoE scorecard, whichever
validated better), input encoding, calibrator, score scale, grade bands, policy, the catalog
the model was trained with and its reference applicant, loaded together; `predict` only
computes (PD, score, grade, decision and reasons).

Saved as plain files (LightGBM text model or the scorecard's bins as JSON, + JSON), never
pickle, so an artifact can be read by any version of this code that knows the format.
"""

from __future__ import annotations

import gc
import json
import math
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.catalog import Feature, Lang, catalog_from_records, catalog_records
from features.wording import languages
from models.attribution import BaselineShapley
from models.calibration import PDCalibrator
from models.experience import Experience, Outside, feature_labels, outside_labels
from models.grades import GRADES, GradeBands
from models.model_input import InputError, ModelInput, number
from models.policy import RUPIAH_COLUMNS, TERM_COLUMNS, DecisionPolicy, decisions_frame
from models.reasons import ReasonWriter
from models.reference import reference_matrix_row
from models.scaling import PD_FLOOR, ScoreScale
from models.scorecard_scorer import ScorecardScorer

__all__ = ["FORMAT_VERSION", "AmanahModel", "InputError"]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Wording a batch allocates many small objects and no cycles; the collector's passes
    over them cost more than the wording (10,000 rows of reasons: 0.40 s with it, 0.10 s
    without), so it pauses while a batch is scored."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


FORMAT_VERSION = 5  # 2: the catalog and the reference applicant travel with the model
# 3: the risk model is a booster or a WoE scorecard (`family`); the model's experience
# 4: the policy's cut-offs come from its lending economics (`models.economics`)
# 5: the catalog's counts capped by the membership (`Feature.capped_by`)
FAMILIES = ("lightgbm", "woe_scorecard")
# a request scores a few records: row by row in plain floats, not through the arrays
_FEW_RECORDS = 8
# a table without the loan terms is judged on the policy's reference loan; without a
# history length nobody is treated as a thin file
_ABSENT = {c: np.inf if c == "months_of_history" else np.nan for c in TERM_COLUMNS}


@dataclass
class AmanahModel:
    """Risk model, input encoding, calibrator, score scale, grades, policy, the catalog it was
    trained with and the reference applicant its reasons are measured against.

    The risk model is exactly one of `booster` (monotone LightGBM, explained by baseline
    Shapley against the reference applicant) and `scorecard` (WoE scorecard, explained by
    points below each feature's best bin). Built complete: the attribution and the reason
    writer are made from these parts once.
    """

    booster: lgb.Booster | None
    inputs: ModelInput
    calibrator: PDCalibrator
    scale: ScoreScale
    grades: GradeBands
    policy: DecisionPolicy
    catalog: tuple[Feature, ...]
    reference: dict[str, float | str | None]
    experience: Experience  # what the training rows held: answers outside it are flagged
    metadata: dict[str, Any] = field(default_factory=dict)
    scorecard: ScorecardScorer | None = None

    def __post_init__(self) -> None:
        if (self.booster is None) == (self.scorecard is None):
            raise ValueError("a model is either a booster or a scorecard: give exactly one")
        if self.experience.features != tuple(self.inputs.features) or set(
            self.experience.categorical
        ) != set(self.inputs.categories):
            raise ValueError("the model's experience must be fitted on its own inputs")
        self.labels = feature_labels(self.catalog)
        unknown = sorted(set(self.reference) ^ set(self.inputs.features))
        if unknown:
            raise ValueError(
                f"the reference applicant must hold exactly the model's features; differs on "
                f"{', '.join(unknown)}"
            )
        self.explainer: BaselineShapley | ScorecardScorer
        if self.booster is not None:
            self.explainer = BaselineShapley(
                self.booster,
                reference_matrix_row(self.reference, self.inputs.features, self.inputs.categories),
            )
        else:
            assert self.scorecard is not None
            self.explainer = self.scorecard
        self.reasons = ReasonWriter(
            self.catalog, self.inputs.features, self.inputs.categories, self.scale.factor
        )

    @property
    def family(self) -> str:
        return "lightgbm" if self.booster is not None else "woe_scorecard"

    @property
    def features(self) -> list[str]:
        return self.inputs.features

    @property
    def categories(self) -> dict[str, list[str]]:
        return self.inputs.categories

    # ------------------------------------------------------------------ scoring
    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.inputs.prepare(frame)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return self.inputs.matrix(frame)

    def matrix_from_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.inputs.matrix_from_records(records)

    def attributions(self, X: np.ndarray) -> np.ndarray:
        """Exact attributions of the raw log-odds, (n, features): baseline Shapley values
        against the reference applicant (booster) or points below the best bins (scorecard);
        ``phi.sum(1) + explainer.base_value_`` is the row's margin."""
        return self.explainer.explain(X)

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        """Raw log-odds of default from the risk model."""
        return self._margin(self.matrix(frame))

    def _margin(self, X: np.ndarray) -> np.ndarray:
        if self.booster is None:
            assert self.scorecard is not None
            return self.scorecard.margin(X)
        return np.asarray(self.booster.predict(X, raw_score=True), dtype=float)

    def decide_margins(
        self, margin: np.ndarray, frame: pd.DataFrame, lang: Lang | None = None
    ) -> pd.DataFrame:
        """pd, score, grade and decision from margins already computed elsewhere: the
        out-of-fold margins of cross-validation, which no single shipped model produced."""
        X = np.empty((len(frame), 0))
        return decisions_frame(
            self._score(
                X, self._terms(frame), lang, np.asarray(margin, dtype=float),
                self.experience.check_frame(self.inputs, frame),
            ),
            frame.index,
        )  # fmt: skip

    def _score(
        self,
        X: np.ndarray,
        terms: Mapping[str, np.ndarray],
        lang: Lang | None,
        margin: np.ndarray | None = None,
        outside: Sequence[tuple[Outside, ...]] | None = None,
    ) -> dict[str, Any]:
        """pd, score, grade and the policy's decision for a matrix and the loan terms, its
        texts in ``lang`` (both languages when None). ``margin``: the rows' raw margins when
        the attribution already walked the trees (bit-equal to the booster's: tested).
        ``outside``: per row, the features outside the model's experience (referred)."""
        pd_ = self.calibrator.predict(self._margin(X) if margin is None else margin)
        grade = self.grades.transform(pd_)
        labels = None if outside is None else outside_labels(outside, self.labels)
        out = {
            "pd": pd_,
            "score": np.round(self.scale.score(pd_)).astype(int),
            "grade": grade,
            **self.policy.decide_arrays(
                grade, pd_, terms, langs=languages(lang), outside_experience=labels
            ),
        }
        if outside is not None:
            out["outside_experience"] = [[o.to_dict() for o in row] for row in outside]
        return out

    def _terms(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        return {
            c: (
                pd.to_numeric(frame[c]).to_numpy(dtype=float, na_value=np.nan)
                if c in frame.columns
                else np.full(len(frame), _ABSENT[c])
            )
            for c in TERM_COLUMNS
        }

    def predict(
        self, frame: pd.DataFrame, reasons: bool = True, lang: Lang | None = None
    ) -> pd.DataFrame:
        """pd, score, grade, the policy's decision (with rule codes and texts) and the
        reasons per row.

        Reasons come as flat columns ``reason_{k}_{field}`` (adverse first, strongest
        first; `models.reasons.reason_records` turns them into lists of dicts), with texts
        in ``lang`` only when given. A table without the loan
        terms is decided by grade alone; without a history length nobody is treated as a
        thin file.
        """
        X, unseen = self.inputs.matrix_with_unseen(frame)
        with _gc_paused():
            outside = self.experience.check(X, unseen)
            if not reasons:
                return decisions_frame(
                    self._score(X, self._terms(frame), lang, outside=outside), frame.index
                )
            phi, margin = self.explainer.explain_with_margin(X)
            out = self._score(X, self._terms(frame), lang, margin, outside)
            out.update(self.reasons.explain_columns(phi, X, lang))
            return decisions_frame(out, frame.index)

    def predict_records(
        self,
        records: Sequence[Mapping[str, Any]],
        reasons: bool = True,
        lang: Lang | None = None,
    ) -> list[dict[str, Any]]:
        """`predict` for plain records, answered as plain records (Rupiah as int or None):
        the single-application path of the API, with no DataFrame on the way. A few
        records are scored row by row in plain floats (`_predict_few`), many through the
        arrays."""
        if len(records) <= _FEW_RECORDS:
            return self._predict_few(records, reasons, lang)
        terms = {
            c: np.array(
                [number(r[c], c, i) if c in r else _ABSENT[c] for i, r in enumerate(records)]
            )
            for c in TERM_COLUMNS
        }
        X, unseen = self.inputs.matrix_from_records_with_unseen(records)
        outside = self.experience.check(X, unseen)
        if reasons:
            phi, margin = self.explainer.explain_with_margin(X)
            out = self._score(X, terms, lang, margin, outside)
            out["reasons"] = self.reasons.explain(phi, X, lang)
        else:
            out = self._score(X, terms, lang, outside=outside)
        rows = []
        for i in range(len(records)):
            row = {k: v[i] for k, v in out.items()}
            row["pd"], row["score"] = float(row["pd"]), int(row["score"])
            for c in RUPIAH_COLUMNS:
                row[c] = None if np.isnan(row[c]) else int(row[c])
            rows.append(row)
        return rows

    def _predict_few(
        self, records: Sequence[Mapping[str, Any]], reasons: bool, lang: Lang | None
    ) -> list[dict[str, Any]]:
        """`predict_records` for a few records: the same encoding, experience check and
        attribution kernel, then calibration, score, grade and `DecisionPolicy.decide_one`
        per row in plain floats, where numpy's per-call cost was most of a request's time.
        Equal to the array path to the bit (tested): the steps that use numpy's own
        transcendental functions (tanh, log) still call them, on one value."""
        columns = {
            c: [number(r[c], c, i) if c in r else _ABSENT[c] for i, r in enumerate(records)]
            for c in TERM_COLUMNS
        }
        X, unseen = self.inputs.matrix_from_records_with_unseen(records)
        outside = self.experience.check(X, unseen)
        written: list[list[dict[str, Any]]] | None = None
        if reasons:
            phi, margin = self.explainer.explain_with_margin(X)
        else:
            margin = self._margin(X)
        pds = [self._calibrate_one(m) for m in np.asarray(margin, dtype=float).tolist()]
        upper = self.grades.upper_.tolist()
        grades = [GRADES[bisect_left(upper, p)] for p in pds]
        scores = [self._score_one(p) for p in pds]
        labels = outside_labels(outside, self.labels)
        langs = languages(lang)
        decided = [
            self.policy.decide_one(
                grades[i], pds[i], {c: v[i] for c, v in columns.items()},
                langs=langs, outside_experience=labels[i],
            )
            for i in range(len(records))
        ]  # fmt: skip
        if reasons:
            written = self.reasons.explain(phi, X, lang)
        rows = []
        for i, row in enumerate(decided):
            out = {"pd": pds[i], "score": scores[i], "grade": grades[i], **row}
            for c in RUPIAH_COLUMNS:
                value = out[c]
                out[c] = None if value != value else int(value)
            out["outside_experience"] = [o.to_dict() for o in outside[i]]
            if written is not None:
                out["reasons"] = written[i]
            rows.append(out)
        return rows

    def _calibrate_one(self, margin: float) -> float:
        """`PDCalibrator.predict` of one margin in plain floats (numpy's tanh and interp)."""
        if not math.isfinite(margin):
            raise ValueError("margin contains NaN or infinite values")
        cal = self.calibrator
        low, high = (float(v) for v in cal.clip)
        if cal.method_ == "isotonic":
            p = float(np.interp(margin, cal.x_thresholds_, cal.y_thresholds_))
        else:
            p = 0.5 * (1.0 + float(np.tanh(0.5 * (cal.a_ * margin + cal.b_))))
        return min(max(p, low), high)

    def _score_one(self, p: float) -> int:
        """`ScoreScale.score` of one PD, rounded as the array path rounds (half to even)."""
        q = min(max(p, PD_FLOOR), 1.0 - PD_FLOOR)
        scale = self.scale
        return round(scale.offset + scale.factor * (float(np.log1p(-q)) - float(np.log(q))))

    def identity(self) -> dict[str, Any]:
        """Which model answers: registered name, version and alias (None outside the
        registry, see `models.registry.load`), when it was trained, its policy version."""
        meta = self.metadata
        return {
            "name": meta.get("registered_name"),
            "version": meta.get("registered_version"),
            "alias": meta.get("registered_alias"),
            "trained_at": meta.get("trained_at"),
            "policy_version": self.policy.version,
        }

    def card(self) -> dict[str, Any]:
        """The model card: what a partner or an analyst may know of this model (no rows)."""
        meta = self.metadata
        return {
            **self.identity(),
            "target": meta.get("target"),
            "periods": meta.get("periods"),
            "test_metrics": meta.get("test_metrics", {}),
            "family": self.family,
            "family_selection": meta.get("family_selection"),
            "attribution": (
                "baseline Shapley of the raw log-odds against the reference applicant"
                if self.booster is not None
                else "points below each feature's best bin of the WoE scorecard (log-odds)"
            ),
            "reference_applicant": self.reference,
            "features": len(self.features),
            "catalog": catalog_records(self.catalog),
            "policy": self.policy.to_dict(),
            "score_scale": self.scale.to_dict(),
        }

    # ------------------------------------------------------------------ files
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in ("booster.txt", "scorecard.json"):
            (directory / stale).unlink(missing_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(directory / "booster.txt"))
        else:
            assert self.scorecard is not None
            (directory / "scorecard.json").write_text(
                json.dumps(self.scorecard.to_dict(), indent=1), "utf-8"
            )
        spec = {
            "format_version": FORMAT_VERSION,
            "family": self.family,
            "features": self.features,
            "categories": self.categories,
            "calibrator": self.calibrator.to_dict(),
            "scale": self.scale.to_dict(),
            "grades": self.grades.to_dict(),
            "policy": self.policy.to_dict(),
            "catalog": catalog_records(self.catalog),
            "reference": self.reference,
            "experience": self.experience.to_dict(),
            "metadata": self.metadata,
        }
        (directory / "model.json").write_text(json.dumps(spec, indent=2, default=str), "utf-8")

    @classmethod
    def load(cls, directory: Path) -> AmanahModel:
        spec = json.loads((directory / "model.json").read_text("utf-8"))
        if spec.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{directory} holds model format {spec.get('format_version')}, "
                f"this code reads format {FORMAT_VERSION}; retrain the model"
            )
        family = spec.get("family")
        if family not in FAMILIES:
            raise ValueError(f"{directory}: unknown model family {family!r}")
        booster, scorecard = None, None
        if family == "lightgbm":
            booster = lgb.Booster(model_file=str(directory / "booster.txt"))
        else:
            scorecard = ScorecardScorer.from_dict(
                json.loads((directory / "scorecard.json").read_text("utf-8"))
            )
        return cls(
            booster=booster,
            scorecard=scorecard,
            inputs=ModelInput(
                list(spec["features"]), {k: list(v) for k, v in spec["categories"].items()}
            ),
            calibrator=PDCalibrator.from_dict(spec["calibrator"]),
            scale=ScoreScale.from_dict(spec["scale"]),
            grades=GradeBands.from_dict(spec["grades"]),
            policy=DecisionPolicy.from_dict(spec["policy"]),
            catalog=catalog_from_records(spec["catalog"]),
            reference=dict(spec["reference"]),
            experience=Experience.from_dict(spec["experience"]),
            metadata=dict(spec.get("metadata", {})),
        )
