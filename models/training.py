"""The training pipeline: split, LightGBM, calibration, grades, policy, baseline, report.

One function for Amanah's own training table and for any table an analyst or partner
brings: the difference is only where the feature list, monotone directions and split come
from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pandas.api.types as ptypes

from features.catalog import (
    CATALOG,
    Feature,
    Monotone,
    RiskFactor,
    categorical_names,
    feature_names,
    generic_feature,
    monotone_constraints,
)
from features.dask_cluster import dask_client
from features.wording import counted
from models.artifact import AmanahModel
from models.calibration import PDCalibrator
from models.decision_figures import decision_figures
from models.experience import Experience
from models.fairness import FAIRNESS, fairness_figures
from models.grades import GradeBands
from models.lgbm import (
    SearchResult,
    cross_validate_lightgbm,
    fit_lightgbm,
    fit_lightgbm_dask,
    refit_lightgbm,
    refit_lightgbm_dask,
)
from models.metrics import auc, brier, calibration_error, psi
from models.model_input import ModelInput
from models.policy import DecisionPolicy
from models.reference import fit_reference
from models.scaling import ScoreScale
from models.scorecard_scorer import ScorecardScorer
from models.split import out_of_time_split, stratified_folds
from models.table_columns import screen_columns
from models.woe import WoEScorecard

AMANAH_TARGET = "default_12m"
AMANAH_TIME = "application_date"
TRAIN_SAMPLE = 20_000
# the report's figures the artifact carries (its model card shows them)
TEST_METRICS = ("auc", "brier", "calibration_error", "default_rate", "mean_pd")


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
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why it is no feature


def catalog_spec() -> FeatureSpec:
    names = feature_names()
    return FeatureSpec(names, categorical_names(), monotone_constraints(names), "catalog", CATALOG)


def table_spec(
    frame: pd.DataFrame,
    target: str,
    time_column: str | None,
    catalog: dict[str, Any] | None = None,
    exclude: Sequence[str] = (),
    kept_out: Sequence[str] = FAIRNESS,
) -> FeatureSpec:
    """The table's columns that may be features (`models.table_columns` keeps identifiers,
    other outcomes, dates, constants and `exclude` out, and says why); text and category
    columns are categorical. A catalog file may give monotone directions
    ({"features": {"name": {"monotone": 1}}})."""
    unknown = [c for c in exclude if c not in frame.columns]
    if unknown:
        raise TableError(f"--exclude names columns the table does not have: {', '.join(unknown)}")
    y = check_table(frame, target, time_column)
    names, dropped = screen_columns(frame, target, y, time_column, exclude, kept_out)
    if not names:
        listed = "; ".join(f"{c}: {why}" for c, why in dropped.items())
        raise TableError(f"no column is left to learn from ({listed or 'the table has none'})")
    try:
        declared = declared_features(catalog, frame.columns)
    except TableError as exc:
        raise TableError(f"catalog: {exc}") from None
    categorical = [
        c
        for c in names
        if not ptypes.is_numeric_dtype(frame[c]) or isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]
    monotone = []
    for c in names:
        m = declared.get(c, 0)
        if m and c in categorical:
            raise TableError(f"catalog: {c!r} is categorical and cannot be monotone")
        monotone.append(m)
    entries = tuple(
        generic_feature(c, categorical=c in categorical, monotone=_DIRECTIONS[m])
        for c, m in zip(names, monotone, strict=True)
    )
    return FeatureSpec(
        names, categorical, monotone, "catalog file" if catalog else "inferred", entries, dropped
    )


CATALOG_SHAPE = '{"features": {"column": {"monotone": 1}}} (monotone -1, 0 or 1)'


def declared_features(catalog: object, columns: Iterable[object]) -> dict[str, int]:
    """The monotone direction a catalog file declares per column ({} without one); raises
    TableError naming what is wrong with its shape (`CATALOG_SHAPE`) or the columns it
    names that the table does not have (the caller says which catalog)."""
    if catalog is None:
        return {}
    if not isinstance(catalog, dict):
        raise TableError(f"must be a JSON object {CATALOG_SHAPE}; got {_kind(catalog)}")
    unknown_keys = sorted(str(k) for k in catalog if k != "features")
    if unknown_keys:
        raise TableError(
            f"unknown key {', '.join(map(repr, unknown_keys))}; expected {CATALOG_SHAPE}"
        )
    features = catalog.get("features", {})
    if not isinstance(features, dict):
        raise TableError(f'"features" must be an object; got {_kind(features)}')
    known = set(map(str, columns))
    absent = [str(name) for name in features if name not in known]
    if absent:
        raise TableError(f"names columns the table does not have: {', '.join(absent)}")
    out: dict[str, int] = {}
    for name, entry in features.items():
        if not isinstance(entry, dict):
            raise TableError(
                f'the entry of {name!r} must be an object like {{"monotone": 1}}; '
                f"got {_kind(entry)}"
            )
        m = entry.get("monotone", 0)
        if isinstance(m, bool) or m not in (-1, 0, 1):
            raise TableError(f"monotone of {name!r} must be -1, 0 or 1; got {m!r}")
        out[str(name)] = int(m)
    return out


def _kind(value: object) -> str:
    """A JSON value's kind as a message names it."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}  # fmt: skip
    return kinds.get(type(value), type(value).__name__)


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
    # the evaluated rows with target, fairness columns, pd_woe_baseline: the test period, or
    # every labelled row with its out-of-fold margin (OUT_OF_FOLD_COLUMN)
    test: pd.DataFrame
    train: pd.DataFrame  # up to TRAIN_SAMPLE rows the shipped model learned from (PSI)
    trials: list[dict[str, Any]] = field(default_factory=list)


def _categories(train: pd.DataFrame, categorical: list[str]) -> dict[str, list[str]]:
    return {
        c: sorted(str(v) for v in pd.unique(train[c].dropna().astype("str"))) for c in categorical
    }


MIN_EVENTS = 30  # defaults, and repaid loans, each evaluated part must hold
FOLDS = 5
# cross-validated models: each labelled row's margin from the fold model that never saw it
OUT_OF_FOLD_COLUMN = "margin_out_of_fold"


def check_evidence(parts: dict[str, np.ndarray], minimum: int = MIN_EVENTS) -> None:
    """Refuse to train where a part is too small to measure anything: a model validated on a
    dozen defaults has an AUC nobody can trust, and a gate cannot judge it."""
    short = [
        f"{name} holds {counted(int(y.sum()), 'default', 'defaults', 'en')} and "
        f"{counted(int(len(y) - y.sum()), 'repaid loan', 'repaid loans', 'en')}"
        for name, y in parts.items()
        if y.sum() < minimum or len(y) - y.sum() < minimum
    ]
    if short:
        raise TableError(
            "too little evidence to train and validate a model: "
            + "; ".join(short)
            + f". Each needs at least {minimum} of each; add members, cooperatives or "
            "months of history"
        )


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
    folds: int = FOLDS,
    family: str = "auto",
) -> TrainingResult:
    """Choose, calibrate, grade and evaluate a model, then refit the shipped one on more rows.

    With a time column: LightGBM's search early-stops on the validation period, the WoE
    scorecard is fitted on the training period, the family with the better validation AUC
    is chosen and calibrated on the validation period, and the shipped model is that family
    refit on the training and validation periods (LightGBM with the chosen rounds). The
    test period, which neither saw, gives the report's figures for the shipped model.

    Without one: `folds`-fold cross-validation does all of it (search, early stopping,
    family choice, calibration on out-of-fold margins), the shipped model is refit on every
    labelled row, and the report's figures are the out-of-fold ones.

    `family` may name the family to ship ("lightgbm" or "woe_scorecard") instead of the
    better one; both are still measured and recorded.

    `engine="dask"` trains the boosters with LightGBM's Dask integration (on `scheduler`, or
    a local cluster of `workers` processes); everything after the booster is the same.
    """
    if family not in FAMILY_CHOICES:
        raise TableError(f"family must be one of {', '.join(FAMILY_CHOICES)}; got {family!r}")
    y_all = check_table(frame, target, time_column)
    labelled = frame[y_all.notna()].reset_index(drop=True)
    y = y_all[y_all.notna()].astype(int).to_numpy()
    policy = policy or DecisionPolicy()
    scale = scale or ScoreScale()
    with _booster_fitter(engine, spec.monotone, seed, max_rounds, scheduler, workers) as fitter:
        if time_column:
            chosen = _develop_out_of_time(labelled, y, spec, time_column, fitter, seed, family)
        else:
            chosen = _develop_cross_validated(labelled, y, spec, folds, fitter, seed, family)
    return _finish(chosen, labelled, y, frame, spec, target, time_column, policy, scale, seed,
                   engine)  # fmt: skip


@dataclass
class _Developed:
    """What the development stage hands over: the shipped risk model, its calibration
    evidence and the rows it is evaluated on."""

    booster: lgb.Booster | None
    scorecard: WoEScorecard | None  # the shipped scorecard, when it is the chosen family
    baseline: WoEScorecard  # the WoE scorecard as the challenger baseline
    inputs: ModelInput
    calibrator: PDCalibrator
    calibration_pd: np.ndarray  # PDs the grades are cut on (validation / out-of-fold)
    calibration_y: np.ndarray  # their outcomes: the grades are monotone on them by construction
    reference_rows: np.ndarray  # mask of labelled rows the reference applicant comes from
    evaluated: np.ndarray  # mask of labelled rows the report's figures come from
    oof_margin: np.ndarray | None  # cross-validation: the report's margins
    baseline_pd: np.ndarray  # WoE scorecard PD on the evaluated rows
    train_rows: np.ndarray  # mask of rows the shipped model learned from
    parts: np.ndarray  # "train"/"valid"/"test" per labelled row, or the fold number
    search: dict[str, Any]  # best params, rounds, validation AUCs, family selection
    trials: list[dict[str, Any]]


class _Fitter:
    """The booster search and refit on the chosen engine (a Dask client lives for one
    training)."""

    def __init__(self, engine: str, monotone: list[int], seed: int, max_rounds: int,
                 client: Any) -> None:  # fmt: skip
        self.engine, self.monotone, self.seed, self.max_rounds = engine, monotone, seed, max_rounds
        self.client = client

    def search(self, X_train: pd.DataFrame, y_train: np.ndarray, X_valid: pd.DataFrame,
               y_valid: np.ndarray) -> SearchResult:  # fmt: skip
        if self.client is not None:
            return fit_lightgbm_dask(
                X_train, y_train, X_valid, y_valid, self.monotone, self.client,
                seed=self.seed, max_rounds=self.max_rounds,
            )  # fmt: skip
        return fit_lightgbm(
            X_train, y_train, X_valid, y_valid, self.monotone,
            seed=self.seed, max_rounds=self.max_rounds,
        )  # fmt: skip

    def refit(self, X: pd.DataFrame, y: np.ndarray, params: dict[str, Any],
              rounds: int) -> lgb.Booster:  # fmt: skip
        if self.client is not None:
            return refit_lightgbm_dask(X, y, params, rounds, self.client)
        return refit_lightgbm(X, y, params, rounds)


@contextmanager
def _booster_fitter(engine: str, monotone: list[int], seed: int, max_rounds: int,
                    scheduler: str | None, workers: int) -> Iterator[_Fitter]:  # fmt: skip
    if engine == "dask":
        with dask_client(scheduler, workers) as client:
            yield _Fitter(engine, monotone, seed, max_rounds, client)
    else:
        yield _Fitter(engine, monotone, seed, max_rounds, None)


def _scorecard_margin(card: WoEScorecard, X: pd.DataFrame) -> np.ndarray:
    return card.decision_function(X[card.features_])


FAMILY_CHOICES = ("auto", "lightgbm", "woe_scorecard")


def _family(lightgbm_auc: float, scorecard_auc: float, wanted: str) -> str:
    """The family that validates better, unless one was asked for; a tie goes to LightGBM
    (monotone, and it sees interactions the scorecard cannot)."""
    if wanted != "auto":
        return wanted
    return "woe_scorecard" if scorecard_auc > lightgbm_auc else "lightgbm"


def _develop_out_of_time(
    labelled: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    time_column: str,
    fitter: _Fitter,
    seed: int,
    wanted: str,
) -> _Developed:
    parts = out_of_time_split(labelled[time_column]).to_numpy()
    tr, va, te = (parts == p for p in ("train", "valid", "test"))
    check_evidence({"the training period": y[tr], "the validation period": y[va],
                    "the test period": y[te]})  # fmt: skip
    fit_rows = tr | va
    inputs = ModelInput(spec.names, _categories(labelled[fit_rows], spec.categorical))
    X = inputs.prepare(labelled)
    search = fitter.search(X[tr], y[tr], X[va], y[va])
    baseline = WoEScorecard(random_state=seed).fit(X[tr].reset_index(drop=True), y[tr])
    card_valid = _scorecard_margin(baseline, X[va])
    scorecard_auc = auc(y[va], card_valid)
    family = _family(search.valid_auc, scorecard_auc, wanted)
    booster, scorecard = None, None
    if family == "lightgbm":
        margin_valid = np.asarray(search.booster.predict(X[va], raw_score=True), dtype=float)
        booster = fitter.refit(X[fit_rows], y[fit_rows], search.params, search.best_iteration)
    else:
        margin_valid = card_valid
        scorecard = WoEScorecard(random_state=seed).fit(
            X[fit_rows].reset_index(drop=True), y[fit_rows]
        )
    calibrator = PDCalibrator(random_state=seed).fit(margin_valid, y[va])
    return _Developed(
        booster=booster,
        scorecard=scorecard,
        baseline=baseline,
        inputs=inputs,
        calibrator=calibrator,
        calibration_pd=calibrator.predict(margin_valid),
        calibration_y=y[va],
        # the latest period the model was developed on: its applicants look most like
        # today's (the training period's median member had under 6 months of history)
        reference_rows=va,
        evaluated=te,
        oof_margin=None,
        baseline_pd=baseline.predict_proba(X[te][baseline.features_]),
        train_rows=fit_rows,
        parts=parts,
        search=_search_record(
            search.params,
            search.best_iteration,
            on="validation period",
            lightgbm_auc=search.valid_auc,
            scorecard_auc=scorecard_auc,
            family=family,
            wanted=wanted,
            refit_on="training and validation periods",
        ),
        trials=search.trials,
    )


def _develop_cross_validated(
    labelled: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    k: int,
    fitter: _Fitter,
    seed: int,
    wanted: str,
) -> _Developed:
    folds = stratified_folds(y, k, seed)
    check_evidence({"all labelled rows": y})
    check_evidence({f"fold {f + 1} of {k}": y[folds == f] for f in range(k)}, MIN_EVENTS // k)
    inputs = ModelInput(spec.names, _categories(labelled, spec.categorical))
    X = inputs.prepare(labelled)
    cv = cross_validate_lightgbm(X, y, folds, fitter.search)
    card_oof = np.empty(len(y), dtype=float)
    card_auc = []
    for f in range(k):
        held = folds == f
        card = WoEScorecard(random_state=seed).fit(X[~held].reset_index(drop=True), y[~held])
        card_oof[held] = _scorecard_margin(card, X[held])
        card_auc.append(auc(y[held], card_oof[held]))
    lightgbm_auc, scorecard_auc = float(np.mean(cv.fold_auc)), float(np.mean(card_auc))
    # one standard error (Breiman's rule): across folds LightGBM must beat the simpler
    # scorecard by more than the spread of its fold-by-fold lead, or the scorecard ships
    lead = np.asarray(cv.fold_auc) - np.asarray(card_auc)
    margin = float(lead.std(ddof=1) / np.sqrt(k))
    family = _family(lightgbm_auc - margin, scorecard_auc, wanted)
    oof = cv.oof_margin if family == "lightgbm" else card_oof
    calibrator = PDCalibrator(random_state=seed).fit(oof, y)
    everyone = np.ones(len(y), dtype=bool)
    baseline = WoEScorecard(random_state=seed).fit(X, y)
    booster = fitter.refit(X, y, cv.params, cv.rounds) if family == "lightgbm" else None
    return _Developed(
        booster=booster,
        scorecard=baseline if family == "woe_scorecard" else None,
        baseline=baseline,
        inputs=inputs,
        calibrator=calibrator,
        calibration_pd=calibrator.predict(oof),
        calibration_y=y,
        reference_rows=everyone,
        evaluated=everyone,
        oof_margin=oof,
        baseline_pd=1 / (1 + np.exp(-card_oof)),
        train_rows=everyone,
        parts=folds,
        search=_search_record(
            cv.params,
            cv.rounds,
            on=f"{k}-fold cross-validation (mean fold AUC, one-standard-error rule)",
            lightgbm_auc=lightgbm_auc,
            scorecard_auc=scorecard_auc,
            family=family,
            wanted=wanted,
            refit_on="all labelled rows",
            lightgbm_lead_standard_error=margin,
        ),
        trials=cv.trials,
    )


def _search_record(
    params: dict[str, Any],
    rounds: int,
    on: str,
    lightgbm_auc: float,
    scorecard_auc: float,
    family: str,
    wanted: str,
    refit_on: str,
    **selection_extra: float,
) -> dict[str, Any]:
    """What the metadata and the report say of the search, the family choice and the refit."""
    return {
        "best_params": {k: v for k, v in params.items() if k != "monotone_constraints"},
        "best_iteration": rounds,
        "validation_auc": lightgbm_auc,
        "family_selection": {
            "on": on,
            "lightgbm_auc": lightgbm_auc,
            "woe_scorecard_auc": scorecard_auc,
            **selection_extra,
            "chosen": family,
            "asked_for": wanted,
        },
        "refit": refit_on + (f", {rounds} rounds" if family == "lightgbm" else ""),
    }


def _finish(
    dev: _Developed,
    labelled: pd.DataFrame,
    y: np.ndarray,
    frame: pd.DataFrame,
    spec: FeatureSpec,
    target: str,
    time_column: str | None,
    policy: DecisionPolicy,
    scale: ScoreScale,
    seed: int,
    engine: str,
) -> TrainingResult:
    """The artifact from the developed parts, and its report on the evaluated rows.

    The report's figures need a model that scores, and the shipped artifact carries some
    of them (test metrics, periods, how it was evaluated): the parts are scored as a
    scoring core first, and the artifact is built once from the same parts, complete."""
    ref = dev.reference_rows
    core = AmanahModel(
        booster=dev.booster,
        scorecard=(
            ScorecardScorer.from_scorecard(dev.scorecard, dev.inputs)
            if dev.scorecard is not None
            else None
        ),
        inputs=dev.inputs,
        calibrator=dev.calibrator,
        scale=scale,
        grades=GradeBands().fit(dev.calibration_pd, dev.calibration_y),
        policy=policy,
        catalog=spec.catalog,
        reference=fit_reference(labelled[ref], y[ref], spec.names, spec.categorical),
        # the rows the shipped model learned from: its categories come from the same rows
        experience=Experience.fit(
            dev.inputs,
            dev.inputs.matrix(labelled[dev.train_rows]),
            spec.monotone,
            unchecked=[
                f.name for f in spec.catalog if f.risk_factor == RiskFactor.LOCAL_CONDITIONS
            ],
        ),
    )
    test = labelled[dev.evaluated].reset_index(drop=True)
    # the WoE scorecard's PD travels with the evaluated rows (the report compares the two)
    test["pd_woe_baseline"] = dev.baseline_pd
    scored = None
    if dev.oof_margin is not None:
        test[OUT_OF_FOLD_COLUMN] = dev.oof_margin
        scored = core.decide_margins(dev.oof_margin, test)
    train = labelled[dev.train_rows]
    train = train.sample(min(len(train), TRAIN_SAMPLE), random_state=seed).reset_index(drop=True)
    train_pd = core.predict(train, reasons=False)["pd"].to_numpy()
    report = evaluate(core, dev.baseline_pd, test, y[dev.evaluated], train_pd, scored=scored)
    if dev.oof_margin is not None:
        report["evaluation"] = f"out-of-fold ({int(dev.parts.max()) + 1}-fold cross-validation)"
        rows = {"labelled": len(y), "folds": int(dev.parts.max()) + 1}
    else:
        report["evaluation"] = "test period (out of time), shipped model"
        rows = {p: int((dev.parts == p).sum()) for p in ("train", "valid", "test")}
    report["rows"] = {**rows, "unlabelled": int(len(frame) - len(labelled))}
    report["periods"] = _periods(labelled, time_column, dev.parts)
    report["validation_auc"] = dev.search["validation_auc"]
    report["family_selection"] = dev.search["family_selection"]
    report["refit"] = dev.search["refit"]
    report["columns_dropped"] = dict(spec.dropped)
    model = replace(
        core,
        metadata={
            "target": target,
            "time_column": time_column,
            "features_source": spec.source,
            "columns_dropped": dict(spec.dropped),
            "monotone": dict(zip(spec.names, spec.monotone, strict=True)),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": seed,
            **dev.search,
            "policy_version": policy.version,
            "engine": engine,
            "test_metrics": {k: report[k] for k in TEST_METRICS},
            "periods": report["periods"],
            "evaluation": report["evaluation"],
        },
    )
    test[target] = y[dev.evaluated]
    return TrainingResult(model, dev.baseline, report, test, train, dev.trials)


def _periods(frame: pd.DataFrame, time_column: str | None, parts: np.ndarray) -> dict[str, Any]:
    if not time_column:
        return {"split": f"{int(parts.max()) + 1}-fold cross-validation, stratified"}
    t = pd.to_datetime(frame[time_column])
    return {
        p: [str(t[parts == p].min().date()), str(t[parts == p].max().date())]
        for p in ("train", "valid", "test")
    }


def evaluated_scores(model: AmanahModel, test: pd.DataFrame) -> pd.DataFrame:
    """The evaluated rows' answers: out-of-fold where the model was cross-validated (its
    own answers there would be in-sample), the model's own on an out-of-time period."""
    if OUT_OF_FOLD_COLUMN in test.columns:
        return model.decide_margins(test[OUT_OF_FOLD_COLUMN].to_numpy(dtype=float), test)
    return model.predict(test, reasons=False)


def evaluate(
    model: AmanahModel,
    baseline_pd: np.ndarray | None,
    test: pd.DataFrame,
    y: np.ndarray,
    train_pd: np.ndarray | None = None,
    scored: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Test-period figures: discrimination, calibration, grades, stability, fairness.

    `scored`: the rows' decisions when they do not come from this model's own answers (the
    out-of-fold decisions of a cross-validated model)."""
    if scored is None:
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
    report["fairness"] = fairness_figures(scored["decision"], pd_, scored["grade"], y, test)
    report["policy_figures"] = decision_figures(scored, test, y, model.policy)
    return report


def write_report(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=_jsonable), encoding="utf-8")


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)
