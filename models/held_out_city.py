"""A held-out city: the model judged on every labelled loan of a city it never saw.

The test period of the training city is also where features and the search space were
chosen, so its figures flatter the model. A city generated with another seed shares only
the generator's rules with the training city: its cooperatives, members and shocks are new.

Nothing here reads the generator's ground truth. Figures against it come from a
`compare` function the caller passes in (the command line and benchmarks pass
`features.generator.oracle_comparison.compare_with_oracle`), so models stay blind to it.

Generated ledgers and their features are cached in a work folder, named by the city's
configuration and a fingerprint of the code that made them: a rerun reuses them, and a
changed generator or feature code makes new ones (the stale copies are removed).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

import features
from features.generator import economy, ids, places, run, simulate
from features.generator.run import DEMO_CONFIG, GeneratorConfig, generate_ledger
from features.ledger import store
from features.ledger.store import Ledger
from features.pipeline import build_features, read_training, source_ledger
from models.artifact import AmanahModel
from models.decision_figures import decision_summary
from models.metrics import auc, brier, calibration_error
from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model
from models.woe import WoEScorecard

# (ledger_dir, loan_ids, y, model_auc) -> {"oracle_test_auc", "auc_share_of_oracle", ...},
# or None when the ledger has no ground truth for these loans
Compare = Callable[[Path, pd.Series, npt.ArrayLike, float], dict[str, float] | None]

# The demo's held-out city: the demo's 34 cooperatives (so the same profile mix: a city of
# the first N cooperatives is mostly coastal, 5 of 6 for N = 6) with 200 members each and
# another seed than the demo's (42). About 3,800 labelled loans and 300 defaults; generated
# and built once per work folder in about 11 s, then scored in under a second.
DEMO_HELD_OUT = replace(DEMO_CONFIG, members_per_coop=200, seed=4242)

# The sizes: a demo-sized training city and an independent smaller test city.
TRAIN_SIZE = (34, 1_500)
TEST_SIZE = (12, 600)

_GENERATOR_CODE = (economy, ids, places, run, simulate)


def _fingerprint(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _module_file(module: ModuleType) -> Path:
    assert module.__file__ is not None
    return Path(module.__file__)


def generator_fingerprint() -> str:
    """Hash of the generator's code as loaded by this process: a changed generator makes a
    different city (a file edited after import does not run here, so it does not count)."""
    return _GENERATOR_FINGERPRINT


def features_fingerprint() -> str:
    """Hash of the feature code (catalog, profile builder, pipeline, labels, ...), as loaded."""
    return _FEATURES_FINGERPRINT


# the generator writes through the ledger package (contracts, rates, store): its code counts
_GENERATOR_FINGERPRINT = _fingerprint(
    [*(_module_file(m) for m in _GENERATOR_CODE), *_module_file(store).parent.glob("*.py")]
)
_FEATURES_FINGERPRINT = _fingerprint(_module_file(features).parent.glob("*.py"))


def city_name(config: GeneratorConfig) -> str:
    """Folder name of a generated city: its configuration and the generator's code."""
    c = config
    return (
        f"{c.cooperatives}x{c.members_per_coop}x{c.months}-{c.start}-seed{c.seed}"
        f"-g{generator_fingerprint()}"
    )


def _remove_others(workdir: Path, prefix: str, keep: Path) -> None:
    """Remove folders named `prefix`... other than `keep` and what lies under its name: the
    same city made by other code versions, so the cache does not grow with every change."""
    for other in workdir.glob(f"{prefix}*"):
        if other.is_dir() and not other.name.startswith(keep.name):
            shutil.rmtree(other, ignore_errors=True)


def city_ledger(config: GeneratorConfig, workdir: Path, today: date | None = None) -> Path:
    """The generated ledger of `config` in `workdir`, generated only when not cached."""
    out = (workdir / city_name(config)).resolve()
    if not (out / "ledger.json").is_file():
        generate_ledger(out, config, today=today)
        _remove_others(out.parent, out.name.rsplit("-g", 1)[0] + "-g", out)
    return out


def city_features(
    config: GeneratorConfig, workdir: Path, today: date | None = None, workers: int = 2
) -> Path:
    """Features (training table and profiles) of the city, built as `amanah features build`
    builds them, only when not cached. With `workers` > 1 the build starts worker
    processes: a script calling this must do so under ``if __name__ == "__main__":``."""
    ledger = city_ledger(config, workdir, today)
    out = ledger.with_name(f"{ledger.name}-f{features_fingerprint()}")
    if not _built(out, ledger):
        build_features(ledger, out, Ledger(ledger).as_of, workers=workers)
        _remove_others(ledger.parent, f"{ledger.name}-f", out)
    return out


def _built(out: Path, ledger: Path) -> bool:
    recorded = source_ledger(out)
    if recorded is None or recorded.resolve() != ledger.resolve():
        return False
    done = {p.stem for p in (out / "training").glob("*.parquet")}
    return done >= set(Ledger(ledger).cooperative_ids())


def labelled_loans(features_dir: Path) -> pd.DataFrame:
    """Every loan of the city whose 12-month outcome window has closed, target as 0/1."""
    frame = read_training(features_dir)
    labelled = frame[frame[AMANAH_TARGET].notna()].reset_index(drop=True)
    labelled[AMANAH_TARGET] = labelled[AMANAH_TARGET].astype(int)
    return labelled


def figures(y: npt.ArrayLike, pd_: npt.ArrayLike) -> dict[str, float]:
    """Discrimination and calibration of a PD on the given outcomes."""
    t, p = np.asarray(y, dtype=np.float64), np.asarray(pd_, dtype=np.float64)
    return {
        "auc": auc(t, p),
        "brier": brier(t, p),
        "calibration_error": calibration_error(t, p),
        "default_rate": float(t.mean()),
        "mean_pd": float(p.mean()),
    }


# Applicants with under this many months of ledger history are thin files: the ledger has
# not yet shown how they pay, and a held-out city's early months are full of them.
THIN_FILE_MONTHS = 6


def _versus(
    compare: Compare | None, ledger: Path | None, loans: pd.DataFrame, y: np.ndarray, auc_: float
) -> dict[str, float]:
    """The ground truth's AUC on these loans and the model's share of it (empty without)."""
    versus = None if compare is None or ledger is None else compare(
        ledger, loans["loan_id"], y, auc_
    )  # fmt: skip
    if versus is None:
        return {}
    return {
        "oracle_auc": versus["oracle_test_auc"],
        "auc_share_of_oracle": versus["auc_share_of_oracle"],
        "auc_share_target": versus["auc_share_target"],
    }


def _segment(
    loans: pd.DataFrame, y: np.ndarray, pd_: np.ndarray, mask: np.ndarray,
    compare: Compare | None, ledger: Path | None,
) -> dict[str, Any]:  # fmt: skip
    """Figures of the loans in `mask`; only counts when they hold a single class."""
    out: dict[str, Any] = {"labelled_loans": int(mask.sum()), "defaults": int(y[mask].sum())}
    if 0 < out["defaults"] < out["labelled_loans"]:
        out.update(figures(y[mask], pd_[mask]))
        rows = loans[mask].reset_index(drop=True)
        out.update(_versus(compare, ledger, rows, y[mask], out["auc"]))
    return out


def evaluate_on_city(
    model: AmanahModel,
    features_dir: Path,
    compare: Compare | None = None,
    baseline: WoEScorecard | None = None,
) -> dict[str, Any]:
    """Score every labelled loan of another city and say how well the model did there.

    `features_dir` is the output of `amanah features build` for that city (for example
    :func:`city_features`). With `compare` (``compare_with_oracle``) and a generated city,
    the ground truth's AUC on the same loans and the model's share of it are added; with
    `baseline` (the WoE scorecard trained beside the model) its AUC and the model's ratio
    to it on the same loans. ``by_history`` splits the figures into thin files and the
    rest: a city's whole history holds far more thin files than a late test period, and no
    model can rank those as the ground truth does."""
    began = time.perf_counter()
    loans = labelled_loans(features_dir)
    y = loans[AMANAH_TARGET].to_numpy()
    scored = model.predict(loans, reasons=False)
    pd_ = scored["pd"].to_numpy()
    out: dict[str, Any] = {
        **figures(y, pd_),
        # the policy on a city it was not set on: the honest yardstick of its figures too
        **decision_summary(scored, loans, y, model.policy),
        "labelled_loans": len(loans),
        "defaults": int(y.sum()),
        "cooperatives": int(loans["cooperative_id"].nunique()),
        "members": int(loans["member_id"].nunique()),
    }
    if baseline is not None:
        out["auc_woe_baseline"] = auc(y, baseline.predict_proba(loans[baseline.features_]))
        out["auc_over_woe_baseline"] = out["auc"] / out["auc_woe_baseline"]
    ledger = source_ledger(features_dir)
    out.update(_versus(compare, ledger, loans, y, out["auc"]))
    thin = loans["months_of_history"].to_numpy(dtype=float) < THIN_FILE_MONTHS
    out["by_history"] = {
        f"under_{THIN_FILE_MONTHS}_months": _segment(loans, y, pd_, thin, compare, ledger),
        f"{THIN_FILE_MONTHS}_months_or_more": _segment(loans, y, pd_, ~thin, compare, ledger),
    }
    out["seconds"] = time.perf_counter() - began
    return out


def in_period(
    report: dict[str, Any], test: pd.DataFrame, ledger: Path, compare: Compare | None
) -> dict[str, Any]:
    """The training city's test-period figures, in the same keys as the held-out ones."""
    keys = ("auc", "brier", "calibration_error", "default_rate", "mean_pd")
    out: dict[str, Any] = {k: report[k] for k in keys}
    out["auc_woe_baseline"] = report["auc_woe_baseline"]
    out["auc_over_woe_baseline"] = report["auc"] / report["auc_woe_baseline"]
    out["labelled_loans"] = len(test)
    out["defaults"] = int(test[AMANAH_TARGET].sum())
    out["share_thin_files"] = float(
        np.mean(test["months_of_history"].to_numpy(dtype=float) < THIN_FILE_MONTHS)
    )
    y = test[AMANAH_TARGET].to_numpy()
    out.update(_versus(compare, ledger, test, y, report["auc"]))
    return out


def held_out_city(
    train_seed: int,
    test_seed: int,
    workdir: Path,
    train_size: tuple[int, int] = TRAIN_SIZE,
    test_size: tuple[int, int] = TEST_SIZE,
    compare: Compare | None = None,
    model_seed: int = 42,
    max_rounds: int = 2000,
    today: date | None = None,
    workers: int = 2,
) -> dict[str, Any]:
    """Train on a city generated with `train_seed` as the demo trains, then judge the model
    in its own test period and on every labelled loan of a city generated with `test_seed`.

    Sizes are (cooperatives, members per cooperative); months and start are the demo's.
    Returns ``in_period`` and ``held_out`` figures (same keys), timings and the model's
    chosen rounds and parameters."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    train_config = replace(
        DEMO_CONFIG, cooperatives=train_size[0], members_per_coop=train_size[1], seed=train_seed
    )
    test_config = replace(
        DEMO_CONFIG, cooperatives=test_size[0], members_per_coop=test_size[1], seed=test_seed
    )
    train_features = city_features(train_config, workdir, today, workers)
    test_features = city_features(test_config, workdir, today, workers)
    timings["cities_s"] = time.perf_counter() - began
    began = time.perf_counter()
    result = train_model(
        read_training(train_features), catalog_spec(), AMANAH_TARGET, AMANAH_TIME,
        seed=model_seed, max_rounds=max_rounds,
    )  # fmt: skip
    timings["train_s"] = time.perf_counter() - began
    ledger = source_ledger(train_features)
    assert ledger is not None, "features built here record their ledger"
    held_out = evaluate_on_city(result.model, test_features, compare, result.baseline)
    timings["evaluate_s"] = held_out.pop("seconds")
    return {
        "train_seed": train_seed,
        "test_seed": test_seed,
        "train_size": list(train_size),
        "test_size": list(test_size),
        "in_period": in_period(result.report, result.test, ledger, compare),
        "held_out": held_out,
        "family": result.report.get("family_selection", {}).get("chosen", "lightgbm"),
        "best_iteration": result.model.metadata["best_iteration"],
        "best_params": {
            k: v
            for k, v in result.model.metadata["best_params"].items()
            if k in ("num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2")
        },
        "timings": timings,
    }
