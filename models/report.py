"""The validation report an analyst signs: one self-contained HTML file.

Every figure is computed on the test period by pure functions (`report_figures` gathers
them into one JSON-ready dict, the numbers the tests check); `render_report` turns those
numbers and the plots (PNG, base64-embedded, no network and no external CSS or JS) into the
page. Anything that cannot be computed (one class in a group, an empty group, a section
without its data) reads "n/a" or "not available", never NaN.

Conventions as in `models.metrics`: ``y`` is 1 for a default, PD is the calibrated
probability of default, and discrimination figures (AUC, Gini, KS) rank loans by PD.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from features.catalog import FiveC, format_value
from features.catalog import feature as catalog_feature
from features.wording import Lang, format_int, format_percent, format_rupiah, round_half_up
from models import plots
from models.artifact import AmanahModel
from models.decision_figures import TERMS, decision_figures
from models.fairness import FAIRNESS, MIN_GROUP, fairness_figures
from models.html_parts import escape as _e
from models.html_parts import number as _num
from models.html_parts import percent as _pct
from models.html_parts import table as _table
from models.metrics import (
    FOUR_FIFTHS,
    PSI_EPSILON,
    auc,
    brier,
    calibration_error,
    calibration_table,
    psi,
)
from models.policy import DECISIONS, RULES
from models.training import AMANAH_TARGET, evaluated_scores

__all__ = [
    "PSI_SHIFTED",
    "PSI_WATCH",
    "WOE_COLUMN",
    "ReportInputs",
    "auc_by_group",
    "category_psi",
    "feature_psi",
    "gains_table",
    "ks_statistic",
    "psi_band",
    "render_report",
    "report_figures",
    "write_report_html",
]

PSI_WATCH = 0.10
"""PSI from here up to `PSI_SHIFTED` is "watch" (pantau)."""
PSI_SHIFTED = 0.25
"""PSI above this is "shifted" (bergeser): the population has moved."""
WOE_COLUMN = "pd_woe_baseline"

"""Test-frame column holding the WoE scorecard's PD, when the challenger is reported."""
SHAP_ROWS = 2000
DEPENDENCE_PLOTS = 4
MISSING = "(missing)"

_DEFAULT_DEFINITION = (
    "more than 90 days past due (OJK kolektibilitas 3, kurang lancar, or worse) within "
    "12 months of disbursement"
)


@dataclass(frozen=True)
class ReportInputs:
    """What the report is about. ``test`` holds the test-period rows: the model's features,
    the target and the fairness columns (``gender``, ``cooperative_profile``), optionally the
    WoE scorecard's PD as ``pd_woe_baseline``. ``periods`` and ``rows`` (e.g. a
    `TrainingResult.report`'s) fill the header; without them they are read off the frames."""

    model: AmanahModel
    test: pd.DataFrame
    target: str
    train: pd.DataFrame | None = None
    title: str = "Amanah validation report"
    model_name: str | None = None
    model_version: str | None = None
    reference: Mapping[str, Any] | None = None
    reason_examples: Sequence[Mapping[str, Any]] = ()
    oracle: Mapping[str, float] | None = None
    fidelity: Mapping[str, float] | None = None
    periods: Mapping[str, Any] | None = None
    rows: Mapping[str, int] | None = None
    shap_rows: int = SHAP_ROWS
    seed: int = 0


# -- figures: pure functions -------------------------------------------------------------------


def _labels(y: ArrayLike) -> NDArray[np.float64]:
    t = np.asarray(y, dtype=np.float64)
    if t.ndim != 1 or not np.all((t == 0.0) | (t == 1.0)):
        raise ValueError("y must be 1-D and hold only 0 (repaid) and 1 (default)")
    return t


def ks_statistic(y: ArrayLike, score: ArrayLike) -> tuple[float, float]:
    """Kolmogorov-Smirnov distance between the score distributions of defaults and repaid
    loans: ``max_s |F_default(s) - F_repaid(s)|`` over every observed score, and the score at
    which it is reached. ValueError when either outcome is absent."""
    t = _labels(y)
    s = np.asarray(score, dtype=np.float64)
    if s.shape != t.shape or not np.all(np.isfinite(s)):
        raise ValueError("score must be finite with one value per label")
    bad, good = np.sort(s[t == 1.0]), np.sort(s[t == 0.0])
    if len(bad) == 0 or len(good) == 0:
        raise ValueError("KS needs both defaults and repaid loans")
    grid = np.unique(s)
    gap = np.abs(
        np.searchsorted(bad, grid, side="right") / len(bad)
        - np.searchsorted(good, grid, side="right") / len(good)
    )
    i = int(np.argmax(gap))
    return float(gap[i]), float(grid[i])


def gains_table(y: ArrayLike, pd_: ArrayLike, bands: int = 10) -> pd.DataFrame:
    """Gains by PD decile, riskiest first (``decile`` 1 = highest PD).

    Deciles are cut at the unique PD quantiles, right-closed, so tied PDs share a decile and
    a heavily tied PD (isotonic calibration) may give fewer than ten. Columns: ``decile``,
    ``n``, ``defaults``, ``default_rate``, ``pd_min``, ``pd_max``, ``mean_pd``,
    ``cum_share_of_loans``, ``cum_defaults``, ``cum_capture`` (cumulative share of all
    defaults), ``lift`` (decile default rate over the overall rate) and ``cum_lift``; the
    rates and lifts are NaN when there are no defaults at all.
    """
    t = _labels(y)
    p = np.asarray(pd_, dtype=np.float64)
    if p.shape != t.shape or len(p) == 0 or not np.all(np.isfinite(p)):
        raise ValueError("pd_ must be finite, non-empty and one value per label")
    edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, bands + 1)[1:-1]))
    edges = edges[edges < p.max()]
    idx = edges.shape[0] - np.searchsorted(edges, p, side="left")  # 0 = riskiest
    k = edges.shape[0] + 1
    n = np.bincount(idx, minlength=k)
    defaults = np.bincount(idx, weights=t, minlength=k)
    keep = n > 0
    n, defaults = n[keep], defaults[keep]
    pd_sum = np.bincount(idx, weights=p, minlength=k)[keep]
    groups = pd.Series(p).groupby(idx)
    total, overall = float(t.sum()), float(t.mean())
    cum_n, cum_d = np.cumsum(n), np.cumsum(defaults)
    rate = defaults / n
    with np.errstate(divide="ignore", invalid="ignore"):
        capture = cum_d / total if total else np.full(len(n), np.nan)
        lift = rate / overall if overall else np.full(len(n), np.nan)
    return pd.DataFrame(
        {
            "decile": np.arange(1, len(n) + 1, dtype=np.int64),
            "n": n.astype(np.int64),
            "defaults": np.rint(defaults).astype(np.int64),
            "default_rate": rate,
            "pd_min": groups.min().to_numpy(),
            "pd_max": groups.max().to_numpy(),
            "mean_pd": pd_sum / n,
            "cum_share_of_loans": cum_n / len(p),
            "cum_defaults": np.rint(cum_d).astype(np.int64),
            "cum_capture": capture,
            "lift": lift,
            "cum_lift": capture / (cum_n / len(p)),
        }
    )


def _share_psi(expected: pd.Series, actual: pd.Series) -> float:
    """PSI over the bins named by the two series' values (every value its own bin)."""
    e = expected.value_counts(normalize=True, dropna=False)
    a = actual.value_counts(normalize=True, dropna=False)
    bins = e.index.union(a.index)
    e_share = e.reindex(bins, fill_value=0.0).to_numpy(dtype=np.float64)
    a_share = a.reindex(bins, fill_value=0.0).to_numpy(dtype=np.float64)
    e_share = np.where(e_share == 0.0, PSI_EPSILON, e_share)
    a_share = np.where(a_share == 0.0, PSI_EPSILON, a_share)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def category_psi(expected: ArrayLike | pd.Series, actual: ArrayLike | pd.Series) -> float:
    """PSI over category shares (values compared as text); missing values are a bin of
    their own, and a category seen on one side only gets `PSI_EPSILON` on the other."""

    def bins(values: ArrayLike | pd.Series) -> pd.Series:
        s = pd.Series(values) if not isinstance(values, pd.Series) else values
        return s.astype("str").where(s.notna(), MISSING).reset_index(drop=True)

    e, a = bins(expected), bins(actual)
    if len(e) == 0 or len(a) == 0:
        raise ValueError("PSI needs values on both sides")
    return _share_psi(e, a)


def feature_psi(
    expected: pd.Series, actual: pd.Series, categorical: bool = False, bins: int = 10
) -> float:
    """PSI of one feature, ``actual`` (test) against ``expected`` (train).

    Categorical: `category_psi`. Numeric without missing values: `models.metrics.psi`
    (bins at the expected side's deciles). Numeric with missing values: the same decile bins
    plus one bin for missing, so a change in the share of missing values counts as drift.
    """
    if categorical:
        return category_psi(expected, actual)
    e = pd.to_numeric(expected).to_numpy(dtype=np.float64, na_value=np.nan)
    a = pd.to_numeric(actual).to_numpy(dtype=np.float64, na_value=np.nan)
    if len(e) == 0 or len(a) == 0:
        raise ValueError("PSI needs values on both sides")
    e_missing, a_missing = ~np.isfinite(e), ~np.isfinite(a)
    if not e_missing.any() and not a_missing.any():
        return psi(e, a, bins=bins)
    present = e[~e_missing]
    if len(present):
        edges = np.unique(np.quantile(present, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
        edges = edges[edges < present.max()]
    else:
        edges = np.empty(0)

    def codes(values: NDArray[np.float64], missing: NDArray[np.bool_]) -> pd.Series:
        index = np.searchsorted(edges, np.where(missing, 0.0, values), side="left")
        return pd.Series(np.where(missing, -1, index))

    return _share_psi(codes(e, e_missing), codes(a, a_missing))


def psi_band(value: float | None) -> str:
    """ "stable" below 0.10, "watch" up to 0.25, "shifted" above, "n/a" when unknown."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value < PSI_WATCH:
        return "stable"
    return "watch" if value <= PSI_SHIFTED else "shifted"


def auc_by_group(y: ArrayLike, score: ArrayLike, group: ArrayLike) -> pd.DataFrame:
    """AUC within each group. Columns ``group``, ``n``, ``defaults``, ``auc`` (NaN when the
    group holds only one outcome)."""
    t = _labels(y)
    s = np.asarray(score, dtype=np.float64)
    g = pd.Series(np.asarray(group)).to_numpy()
    rows = []
    for label in sorted(pd.unique(g), key=str):
        mask = g == label
        rows.append(
            {
                "group": label,
                "n": int(mask.sum()),
                "defaults": int(t[mask].sum()),
                "auc": _maybe(auc, t[mask], s[mask]),
            }
        )
    out = pd.DataFrame(rows, columns=["group", "n", "defaults", "auc"])
    out["auc"] = pd.to_numeric(out["auc"]).astype(float)
    return out


def _maybe(function: Callable[..., Any], *args: Any) -> Any:
    """The figure, or None when it is undefined on these rows (one class, no rows)."""
    try:
        value = function(*args)
    except ValueError:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _quality(y: NDArray[np.float64], pd_: NDArray[np.float64]) -> dict[str, Any]:
    """AUC, Gini, KS, Brier and calibration error of one PD on one set of loans."""
    area = _maybe(auc, y, pd_)
    ks = _maybe(ks_statistic, y, pd_)
    return {
        "n": len(y),
        "defaults": int(y.sum()),
        "auc": area,
        "gini": None if area is None else 2.0 * area - 1.0,
        "ks": None if ks is None else ks[0],
        "ks_at_pd": None if ks is None else ks[1],
        "brier": _maybe(brier, y, pd_),
        "calibration_error": _maybe(calibration_error, y, pd_),
    }


def _clean(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python, NaN/inf and pandas' NA as None, frames as records."""
    if isinstance(value, pd.DataFrame):
        return _clean(value.to_dict(orient="records"))
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


# -- scoring the test period once --------------------------------------------------------------


@dataclass(frozen=True)
class _Scored:
    test: pd.DataFrame  # labelled test rows
    y: NDArray[np.float64]
    pd_: NDArray[np.float64]
    points: NDArray[np.float64]
    scored: pd.DataFrame  # model.predict(test)
    unlabelled: int
    train_pd: NDArray[np.float64] | None
    baseline: NDArray[np.float64] | None  # WoE PD aligned with test, NaN where absent
    explanation: Any  # shap.Explanation on the sample, or None
    shap_error: str | None


def _score(inputs: ReportInputs) -> _Scored:
    if inputs.target not in inputs.test.columns:
        raise ValueError(f"the test frame has no target column {inputs.target!r}")
    target = pd.to_numeric(inputs.test[inputs.target], errors="coerce")
    labelled = target.notna().to_numpy()
    test = inputs.test[labelled].reset_index(drop=True)
    if len(test) == 0:
        raise ValueError("the test frame has no labelled rows")
    if not target[labelled].isin((0, 1)).all():
        raise ValueError(f"target {inputs.target!r} must hold 0 (repaid) and 1 (default) only")
    model = inputs.model
    scored = evaluated_scores(model, test)  # the report's reasons come as data
    pd_ = scored["pd"].to_numpy(dtype=np.float64)
    baseline = None
    if WOE_COLUMN in test.columns:
        baseline = pd.to_numeric(test[WOE_COLUMN], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    train_pd = None
    if inputs.train is not None and len(inputs.train):
        try:
            train_pd = model.predict(inputs.train, reasons=False)["pd"].to_numpy(dtype=np.float64)
        except ValueError:  # InputError: the training frame lacks a feature; PSI per feature
            train_pd = None
    explanation, error = _explain(model, test, inputs.shap_rows, inputs.seed)
    return _Scored(
        test=test,
        y=target[labelled].to_numpy(dtype=np.float64),
        pd_=pd_,
        points=scored["score"].to_numpy(dtype=np.float64),
        scored=scored,
        unlabelled=int((~labelled).sum()),
        train_pd=train_pd,
        baseline=baseline,
        explanation=explanation,
        shap_error=error,
    )


def _explain(
    model: AmanahModel, test: pd.DataFrame, rows: int, seed: int
) -> tuple[Any, str | None]:
    """Path-dependent TreeSHAP (the shap library's default) of the booster's log-odds on a
    seeded sample of at most ``rows`` test rows."""
    with warnings.catch_warnings():  # shap's import-time deprecation notices
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap

    if rows < 1:
        return None, "SHAP was switched off for this report (shap_rows = 0)."
    if model.booster is None:
        return None, (
            "The shipped model is the WoE scorecard: its reasons are points below each "
            "feature's best bin, with no trees for SHAP to walk."
        )
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(test), size=min(rows, len(test)), replace=False))
    # `prepare` gives the categoricals as pandas categories with the training categories,
    # which is what the booster was trained on: shap hands the frame to LightGBM's own
    # pred_contrib, which checks them. A plain `matrix` frame would be refused by LightGBM
    # ("categorical_feature do not match"), so the prepared frame is the input here.
    X = model.prepare(test.iloc[take])
    try:
        explanation = shap.TreeExplainer(model.booster)(X)
    except Exception as exc:  # a plot must not cost the analyst the whole report
        return None, f"SHAP could not be computed: {type(exc).__name__}: {exc}"
    if explanation.values.ndim == 3:  # one column per class in some shap versions
        explanation = explanation[:, :, 1]
    return explanation, None


# -- the figures -------------------------------------------------------------------------------


def report_figures(inputs: ReportInputs) -> dict[str, Any]:
    """Every number the report shows, JSON-ready (None where a figure is undefined)."""
    return _figures(inputs, _score(inputs))


def _figures(inputs: ReportInputs, s: _Scored) -> dict[str, Any]:
    y, pd_ = s.y, s.pd_
    quality = _quality(y, pd_)
    figures: dict[str, Any] = {
        "header": _header(inputs, s),
        "discrimination": {
            k: quality[k] for k in ("n", "defaults", "auc", "gini", "ks", "ks_at_pd")
        },
        "calibration": {
            "brier": quality["brier"],
            "calibration_error": quality["calibration_error"],
            "mean_pd": float(np.mean(pd_)),
            "default_rate": float(np.mean(y)),
            "bins": calibration_table(y, pd_, bins=10),
        },
        "score_distribution": _score_summary(y, s.points),
        "grades": _grades(inputs.model, y, pd_, s.scored),
        "gains": gains_table(y, pd_),
        "decisions": _decisions(inputs.model, s),
        "psi": _psi_section(inputs, s),
        "fairness": _fairness(s),
        "shap": _shap_summary(s),
        "challenger": _challenger(s),
        "reason_examples": [dict(example) for example in inputs.reason_examples],
        "oracle": None if inputs.oracle is None else dict(inputs.oracle),
        "fidelity": None if inputs.fidelity is None else dict(inputs.fidelity),
    }
    if inputs.oracle is not None:
        figures["oracle"]["model_test_auc"] = quality["auc"]
    cleaned: dict[str, Any] = _clean(figures)
    return cleaned


def _header(inputs: ReportInputs, s: _Scored) -> dict[str, Any]:
    meta = inputs.model.metadata
    time_column = meta.get("time_column")
    rows: dict[str, Any] = dict(inputs.rows) if inputs.rows else {}
    rows.setdefault("test", len(s.test))
    if inputs.train is not None:
        rows.setdefault("train", len(inputs.train))
    if s.unlabelled:
        rows["test_unlabelled_left_out"] = s.unlabelled
    target = inputs.target
    return {
        "title": inputs.title,
        "model_name": inputs.model_name or meta.get("model_name"),
        "model_version": inputs.model_version or meta.get("model_version"),
        "trained_at": meta.get("trained_at"),
        "target": target,
        "target_definition": _DEFAULT_DEFINITION if target == AMANAH_TARGET else None,
        "time_column": time_column,
        "periods": dict(inputs.periods) if inputs.periods else _periods(inputs, time_column),
        "rows": rows,
        "policy_version": meta.get("policy_version") or inputs.model.policy.version,
        "feature_count": len(inputs.model.features),
        "categorical_features": len(inputs.model.categories),
        "seed": meta.get("seed"),
        "best_iteration": meta.get("best_iteration"),
        "best_params": meta.get("best_params"),
        "features_source": meta.get("features_source"),
        "reference": _reference(inputs.reference),
    }


def _periods(inputs: ReportInputs, time_column: str | None) -> dict[str, Any]:
    if not time_column:
        return {"split": "stratified random"}
    out: dict[str, Any] = {}
    for name, frame in (("train", inputs.train), ("test", inputs.test)):
        if frame is not None and time_column in frame.columns and len(frame):
            t = pd.to_datetime(frame[time_column])
            out[name] = [str(t.min().date()), str(t.max().date())]
    return out or {"split": f"out of time by {time_column} (dates not in the frames)"}


def _reference(reference: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    if reference is None:
        return None
    rows = []
    for name, value in reference.items():
        row: dict[str, Any] = {
            "feature": str(name),
            "value": _clean(value),
            "shown": None,
            "description_en": None,
            "description_id": None,
            "group": None,
        }
        try:
            f = catalog_feature(str(name))
        except KeyError:
            rows.append(row)
            continue
        plain = _clean(value)
        try:
            row["shown"] = format_value(
                f, plain if isinstance(plain, str) else (None if plain is None else float(plain))
            )
        except (TypeError, ValueError):
            row["shown"] = None
        row.update(
            description_en=f.description_en, description_id=f.description_id, group=f.group.value
        )
        rows.append(row)
    return rows


def _score_summary(y: NDArray[np.float64], points: NDArray[np.float64]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, part in (("repaid", points[y == 0]), ("defaulted", points[y == 1])):
        out[label] = {
            "n": len(part),
            "mean": float(np.mean(part)) if len(part) else None,
            "median": float(np.median(part)) if len(part) else None,
            "p10": float(np.quantile(part, 0.1)) if len(part) else None,
            "p90": float(np.quantile(part, 0.9)) if len(part) else None,
        }
    return out


def _grades(
    model: AmanahModel, y: NDArray[np.float64], pd_: NDArray[np.float64], scored: pd.DataFrame
) -> dict[str, Any]:
    table = model.grades.observed(pd_, y).rename_axis("grade").reset_index()
    decisions = scored.groupby("grade")["decision"].value_counts().unstack(fill_value=0)
    return {
        "table": table,
        "monotone": bool(model.grades.is_monotone(pd_, y)),
        "decisions": {
            str(g): {str(k): int(v) for k, v in row.items()} for g, row in decisions.iterrows()
        },
    }


def _psi_section(inputs: ReportInputs, s: _Scored) -> dict[str, Any]:
    train = inputs.train
    if train is None or len(train) == 0:
        return {"available": False, "score": None, "features": []}
    model = inputs.model
    score_psi = None
    if s.train_pd is not None:
        score_psi = _maybe(psi, model.scale.score(s.train_pd), model.scale.score(s.pd_))
    rows: list[dict[str, Any]] = []
    for name in model.features:
        value = None
        if name in train.columns:
            value = _maybe(feature_psi, train[name], s.test[name], name in model.categories)
        rows.append(
            {
                "feature": name,
                "kind": "categorical" if name in model.categories else "numeric",
                "psi": value,
                "band": psi_band(value),
            }
        )
    rows.sort(key=lambda r: (r["psi"] is None, -(r["psi"] or 0.0)))  # worst first, n/a last
    bands = [r["band"] for r in rows]
    return {
        "available": True,
        "score": {"psi": score_psi, "band": psi_band(score_psi)},
        "features": rows,
        "counts": {b: bands.count(b) for b in ("stable", "watch", "shifted", "n/a")},
    }


def _fairness(s: _Scored) -> dict[str, Any]:
    """Per fairness column: `models.fairness.fairness_figures` on the scored test rows, the
    screen that applies and its ratio, and per group the figures the section's table shows."""
    screens = fairness_figures(
        s.scored["decision"], s.pd_, s.scored["grade"].to_numpy(), s.y, s.test
    )
    out: dict[str, Any] = {}
    for column in FAIRNESS:
        if column not in screens:
            continue
        f = screens[column]
        approve, not_declined = f["four_fifths"], f["four_fifths_not_declined"]
        adjusted, calibration = f["grade_adjusted"], f["calibration"]
        groups = s.test[column].astype("str").to_numpy()
        areas = {str(r["group"]): r for r in auc_by_group(s.y, s.pd_, groups).to_dict("records")}
        off = set(calibration["miscalibrated"])
        rows = []
        for c in calibration["table"]:
            g = str(c["group"])
            rows.append(
                {
                    "group": g,
                    "n": int(c["n"]),
                    "defaults": int(areas[g]["defaults"]),
                    "approval_rate": approve["rates"].get(g),
                    "standardised_approval": adjusted["standardised"].get(g),
                    "top_grades_approved": f["top_grades_approved"].get(g),
                    "not_declined_rate": not_declined["rates"].get(g),
                    "auc": areas[g]["auc"],
                    "mean_pd": c["mean_pd"],
                    "observed_rate": c["observed_rate"],
                    "difference": c["difference"],
                    "z": c["z"],
                    "miscalibrated": g in off,
                }
            )
        ratio = approve["ratio"] if f["screen"] == "unconditional" else adjusted["ratio"]
        defined = isinstance(ratio, float) and math.isfinite(ratio)
        out[column] = {
            "screen": f["screen"],
            "ratio": ratio,
            "passes": bool(ratio >= FOUR_FIFTHS) if defined else None,
            "approval_ratio": approve["ratio"],
            "passes_four_fifths": approve["passes"],
            "not_declined_ratio": not_declined["ratio"],
            "grade_adjusted_ratio": adjusted["ratio"],
            "groups_too_small": sorted(
                {str(g) for g in approve["groups_too_small"]} | set(adjusted["groups_too_small"])
            ),
            "miscalibrated": list(calibration["miscalibrated"]),
            "max_calibration_gap": calibration["max_gap"],
            "groups": rows,
            "by_grade": adjusted["by_grade"],
        }
    return out


def _decisions(model: AmanahModel, s: _Scored) -> dict[str, Any]:
    """`models.decision_figures.decision_figures` on the scored test rows, with each fired
    rule's decision and officer text, and the policy's lending economics."""
    policy = model.policy
    d = decision_figures(s.scored, s.test, s.y, policy)
    counts = s.scored["decision"].astype(str).value_counts()
    fired = Counter(code for codes in s.scored["rule_codes"] for code in codes)
    n = int(d["applications"])
    rules = []
    for code, share in d["rules"].items():
        rule = RULES.get(code)
        rules.append(
            {
                "code": code,
                "decision": None if rule is None else rule.decision,
                "share": share,
                "count": fired[code],
                "text_en": None if rule is None else rule.text_en,
            }
        )
    return {
        "applications": n,
        "shares": d["shares"],
        "counts": {k: int(counts.get(k, 0)) for k in DECISIONS},
        "rules": rules,
        "top_grades": d["top_grades"],
        "economics": policy.economics.to_dict(),
        "terms_available": "policy" in d,
        "policy": d.get("policy"),
        "curve": d.get("curve", []),
    }


def _shap_summary(s: _Scored) -> dict[str, Any]:
    if s.explanation is None:
        return {"available": False, "note": s.shap_error}
    values = np.asarray(s.explanation.values, dtype=np.float64)
    names = [str(n) for n in s.explanation.feature_names]
    mean_abs = np.abs(values).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    base = np.asarray(s.explanation.base_values, dtype=np.float64).ravel()
    return {
        "available": True,
        "rows": int(values.shape[0]),
        "expected_log_odds": float(base[0]) if len(base) else None,
        "mean_abs": [{"feature": names[i], "mean_abs_shap": float(mean_abs[i])} for i in order],
        "top": [names[i] for i in order[:DEPENDENCE_PLOTS]],
    }


def _challenger(s: _Scored) -> dict[str, Any]:
    if s.baseline is None:
        return {"available": False}
    keep = np.isfinite(s.baseline) & (s.baseline >= 0.0) & (s.baseline <= 1.0)
    return {
        "available": True,
        "rows": int(keep.sum()),
        "rows_without_baseline": int((~keep).sum()),
        "model": _quality(s.y[keep], s.pd_[keep]),
        "woe": _quality(s.y[keep], s.baseline[keep]),
    }


# -- HTML ------------------------------------------------------------------------------------


def render_report(inputs: ReportInputs) -> str:
    """The report as one self-contained HTML page (plots embedded as base64 PNG)."""
    s = _score(inputs)
    figures = _figures(inputs, s)
    return _page(figures, _images(s, figures))


def write_report_html(inputs: ReportInputs, path: Path) -> Path:
    """Render the report and write it (UTF-8) to ``path``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(inputs), encoding="utf-8")
    return path


def _images(s: _Scored, figures: Mapping[str, Any]) -> dict[str, str]:
    """Plot name -> data URI, for the plots whose figures exist."""
    images: dict[str, str] = {}
    two_classes = figures["discrimination"]["auc"] is not None
    if two_classes:
        images["roc"] = plots.png_data_uri(
            plots.roc_figure({"LightGBM": (s.y, s.pd_)}, "ROC, test period")
        )
        d = figures["discrimination"]
        images["ks"] = plots.png_data_uri(plots.ks_figure(s.y, s.pd_, d["ks"], d["ks_at_pd"]))
    images["reliability"] = plots.png_data_uri(
        plots.reliability_figure(pd.DataFrame(figures["calibration"]["bins"]))
    )
    images["scores"] = plots.png_data_uri(plots.score_histogram_figure(s.y, s.points))
    grades = pd.DataFrame(figures["grades"]["table"]).astype(
        {"observed_rate": float, "mean_pd": float}
    )
    images["grades"] = plots.png_data_uri(plots.grade_figure(grades))
    decisions = figures["decisions"]
    if decisions["curve"]:
        images["strategy_curve"] = plots.png_data_uri(
            plots.strategy_curve_figure(pd.DataFrame(decisions["curve"]), decisions["policy"])
        )
    challenger = figures["challenger"]
    if challenger["available"] and challenger["woe"]["auc"] is not None and s.baseline is not None:
        keep = np.isfinite(s.baseline) & (s.baseline >= 0.0) & (s.baseline <= 1.0)
        images["roc_challenger"] = plots.png_data_uri(
            plots.roc_figure(
                {
                    "LightGBM": (s.y[keep], s.pd_[keep]),
                    "WoE scorecard": (s.y[keep], s.baseline[keep]),
                },
                "ROC, test period: model and WoE scorecard",
            )
        )
    if s.explanation is not None:
        images["shap_summary"] = plots.png_data_uri(plots.shap_beeswarm_figure(s.explanation))
        for name in figures["shap"]["top"]:
            images[f"shap_dependence:{name}"] = plots.png_data_uri(
                plots.shap_dependence_figure(s.explanation, name)
            )
    return images


def _text(value: Any) -> str:
    return "n/a" if value is None or value == "" else _e(value)


_DECISIONS = {
    "approve": "approve (Setujui)",
    "refer": "refer (Rujuk)",
    "decline": "decline (Tolak)",
}


def _decision(value: Any) -> str:
    return _DECISIONS.get(str(value), _text(value))


def _group_label(value: Any) -> str:
    return MISSING if str(value) in ("nan", "None", "<NA>") else str(value)


def _pairs(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="pairs"><tbody>{body}</tbody></table>'


def _img(images: Mapping[str, str], key: str, caption: str) -> str:
    if key not in images:
        return f'<p class="na">Plot not available: {_e(caption)} (n/a on these rows).</p>'
    return (
        f'<figure><img src="{images[key]}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{title}</h2>{body}</section>'


_SECTIONS = (
    ("model", "Model and data <span class='id'>Model dan data</span>"),
    ("discrimination", "Discrimination <span class='id'>Daya pembeda</span>"),
    ("calibration", "Calibration <span class='id'>Kalibrasi</span>"),
    ("scores", "Score distribution by outcome <span class='id'>Sebaran skor</span>"),
    ("grades", "Observed default rate by grade <span class='id'>Gagal bayar per grade</span>"),
    ("gains", "Gains by decile <span class='id'>Gains per desil</span>"),
    ("decisions", "Decisions and economics <span class='id'>Keputusan dan ekonomi pinjaman</span>"),
    ("psi", "Population stability (PSI) <span class='id'>Stabilitas populasi</span>"),
    ("fairness", "Fairness <span class='id'>Keadilan</span>"),
    ("shap", "SHAP explanations <span class='id'>Penjelasan SHAP</span>"),
    ("challenger", "WoE scorecard challenger <span class='id'>Pembanding scorecard WoE</span>"),
    ("reasons", "Examples of reasons <span class='id'>Contoh alasan</span>"),
    ("oracle", "Against the oracle <span class='id'>Dibanding oracle</span>"),
    ("fidelity", "Reason fidelity <span class='id'>Ketepatan alasan</span>"),
)

_CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --line: #d5dae1; --accent: #8a1c1c; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  max-width: 1050px; margin: 0 auto; padding: 24px; line-height: 1.4; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; border-bottom: 3px solid var(--accent);
  padding-bottom: 6px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.id { color: var(--muted); font-weight: normal; font-style: italic; font-size: 0.85em; }
.id::before { content: "· "; }
.sub, .note, .na, figcaption { color: var(--muted); }
.na { font-style: italic; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left;
  vertical-align: top; }
thead th { background: #eef1f5; }
td { font-variant-numeric: tabular-nums; }
table.pairs th { background: #f6f7f9; width: 16em; font-weight: 600; }
table.wide { width: 100%; }
figure { display: inline-block; margin: 6px 12px 12px 0; vertical-align: top; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: 12px; }
.flag-watch { background: #fff4d6; font-weight: 600; }
.flag-shifted, .flag-fail { background: #fbe0e0; font-weight: 600; }
.flag-pass { background: #e3f4e6; }
.signoff { border: 2px solid var(--ink); padding: 10px 14px; margin: 14px 0;
  display: grid; grid-template-columns: 1fr 1fr; gap: 18px 28px; }
.signoff div { border-bottom: 1px solid var(--ink); min-height: 44px; padding-top: 2px;
  font-size: 12px; color: var(--muted); }
.signoff .wide { grid-column: 1 / 3; min-height: 64px; }
nav.toc ol { columns: 2; font-size: 13px; }
nav.toc a { color: var(--accent); text-decoration: none; }
.applicant { border: 1px solid var(--line); padding: 6px 10px; margin: 10px 0; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, .signoff, .applicant { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-height: 9cm; }
  a { color: inherit; text-decoration: none; }
  thead th, table.pairs th, .flag-watch, .flag-shifted, .flag-fail, .flag-pass {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _page(f: Mapping[str, Any], images: Mapping[str, str]) -> str:
    h = f["header"]
    present = {
        "reasons": bool(f["reason_examples"]),
        "oracle": f["oracle"] is not None,
        "fidelity": f["fidelity"] is not None,
    }
    titles = dict(_SECTIONS)
    body = {
        "model": _model_section(h),
        "discrimination": _discrimination_section(f, images),
        "calibration": _calibration_section(f, images),
        "scores": _scores_section(f, images),
        "grades": _grades_section(f, images),
        "gains": _gains_section(f),
        "decisions": _decisions_html(f["decisions"], images),
        "psi": _psi_html(f["psi"]),
        "fairness": _fairness_html(f["fairness"]),
        "shap": _shap_html(f["shap"], images),
        "challenger": _challenger_html(f["challenger"], images),
        "reasons": _reasons_html(f["reason_examples"]),
        "oracle": _oracle_html(f["oracle"]) if f["oracle"] is not None else "",
        "fidelity": _fidelity_html(f["fidelity"]) if f["fidelity"] is not None else "",
    }
    shown = [(a, t) for a, t in _SECTIONS if present.get(a, True)]
    toc = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in shown)
    sections = "".join(_section(a, titles[a], body[a]) for a, _ in shown)
    name = h["model_name"] or "unregistered model"
    version = f" version {_e(h['model_version'])}" if h["model_version"] else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(h['title'])}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(h['title'])}</h1>"
        f'<p class="sub">Laporan validasi model &middot; {_e(name)}{version} &middot; '
        f"trained {_text(h['trained_at'])} &middot; test period rows "
        f"{_num(h['rows'].get('test'))}</p>"
        f"{_signoff()}</header>"
        f'<nav class="toc"><h2>Contents <span class="id">Daftar isi</span></h2><ol>{toc}</ol>'
        f"</nav><main>{sections}</main>"
        '<footer><p class="note">Generated by Amanah (models/report.py). All figures are on '
        "the test period unless stated; PD is the calibrated probability of default.</p>"
        "</footer></body></html>\n"
    )


def _signoff() -> str:
    return (
        '<div class="signoff" aria-label="sign-off">'
        "<div>Signed off by (name, role) <span class='id'>Disetujui oleh</span></div>"
        "<div>Date <span class='id'>Tanggal</span></div>"
        "<div>Signature <span class='id'>Tanda tangan</span></div>"
        "<div>Decision: approved / approved with conditions / rejected "
        "<span class='id'>Keputusan</span></div>"
        "<div class='wide'>Comments and conditions <span class='id'>Catatan</span></div>"
        "</div>"
    )


def _model_section(h: Mapping[str, Any]) -> str:
    periods = h["periods"]
    if "split" in periods:
        period_text = _e(periods["split"])
    else:
        period_text = "; ".join(
            f"{_e(k)} {_e(v[0])} to {_e(v[1])}"
            if isinstance(v, list) and len(v) == 2
            else f"{_e(k)} {_e(v)}"
            for k, v in periods.items()
        )
    rows = ", ".join(f"{_e(k)} {_num(v)}" for k, v in h["rows"].items())
    target = _e(h["target"])
    if h["target_definition"]:
        target += f" <span class='note'>(default: {_e(h['target_definition'])})</span>"
    params = h["best_params"] or {}
    pairs = [
        (
            "Model",
            _text(h["model_name"])
            + (f", version {_e(h['model_version'])}" if h["model_version"] else ""),
        ),
        ("Trained at", _text(h["trained_at"])),
        ("Target", target),
        ("Periods", period_text or "n/a"),
        ("Rows", rows or "n/a"),
        ("Policy version", _text(h["policy_version"])),
        (
            "Features",
            f"{_num(h['feature_count'])} ({_num(h['categorical_features'])} "
            f"categorical; from {_text(h['features_source'])})",
        ),
        ("Best iteration, seed", f"{_num(h['best_iteration'])}, {_num(h['seed'])}"),
        (
            "LightGBM parameters",
            ", ".join(f"{_e(k)}={_num(v, 4)}" for k, v in params.items()) or "n/a",
        ),
    ]
    out = _pairs(pairs)
    reference = h["reference"]
    if reference is not None:
        rows_html = [
            (
                _e(r["feature"]),
                _text(r["value"]),
                _text(r["shown"]),
                _text(_five_c(r["group"])) if r["group"] else "n/a",
                _text(r["description_en"]),
                f"<span class='id'>{_e(r['description_id'])}</span>"
                if r["description_id"]
                else "n/a",
            )
            for r in reference
        ]
        out += (
            "<h3>Reference applicant <span class='id'>Pemohon acuan</span></h3>"
            "<p class='note'>The baseline the officer's reasons are measured against "
            "(baseline Shapley in the serving path), as given for this report.</p>"
            + _table(
                ["feature", "value", "as read", "5C", "description", "deskripsi"],
                rows_html,
                "wide reference",
            )
        )
    return out


def _five_c(group: Any) -> str:
    try:
        c = FiveC(str(group))
    except ValueError:
        return str(group)
    return f"{c.label_en} / {c.label_id}"


def _discrimination_section(f: Mapping[str, Any], images: Mapping[str, str]) -> str:
    d = f["discrimination"]
    pairs = [
        ("Loans, defaults", f"{_num(d['n'])}, {_num(d['defaults'])}"),
        ("AUC", _num(d["auc"])),
        ("Gini (2 AUC - 1)", _num(d["gini"])),
        (
            "KS",
            _num(d["ks"]) + (f" at PD {_num(d['ks_at_pd'], 4)}" if d["ks"] is not None else ""),
        ),
    ]
    return (
        _pairs(pairs)
        + _img(images, "roc", "ROC curve of the model's PD on the test period")
        + _img(images, "ks", "KS: cumulative PD distributions of defaults and repaid loans")
    )


def _calibration_section(f: Mapping[str, Any], images: Mapping[str, str]) -> str:
    c = f["calibration"]
    pairs = [
        ("Brier score", _num(c["brier"], 4)),
        ("Calibration error (ECE, 10 bins)", _num(c["calibration_error"], 4)),
        (
            "Mean PD / observed default rate",
            f"{_pct(c['mean_pd'], 2)} / {_pct(c['default_rate'], 2)}",
        ),
    ]
    rows = [
        (_num(b["bin"] + 1), _num(b["n"]), _pct(b["mean_pd"], 2), _pct(b["observed_rate"], 2))
        for b in c["bins"]
    ]
    return (
        _pairs(pairs)
        + _img(images, "reliability", "Reliability: mean PD against observed rate per bin")
        + _table(["bin", "loans", "mean PD", "observed rate"], rows)
    )


def _scores_section(f: Mapping[str, Any], images: Mapping[str, str]) -> str:
    s = f["score_distribution"]
    rows = [
        (
            label,
            _num(v["n"]),
            _num(v["mean"], 1),
            _num(v["median"], 1),
            _num(v["p10"], 1),
            _num(v["p90"], 1),
        )
        for label, v in (
            ("repaid (lunas)", s["repaid"]),
            ("defaulted (gagal bayar)", s["defaulted"]),
        )
    ]
    return (
        "<p class='note'>Score in points: higher is safer (lower PD).</p>"
        + _table(["outcome", "loans", "mean", "median", "10th pct", "90th pct"], rows)
        + _img(images, "scores", "Score histogram by outcome, each as a share of its loans")
    )


def _grades_section(f: Mapping[str, Any], images: Mapping[str, str]) -> str:
    g = f["grades"]
    rows = []
    for r in g["table"]:
        decisions = g["decisions"].get(str(r["grade"]), {})
        rows.append(
            (
                _e(r["grade"]),
                f"({_pct(r['pd_low'], 2)}, {_pct(r['pd_high'], 2)}]",
                _num(r["n"]),
                _num(r["defaults"]),
                _pct(r["mean_pd"], 2),
                _pct(r["observed_rate"], 2),
                ", ".join(f"{_decision(k)} {_num(v)}" for k, v in sorted(decisions.items()) if v)
                or "none",
            )
        )
    verdict = (
        '<p class="flag-pass">The observed default rate rises monotonically from A to E.</p>'
        if g["monotone"]
        else '<p class="flag-fail">The observed default rate is NOT monotone from A to E.</p>'
    )
    return (
        verdict
        + _table(
            ["grade", "PD band", "loans", "defaults", "mean PD", "observed rate", "decisions"], rows
        )
        + _img(images, "grades", "Observed default rate and mean PD by grade")
    )


def _gains_section(f: Mapping[str, Any]) -> str:
    rows = [
        (
            _num(r["decile"]),
            f"{_pct(r['pd_min'], 2)} – {_pct(r['pd_max'], 2)}",
            _num(r["n"]),
            _num(r["defaults"]),
            _pct(r["default_rate"]),
            _pct(r["cum_share_of_loans"]),
            _pct(r["cum_capture"]),
            _num(r["lift"], 2),
            _num(r["cum_lift"], 2),
        )
        for r in f["gains"]
    ]
    return (
        "<p class='note'>Deciles of PD, riskiest first; tied PDs share a decile, so there may "
        "be fewer than ten. Capture: cumulative share of all defaults in the deciles so far; "
        "lift: the decile's default rate over the overall rate.</p>"
        + _table(
            [
                "decile",
                "PD range",
                "loans",
                "defaults",
                "default rate",
                "cum. loans",
                "cum. capture",
                "lift",
                "cum. lift",
            ],
            rows,
        )
    )


def _rupiah(value: Any) -> str:
    """Whole Rupiah, "Rp 1.250.000" in either language (DOMAIN.md); "n/a" when unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return format_rupiah(int(round_half_up(value)))


def _share(value: Any, lang: Lang = "en", decimals: int = 1) -> str:
    """A share as a percentage in the language's style ("4.1%" / "4,1%"); "n/a" when unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return format_percent(value, lang, decimals)


def _economics_rows(econ: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """The policy's `LendingEconomics` as (parameter, value, unit and meaning, field)."""
    reference = (
        f"{_rupiah(econ.get('reference_amount'))}, {_num(econ.get('reference_tenor_months'))} "
        f"months, {_share(econ.get('reference_flat_rate'), 'en', 2)} a month flat"
    )
    rows = [
        (
            "Loss given default",
            _share(econ.get("loss_given_default"), "en", 2),
            "of the principal, lost when a loan defaults (after savings set off and the "
            "tanggung renteng group's cover)",
            "loss_given_default",
        ),
        (
            "Cost of funds",
            _share(econ.get("cost_of_funds_annual"), "en", 2) + " a year",
            "the cooperative's own borrowing rate, on the principal still outstanding",
            "cost_of_funds_annual",
        ),
        (
            "Operating cost",
            _rupiah(econ.get("operating_cost_per_loan")) + " per loan",
            "appraisal, paperwork and collection visits",
            "operating_cost_per_loan",
        ),
        (
            "Administration fee",
            _share(econ.get("admin_fee_rate"), "en", 2),
            "of the principal, taken at disbursement (biaya administrasi)",
            "admin_fee_rate",
        ),
        (
            "Approve from an expected return of",
            _share(econ.get("approve_min_return"), "en", 2),
            "per Rupiah lent: the PD at which the loan earns this is its approve cut-off",
            "approve_min_return",
        ),
        (
            "Decline below an expected return of",
            _share(econ.get("decline_below_return"), "en", 2),
            "per Rupiah lent: between the two cut-offs the application is referred",
            "decline_below_return",
        ),
        (
            "Reference loan",
            reference,
            "judges a score-only request (no amount, tenor or rate)",
            "reference_amount, reference_tenor_months, reference_flat_rate",
        ),
    ]
    shown = {"reference_amount", "reference_tenor_months", "reference_flat_rate"}
    shown |= {r[3] for r in rows}
    rows += [(_e(k), _num(v, 4), "", _e(k)) for k, v in econ.items() if k not in shown]
    return rows


def _position_sentences(d: Mapping[str, Any]) -> str:
    """The policy's position in words, English and Bahasa Indonesia."""
    p = d["policy"]
    n = int(d["applications"])
    approved = int(p["approved"] or 0)
    if approved == 0:
        return (
            f"<p>The policy approves none of the {format_int(n, 'en')} applications: no "
            "default rate or return to show. <span class='id'>Kebijakan tidak menyetujui satu "
            f"pun dari {format_int(n, 'id')} pengajuan.</span></p>"
        )

    def words(lang: Lang) -> dict[str, str]:
        return {
            "rate": _share(p["approval_rate"], lang),
            "k": format_int(approved, lang),
            "n": format_int(n, lang),
            "bad": _share(p["default_rate"], lang),
            "exp": _rupiah(p["expected_return"]),
            "exp_loan": _rupiah(p["expected_return_per_loan"]),
            "exp_share": _share(p["expected_return_per_rupiah"], lang, 2),
            "real": _rupiah(p["realised_return"]),
            "real_share": _share(p["realised_return_per_rupiah"], lang, 2),
        }

    en, id_ = words("en"), words("id")
    return (
        f"<p class='position'>The policy approves {en['rate']} of applications ({en['k']} of "
        f"{en['n']}); {en['bad']} of those default; expected return {en['exp']} "
        f"({en['exp_share']} of the amount lent, {en['exp_loan']} per approved loan), "
        f"realised {en['real']} ({en['real_share']}).</p>"
        f"<p class='position'><span class='id'>Kebijakan menyetujui {id_['rate']} pengajuan "
        f"({id_['k']} dari {id_['n']}); {id_['bad']} di antaranya gagal bayar; perkiraan hasil "
        f"{id_['exp']} ({id_['exp_share']} dari jumlah yang dipinjamkan, {id_['exp_loan']} per "
        f"pinjaman yang disetujui), hasil nyata {id_['real']} ({id_['real_share']}).</span></p>"
    )


def _curve_table(curve: Sequence[Mapping[str, Any]], policy: Mapping[str, Any] | None) -> str:
    def row(r: Mapping[str, Any], first: str) -> tuple[str, ...]:
        return (
            first,
            _pct(r.get("pd_cut_off"), 2),
            _pct(r["default_rate"], 2),
            _rupiah(r["expected_return"]),
            _pct(r["expected_return_per_rupiah"], 2),
            _rupiah(r["realised_return"]),
            _pct(r["realised_return_per_rupiah"], 2),
        )

    rows = [(float(r["approval_rate"]), row(r, _pct(r["approval_rate"]))) for r in curve]
    if policy is not None and isinstance(policy.get("approval_rate"), float | int):
        label = f"<strong>policy: {_pct(policy['approval_rate'])}</strong>"
        rows.append((float(policy["approval_rate"]), row(policy, label)))
    rows.sort(key=lambda r: r[0])
    return _table(
        [
            "approval rate",
            "PD cut-off",
            "default rate among approved",
            "expected return",
            "expected per Rupiah lent",
            "realised return",
            "realised per Rupiah lent",
        ],
        [r for _, r in rows],
        "curve",
    )


_CURVE_CAPTION = (
    "Strategy curve: default rate among approved and return per Rupiah lent against the "
    "approval rate, the policy marked"
)


def _decisions_html(d: Mapping[str, Any], images: Mapping[str, str]) -> str:
    n = d["applications"]
    shares = [(_decision(k), _num(d["counts"].get(k)), _pct(d["shares"].get(k))) for k in DECISIONS]
    rules = [
        (
            f"<code>{_e(r['code'])}</code>",
            _decision(r["decision"]),
            _num(r["count"]),
            _pct(r["share"]),
            _text(r["text_en"]),
        )
        for r in d["rules"]
    ]
    top = d["top_grades"]
    economics = _economics_rows(d["economics"])
    out = (
        "<p class='note'>The policy shipped with the model (cut-offs from the cooperative's "
        "lending economics, affordability, arrears and thin-file rules) applied to the test "
        f"period's {_num(n)} applications. A decision may fire several rules; the most "
        "severe decides. A rule's text is shown as written, its {placeholders} filled per "
        "application in the decision letter.</p>"
        + _pairs(
            [
                ("Applications", _num(n)),
                (
                    "Grade A-B: share of applications / share of them approved",
                    f"{_pct(top['share'])} / {_pct(top['approved'])}",
                ),
            ]
        )
        + "<h3>Decisions <span class='id'>Keputusan</span></h3>"
        + _table(["decision", "applications", "share"], shares)
        + "<h3>Rules fired <span class='id'>Aturan yang berlaku</span></h3>"
        + (
            _table(
                ["rule", "leads to", "applications", "share", "officer text (English)"],
                rules,
                "wide",
            )
            if rules
            else "<p class='na'>No rule fired.</p>"
        )
        + "<h3>Lending economics <span class='id'>Ekonomi pinjaman</span></h3>"
        + _table(["parameter", "value", "unit and meaning", "field"], economics)
        + "<h3>Strategy curve <span class='id'>Kurva strategi</span></h3>"
    )
    if not d["terms_available"]:
        return out + (
            "<p class='na'>Not available: the test rows carry no loan terms "
            f"({', '.join(TERMS)}), so every decision was judged on the reference loan and "
            "no return can be computed.</p>"
        )
    return (
        out
        + _position_sentences(d)
        + "<p class='note'>Approving the safest share of applications by PD alone, each on "
        "its own requested terms: the default rate among those approved (observed, more than "
        "90 days past due within 12 months) and their return, expected from the PD and "
        "realised with each loan's observed outcome. The policy need not sit on the curve: it "
        "also refers and declines for arrears, affordability and thin files. The outcome is "
        "observed for 12 months only, so on loans longer than that the realised return leaves "
        "out later defaults that the expected return prices in.</p>"
        + _img(images, "strategy_curve", _CURVE_CAPTION)
        + _curve_table(d["curve"], d["policy"])
    )


def _band_cell(band: str) -> str:
    labels = {
        "stable": "stable (stabil)",
        "watch": "watch (pantau)",
        "shifted": "shifted (bergeser)",
        "n/a": "n/a",
    }
    css = {"watch": "flag-watch", "shifted": "flag-shifted"}.get(band)
    text = labels.get(band, _e(band))
    return f'<span class="{css}">{text}</span>' if css else text


def _psi_html(p: Mapping[str, Any]) -> str:
    if not p["available"]:
        return "<p class='na'>Not available: no training-period rows were given.</p>"
    score = p["score"]
    counts = p["counts"]
    rows = [
        (_e(r["feature"]), _e(r["kind"]), _num(r["psi"], 4), _band_cell(r["band"]))
        for r in p["features"]
    ]
    return (
        f"<p class='note'>Test period against the training period. Bands: below "
        f"{PSI_WATCH:.2f} stable, {PSI_WATCH:.2f}–{PSI_SHIFTED:.2f} watch, above "
        f"{PSI_SHIFTED:.2f} shifted. Numeric features in training deciles (missing values a "
        "bin of their own); categorical features by category share.</p>"
        + _pairs(
            [
                ("Score PSI", f"{_num(score['psi'], 4)} {_band_cell(score['band'])}"),
                (
                    "Features stable / watch / shifted / n/a",
                    " / ".join(_num(counts[b]) for b in ("stable", "watch", "shifted", "n/a")),
                ),
            ]
        )
        + _table(["feature", "kind", "PSI", "band"], rows)
    )


_FAIRNESS_NAMES = {
    "gender": "Gender <span class='id'>Jenis kelamin</span>",
    "cooperative_profile": "Cooperative profile <span class='id'>Profil koperasi</span>",
}

_SCREENS = {
    "unconditional": (
        "Screen: approval rates as they are, the four-fifths rule (a hard check): nothing in "
        "a cooperative's lending justifies a gap between these groups.",
        "Penyaringan: tingkat persetujuan apa adanya, aturan empat-perlima (syarat mutlak): "
        "tidak ada alasan dalam pembiayaan koperasi untuk selisih antara kelompok ini.",
    ),
    "grade_adjusted": (
        "Screen: approval rates of members of equal risk (within each grade, the four-fifths "
        "rule on approvals standardised for grade): these groups differ in true risk, so "
        "unequal approval rates alone say nothing; the unconditional ratio is context.",
        "Penyaringan: tingkat persetujuan anggota dengan risiko yang sama (dalam setiap "
        "grade, aturan empat-perlima pada persetujuan yang distandarkan menurut grade): "
        "risiko sebenarnya kelompok ini berbeda, sehingga selisih persetujuan saja belum "
        "berarti; rasio tanpa penyesuaian hanya sebagai konteks.",
    ),
}


def _verdict(passes: bool | None, label: str) -> str:
    if passes is None:
        return f"<span class='flag-fail'>{label}: n/a (cannot be judged)</span>"
    css, word = ("flag-pass", "passes") if passes else ("flag-fail", "fails")
    return f"<span class='{css}'>{label}: {word}</span>"


def _fairness_html(fair: Mapping[str, Any]) -> str:
    if not fair:
        return (
            "<p class='na'>Not available: the test frame has no gender or cooperative_profile.</p>"
        )
    out = (
        "<p class='note'>Gender and area are never model inputs; they are kept for this test "
        f"only. Ratios: lowest over highest rate among groups of at least {MIN_GROUP} loans, "
        f"pass at {FOUR_FIFTHS:.2f}. Standardised approval: a group's approvals over those it "
        "would get at the pooled approval rate of each of its members' grades (1.00: members "
        "of equal risk approved as often as everyone's). Not declined counts referrals "
        "(Rujuk) as well as approvals (Setujui). Difference: mean PD minus observed rate "
        "(positive: the model over-states the group's risk); z: the difference in standard "
        "errors of the group's defaults; a group is miscalibrated when both are beyond "
        "noise.</p>"
    )
    for column, f in fair.items():
        unconditional = f["screen"] == "unconditional"
        en, id_ = _SCREENS.get(f["screen"], (f"Screen: {_e(f['screen'])}.", ""))
        screened = (
            "Approval-rate ratio (unconditional)"
            if unconditional
            else "Equal-risk approval ratio (grade-adjusted)"
        )
        context = (
            ("Grade-adjusted ratio (context)", _num(f["grade_adjusted_ratio"]))
            if unconditional
            else ("Unconditional approval-rate ratio (context)", _num(f["approval_ratio"]))
        )
        miscalibrated = ", ".join(_e(_group_label(g)) for g in f["miscalibrated"])
        calibration = (
            f"<span class='flag-fail'>miscalibrated: {miscalibrated}</span>"
            if miscalibrated
            else "<span class='flag-pass'>no group off beyond noise</span>"
        )
        small = ", ".join(_e(_group_label(g)) for g in f["groups_too_small"])
        rows = [
            (
                _e(_group_label(r["group"])),
                _num(r["n"]),
                _num(r["defaults"]),
                _pct(r["approval_rate"]),
                _num(r["standardised_approval"], 2),
                _pct(r["top_grades_approved"]),
                _pct(r["not_declined_rate"]),
                _num(r["auc"]),
                _pct(r["mean_pd"], 2),
                _pct(r["observed_rate"], 2),
                _pct(r["difference"], 2),
                _num(r["z"], 2),
                "<span class='flag-fail'>yes</span>" if r["miscalibrated"] else "no",
            )
            for r in f["groups"]
        ]
        out += (
            f"<h3>{_FAIRNESS_NAMES.get(column, _e(column))}</h3>"
            f"<p>{en} <span class='id'>{id_}</span></p>"
            + _pairs(
                [
                    (
                        screened,
                        f"{_num(f['ratio'])} {_verdict(f['passes'], 'four-fifths screen')}",
                    ),
                    context,
                    ("Not-declined ratio", _num(f["not_declined_ratio"])),
                    (
                        "Calibration by group",
                        f"{calibration}; largest gap {_pct(f['max_calibration_gap'], 2)}",
                    ),
                    ("Groups too small for the ratios", small or "none"),
                ]
            )
            + _table(
                [
                    "group",
                    "loans",
                    "defaults",
                    "approval rate",
                    "standardised approval",
                    "grade A-B approved",
                    "not declined",
                    "AUC",
                    "mean PD",
                    "observed rate",
                    "difference",
                    "z",
                    "miscalibrated",
                ],
                rows,
                "wide",
            )
            + _grade_group_table(f["by_grade"], [r["group"] for r in f["groups"]])
        )
    return out


def _grade_group_table(by_grade: Sequence[Mapping[str, Any]], groups: Sequence[Any]) -> str:
    """Approval rate per grade (rows) and group (columns), each with its number of loans."""
    if not by_grade:
        return "<p class='na'>Approval rates by grade: not available.</p>"
    cells = {(str(r["grade"]), str(r["group"])): r for r in by_grade}
    grades = sorted({str(r["grade"]) for r in by_grade})
    rows = []
    for grade in grades:
        row = [_e(grade)]
        for g in groups:
            r = cells.get((grade, str(g)))
            n = "" if r is None else f" <span class='note'>(n {_num(r['n'])})</span>"
            row.append("–" if r is None else _pct(r["rate"]) + n)
        rows.append(row)
    return (
        "<p class='note'>Approval rate within each grade by group "
        "<span class='id'>Tingkat persetujuan per grade dan kelompok</span></p>"
        + _table(["grade", *(_e(_group_label(g)) for g in groups)], rows, "by-grade")
    )


def _shap_html(shap_figures: Mapping[str, Any], images: Mapping[str, str]) -> str:
    if not shap_figures["available"]:
        return f"<p class='na'>Not available. {_text(shap_figures['note'])}</p>"
    rows = [(_e(r["feature"]), _num(r["mean_abs_shap"], 4)) for r in shap_figures["mean_abs"][:15]]
    dependence = "".join(
        _img(images, f"shap_dependence:{name}", f"SHAP dependence of {name}")
        for name in shap_figures["top"]
    )
    return (
        f"<p class='note'>TreeSHAP (path-dependent, the shap library's default) of the "
        f"booster's log-odds, before calibration, on a seeded sample of "
        f"{_num(shap_figures['rows'])} test loans; expected log-odds "
        f"{_num(shap_figures['expected_log_odds'])}. These plots are for the analyst; the "
        "officer's reasons come from the exact attribution in the serving path. Categorical "
        "features are drawn grey in the summary.</p>"
        + _img(images, "shap_summary", "SHAP summary (beeswarm)")
        + _table(["feature", "mean |SHAP|"], rows)
        + "<h3>Dependence plots, top features</h3>"
        + dependence
    )


def _challenger_html(c: Mapping[str, Any], images: Mapping[str, str]) -> str:
    if not c["available"]:
        return f"<p class='na'>Not available: the test frame has no {WOE_COLUMN} column.</p>"
    model, woe = c["model"], c["woe"]
    rows = [
        (label, _num(model[key], digits), _num(woe[key], digits))
        for label, key, digits in (
            ("AUC", "auc", 3),
            ("Gini", "gini", 3),
            ("KS", "ks", 3),
            ("Brier", "brier", 4),
            ("Calibration error", "calibration_error", 4),
        )
    ]
    note = ""
    if c["rows_without_baseline"]:
        note = (
            f"<p class='note'>{_num(c['rows_without_baseline'])} loans without a WoE PD "
            "are left out of both columns.</p>"
        )
    return (
        f"<p class='note'>Logistic-regression scorecard on weight-of-evidence bins, on the "
        f"same {_num(c['rows'])} test loans.</p>"
        + note
        + _table(["figure", "LightGBM", "WoE scorecard"], rows)
        + _img(images, "roc_challenger", "ROC of the model and the WoE scorecard")
    )


def _reasons_html(examples: Sequence[Mapping[str, Any]]) -> str:
    directions = {
        "adverse": "adverse <span class='id'>memberatkan</span>",
        "favourable": "favourable <span class='id'>meringankan</span>",
    }
    out = []
    for i, ex in enumerate(examples, start=1):
        label = ex.get("applicant") or f"applicant {i}"
        pd_value = ex.get("pd")
        summary = (
            f"PD {_pct(pd_value, 2) if isinstance(pd_value, int | float) else 'n/a'}, "
            f"score {_num(ex.get('score'), 0)}, grade {_text(ex.get('grade'))}, "
            f"decision {_decision(ex.get('decision'))}"
        )
        rows = [
            (
                directions.get(str(r.get("direction")), _text(r.get("direction"))),
                _e(_five_c(r["group"])) if r.get("group") else "n/a",
                _text(r.get("factor")),
                _text(r.get("text_id")),
                _text(r.get("text_en")),
                _text(r.get("improve_id")),
                _num(r.get("impact_logodds"), 3),
                _num(r.get("impact_points"), 1),
            )
            for r in ex.get("reasons") or ()
        ]
        table = (
            _table(
                [
                    "direction",
                    "5C",
                    "factor",
                    "alasan",
                    "reason",
                    "cara memperbaiki",
                    "log-odds",
                    "points",
                ],
                rows,
                "wide",
            )
            if rows
            else "<p class='na'>No reasons given.</p>"
        )
        out.append(f"<div class='applicant'><h3>{_e(label)}</h3><p>{summary}</p>{table}</div>")
    return "".join(out)


def _oracle_html(o: Mapping[str, Any]) -> str:
    share, target = o.get("auc_share_of_oracle"), o.get("auc_share_target")
    meets = None
    if isinstance(share, int | float) and isinstance(target, int | float):
        meets = share >= target
    return (
        "<p class='note'>Generated data only: the generator's true PD of the test loans is "
        "the best AUC any model could reach.</p>"
        + _pairs(
            [
                ("Oracle test AUC", _num(o.get("oracle_test_auc"))),
                ("Model test AUC", _num(o.get("model_test_auc"))),
                ("AUC share of the oracle", _pct(share)),
                ("Target share", _pct(target)),
                ("Meets the target", _num(meets)),
                *_held_out_pairs(o),
            ]
        )
    )


def _held_out_pairs(o: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A city generated with another seed, every labelled loan of it: the yardstick the
    in-period figures (where features were chosen) cannot be."""
    if "held_out_auc" not in o:
        return []
    return [
        ("Held-out city: labelled loans", _num(o.get("held_out_labelled_loans"))),
        ("Held-out city: model AUC", _num(o.get("held_out_auc"))),
        ("Held-out city: oracle AUC", _num(o.get("held_out_oracle_auc"))),
        ("Held-out city: AUC share of the oracle", _pct(o.get("held_out_auc_share_of_oracle"))),
        ("Held-out city: calibration error", _num(o.get("held_out_calibration_error"))),
    ]


_FIDELITY_NAMES = {
    "top1_all": "top 1, all applicants",
    "top3_all": "top 3, all applicants",
    "top3_referred_or_declined": "top 3, referred or declined applicants",
    "chance_top3": "top 3 by chance",
}


def _fidelity_html(fidelity: Mapping[str, Any]) -> str:
    rows = [
        (_e(_FIDELITY_NAMES.get(k, k.replace("_", " "))), _e(k), _num(v))
        for k, v in fidelity.items()
    ]
    return _table(["figure", "key", "value"], rows)
