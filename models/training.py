"""The training pipeline: split, LightGBM, calibration, grades, policy, baseline, report.

One function for Amanah's own training table and for any table an analyst or partner
brings: the difference is only where the feature list, monotone directions and split come
from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandas.api.types as ptypes

from features.catalog import (
    CATALOG,
    Feature,
    Monotone,
    categorical_names,
    feature_names,
    generic_feature,
    monotone_constraints,
)
from features.dask_cluster import dask_client
from models.artifact import AmanahModel
from models.calibration import PDCalibrator
from models.grades import GradeBands
from models.lgbm import SearchResult, fit_lightgbm, fit_lightgbm_dask
from models.metrics import auc, brier, calibration_by_group, calibration_error, four_fifths, psi
from models.model_input import ModelInput
from models.policy import DecisionPolicy
from models.reference import fit_reference
from models.scaling import ScoreScale
from models.split import out_of_time_split, stratified_split
from models.woe import WoEScorecard

AMANAH_TARGET = "default_12m"
AMANAH_TIME = "application_date"
FAIRNESS = ("gender", "cooperative_profile")
TRAIN_SAMPLE = 20_000


_DIRECTIONS: dict[int, Monotone] = {-1: -1, 0: 0, 1: 1}


class TableError(ValueError):
    """A table cannot be trained on; the message names the column or the rule."""


@dataclass(frozen=True)
class FeatureSpec:
    """What the model sees: names, categorical ones, monotone direction per name."""

    names: list[str]
    categorical: list[str]
    monotone: list[int]
    source: str  # "catalog" or the catalog file / "inferred"
    catalog: tuple[Feature, ...]  # how each feature is explained; travels in the artifact


def catalog_spec() -> FeatureSpec:
    names = feature_names()
    return FeatureSpec(names, categorical_names(), monotone_constraints(names), "catalog", CATALOG)


def table_spec(
    frame: pd.DataFrame,
    target: str,
    time_column: str | None,
    catalog: dict[str, Any] | None = None,
    exclude: tuple[str, ...] = (),
) -> FeatureSpec:
    """Every column but the target, the time column and `exclude` is a feature; text and
    category columns are categorical. A catalog file may give monotone directions
    ({"features": {"name": {"monotone": 1}}})."""
    declared = (catalog or {}).get("features", {})
    names = [c for c in frame.columns if c not in (target, time_column, *exclude)]
    categorical = [
        c
        for c in names
        if not ptypes.is_numeric_dtype(frame[c]) or isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]
    monotone = []
    for c in names:
        m = int(declared.get(c, {}).get("monotone", 0))
        if m not in (-1, 0, 1):
            raise TableError(f"catalog: monotone of {c!r} must be -1, 0 or 1; got {m}")
        if m and c in categorical:
            raise TableError(f"catalog: {c!r} is categorical and cannot be monotone")
        monotone.append(m)
    entries = tuple(
        generic_feature(c, categorical=c in categorical, monotone=_DIRECTIONS[m])
        for c, m in zip(names, monotone, strict=True)
    )
    return FeatureSpec(
        names, categorical, monotone, "catalog file" if catalog else "inferred", entries
    )


def check_table(frame: pd.DataFrame, target: str, time_column: str | None) -> pd.Series:
    """The binary target as 0/1 (NA kept: unlabelled rows); raises TableError naming the
    problem for anything that cannot be trained on."""
    if target not in frame.columns:
        raise TableError(
            f"no target column {target!r}; the table has: {', '.join(map(str, frame.columns[:20]))}"
        )
    if time_column is not None and time_column not in frame.columns:
        raise TableError(f"no time column {time_column!r}")
    y = frame[target]
    values = set(pd.unique(y.dropna()))
    as_bool = {1: 1, 0: 0, "1": 1, "0": 0}  # True == 1 and 0.0 == 0 hash alike
    if not values <= set(as_bool):
        shown = ", ".join(map(repr, sorted(values, key=str)[:5]))
        raise TableError(
            f"target {target!r} must be binary (1 = default, 0 = repaid); found {shown}"
        )
    mapped = y.map(lambda v: as_bool.get(v) if pd.notna(v) else pd.NA).astype("Int8")
    classes = set(mapped.dropna())
    if classes != {0, 1}:
        raise TableError(
            f"target {target!r} has only one class ({sorted(classes)}); a model needs defaults "
            "and repaid loans"
        )
    empty = [c for c in frame.columns if c != target and frame[c].isna().all()]
    if empty:
        raise TableError(f"columns with no values at all: {', '.join(map(str, empty))}")
    return mapped


@dataclass
class TrainingResult:
    model: AmanahModel
    baseline: WoEScorecard
    report: dict[str, Any]
    test: pd.DataFrame  # the test period rows with target, fairness columns, pd_woe_baseline
    train: pd.DataFrame  # up to TRAIN_SAMPLE training-period rows (PSI in the report)
    trials: list[dict[str, Any]] = field(default_factory=list)


def _categories(train: pd.DataFrame, categorical: list[str]) -> dict[str, list[str]]:
    return {
        c: sorted(str(v) for v in pd.unique(train[c].dropna().astype("str"))) for c in categorical
    }


def train_model(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    target: str,
    time_column: str | None,
    seed: int = 42,
    policy: DecisionPolicy | None = None,
    scale: ScoreScale | None = None,
    max_rounds: int = 2000,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int = 2,
) -> TrainingResult:
    """Train, calibrate, grade and evaluate on an out-of-time (or stratified) split.

    `engine="dask"` trains the booster with LightGBM's Dask integration (on `scheduler`, or
    a local cluster of `workers` processes); everything after the booster is the same.
    """
    y_all = check_table(frame, target, time_column)
    labelled = frame[y_all.notna()].reset_index(drop=True)
    y = y_all[y_all.notna()].astype(int).to_numpy()
    parts = (
        out_of_time_split(labelled[time_column]).to_numpy()
        if time_column
        else stratified_split(y, seed=seed).to_numpy()
    )
    policy = policy or DecisionPolicy()
    scale = scale or ScoreScale()
    tr, va, te = (parts == p for p in ("train", "valid", "test"))
    inputs = ModelInput(spec.names, _categories(labelled[tr], spec.categorical))
    X = inputs.prepare(labelled)
    for name, mask in (("train", tr), ("validation", va), ("test", te)):
        if len(set(y[mask])) < 2:
            raise TableError(f"the {name} period has only one class; more history is needed")
    if engine == "dask":
        search = _fit_on_dask(X[tr], y[tr], X[va], y[va], spec.monotone, seed, max_rounds,
                              scheduler, workers)  # fmt: skip
    else:
        search = fit_lightgbm(
            X[tr], y[tr], X[va], y[va], spec.monotone, seed=seed, max_rounds=max_rounds
        )
    margin = np.asarray(search.booster.predict(X, raw_score=True), dtype=float)
    calibrator = PDCalibrator(random_state=seed).fit(margin[va], y[va])
    pd_all = calibrator.predict(margin)
    model = AmanahModel(
        booster=search.booster,
        inputs=inputs,
        calibrator=calibrator,
        scale=scale,
        grades=GradeBands().fit(pd_all[va]),
        policy=policy,
        catalog=spec.catalog,
        # the latest period the model was developed on: its applicants look most like
        # today's (the training period's median member had under 6 months of history)
        reference=fit_reference(labelled[va], y[va], spec.names, spec.categorical),
        metadata={
            "target": target,
            "time_column": time_column,
            "features_source": spec.source,
            "monotone": dict(zip(spec.names, spec.monotone, strict=True)),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": seed,
            "best_params": {k: v for k, v in search.params.items() if k != "monotone_constraints"},
            "best_iteration": search.best_iteration,
            "policy_version": policy.version,
            "engine": engine,
        },
    )
    baseline = WoEScorecard(random_state=seed).fit(
        labelled.loc[tr, spec.names].reset_index(drop=True), y[tr]
    )
    test = labelled[te].reset_index(drop=True)
    # the WoE scorecard's PD travels with the test period (the report compares the two)
    test["pd_woe_baseline"] = baseline.predict_proba(test[baseline.features_])
    report = evaluate(model, test["pd_woe_baseline"].to_numpy(), test, y[te], pd_all[tr])
    report["rows"] = {"train": int(tr.sum()), "valid": int(va.sum()), "test": int(te.sum()),
                      "unlabelled": int(len(frame) - len(labelled))}  # fmt: skip
    report["periods"] = _periods(labelled, time_column, parts)
    report["validation_auc"] = search.valid_auc
    model.metadata["test_metrics"] = {
        k: report[k] for k in ("auc", "brier", "calibration_error", "default_rate", "mean_pd")
    }
    model.metadata["periods"] = report["periods"]
    test[target] = y[te]
    train = labelled[tr]
    train = train.sample(min(len(train), TRAIN_SAMPLE), random_state=seed).reset_index(drop=True)
    return TrainingResult(model, baseline, report, test, train, search.trials)


def _fit_on_dask(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    monotone: list[int],
    seed: int,
    max_rounds: int,
    scheduler: str | None,
    workers: int,
) -> SearchResult:
    with dask_client(scheduler, workers) as client:
        return fit_lightgbm_dask(
            X_train, y_train, X_valid, y_valid, monotone, client, seed=seed, max_rounds=max_rounds
        )


def _periods(frame: pd.DataFrame, time_column: str | None, parts: np.ndarray) -> dict[str, Any]:
    if not time_column:
        return {"split": "stratified random"}
    t = pd.to_datetime(frame[time_column])
    return {
        p: [str(t[parts == p].min().date()), str(t[parts == p].max().date())]
        for p in ("train", "valid", "test")
    }


def evaluate(
    model: AmanahModel,
    baseline_pd: np.ndarray | None,
    test: pd.DataFrame,
    y: np.ndarray,
    train_pd: np.ndarray | None = None,
) -> dict[str, Any]:
    """Test-period figures: discrimination, calibration, grades, stability, fairness."""
    scored = model.predict(test, reasons=False)
    pd_ = scored["pd"].to_numpy()
    report: dict[str, Any] = {
        "auc": auc(y, pd_),
        "brier": brier(y, pd_),
        "calibration_error": calibration_error(y, pd_),
        "default_rate": float(np.mean(y)),
        "mean_pd": float(np.mean(pd_)),
        "grades": model.grades.observed(pd_, y)
        .rename_axis("grade")
        .reset_index()
        .to_dict(orient="records"),
        "grades_monotone": bool(model.grades.is_monotone(pd_, y)),
        "decisions": scored["decision"].value_counts().to_dict(),
    }
    if baseline_pd is not None:
        report["auc_woe_baseline"] = auc(y, baseline_pd)
    if train_pd is not None:
        report["psi_score_train_vs_test"] = psi(model.scale.score(train_pd), model.scale.score(pd_))
    fairness = approval_ratios(scored["decision"], test)
    for column, figures in fairness.items():
        groups = test[column].astype("str").to_numpy()
        figures["calibration"] = calibration_by_group(y, pd_, groups).to_dict(orient="records")
    report["fairness"] = fairness
    return report


def approval_ratios(decision: pd.Series, test: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per fairness column present: the four-fifths screen on approvals, and for context the
    same ratio on "not declined" (a referral goes to an officer, not a decline)."""
    approved = (decision == "approve").to_numpy()
    not_declined = (decision != "decline").to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for column in FAIRNESS:
        if column in test.columns:
            groups = test[column].astype("str").to_numpy()
            out[column] = {
                "four_fifths": four_fifths(approved, groups),
                "four_fifths_not_declined": four_fifths(not_declined, groups),
            }
    return out


def write_report(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=_jsonable), encoding="utf-8")


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)
