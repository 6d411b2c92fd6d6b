"""The training workflow, once, for the command line, the benchmarks, the tests and notebooks.

Two entry points, one per kind of data:

- :func:`train_and_register`: Amanah's own training table (the output of `amanah features
  build`): train with the catalog, judge the model against the generator's ground truth
  when the ledger was generated (in its test period and on a held-out city), log the run
  and register the model as the `challenger` of `amanah-pd`;
- :func:`train_on_table`: any table with a binary target (`amanah train --table`): train
  with the columns the table offers and write the model, its report, its test period and a
  training sample to a folder, from which `amanah report --model DIR` writes the validation
  report.

Nothing here reads the generator's ground truth. The comparison with it is a function the
caller passes in (`compare`: the command line and the benchmarks pass
`features.generator.oracle_comparison.compare_with_oracle`), called only after the model
is trained, so models stay blind to it (a test holds every module under `models/` to that).

Nothing here prints either: a caller that shows progress passes `step`, a context manager
factory entered around each long step with a short description of it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy.typing as npt
import pandas as pd

from features.pipeline import read_training, source_ledger
from models.held_out_city import DEMO_HELD_OUT, city_features, evaluate_on_city
from models.reasons import adverse_factors
from models.registry import log_training
from models.training import (
    AMANAH_TARGET,
    AMANAH_TIME,
    TableError,
    TrainingResult,
    catalog_spec,
    declared_features,
    table_spec,
    train_model,
    write_report,
)


class OracleComparison(Protocol):
    """How close a model came to the ground truth of a generated ledger, on the same loans
    (`features.generator.oracle_comparison.compare_with_oracle`); None when the ledger has
    no ground truth for them. `reasons`, called only when there is one, gives each loan's
    adverse reasons' risk factors and which loans were referred or declined."""

    def __call__(
        self,
        ledger_dir: Path,
        loan_ids: pd.Series,
        y: npt.ArrayLike,
        model_auc: float,
        reasons: Callable[[], tuple[Sequence[Sequence[str]], npt.ArrayLike]] | None = None,
    ) -> dict[str, float] | None: ...


Step = Callable[[str], AbstractContextManager[object]]


@contextmanager
def _quiet(_description: str) -> Iterator[None]:
    yield


class FeaturesNotFoundError(LookupError):
    """A features folder without the training table `amanah features build` writes."""


@dataclass(frozen=True)
class Trained:
    """What a training workflow produced.

    `result`: the model, its report (with ``oracle`` figures on generated data), the
    evaluated rows and the training sample. `oracle`: the figures against the generator's
    ground truth (test period, held-out city ``held_out_*``, reason fidelity
    ``reason_fidelity_*``), None for other data. `run_id`, `version`, `model_uri`: the
    MLflow run and registered version (None when not logged or not registered). `out`:
    the folder a table's model was written to. `seconds`: time per step."""

    result: TrainingResult
    oracle: dict[str, float] | None = None
    run_id: str | None = None
    version: str | None = None
    model_uri: str | None = None
    out: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def report(self) -> dict[str, Any]:
        return self.result.report


def train_and_register(
    features_dir: Path,
    *,
    seed: int = 42,
    engine: str = "local",
    family: str = "auto",
    uri: str | None = None,
    log: bool = True,
    register: bool = True,
    held_out: bool = True,
    compare: OracleComparison | None = None,
    max_rounds: int = 2000,
    step: Step = _quiet,
) -> Trained:
    """Train the PD model on Amanah's training table in `features_dir`, judge it and record it.

    With `compare` and a generated ledger behind the features, the test AUC is compared
    with the ground truth's on the same loans (and the reasons with its main drivers), and,
    with `held_out`, the model is judged on a city generated with another seed (cached
    beside the features: about 11 s the first time). With `log` the run goes to the MLflow
    store of `uri` (see `models.registry.tracking_uri`) and with `register` the model
    becomes a new `challenger` version of `amanah-pd`.

    Raises FeaturesNotFoundError for a folder without a training table and TableError when
    the table cannot train a model (too little evidence)."""
    if register and not log:
        raise ValueError("register=True needs log=True: a registered version is a logged run")
    if not (features_dir / "training").is_dir():
        raise FeaturesNotFoundError(
            f"{features_dir} has no training/ folder; run `amanah features build` first"
        )
    seconds: dict[str, float] = {}
    with step("Training the PD model"), _timed(seconds, "train"):
        result = train_model(
            read_training(features_dir), catalog_spec(), AMANAH_TARGET, AMANAH_TIME,
            seed=seed, engine=engine, family=family, max_rounds=max_rounds,
        )  # fmt: skip
    versus = None
    ledger = source_ledger(features_dir) if compare is not None else None
    if compare is not None and ledger is not None:
        with step("Comparing with the generator's ground truth"), _timed(seconds, "compare"):
            versus = _in_period(result, ledger, compare)
        if versus is not None and held_out:
            with step("Judging the model on a held-out city"), _timed(seconds, "held_out"):
                versus.update(held_out_figures(result, features_dir, compare))
    if versus is not None:
        result.report["oracle"] = versus
    logged: dict[str, Any] = {}
    if log:
        what = "Registering the model in MLflow" if register else "Logging the run to MLflow"
        with step(what), _timed(seconds, "log"):
            logged = log_training(
                result, source=str(features_dir), uri=uri, register=register,
                extra_metrics=versus,
            )  # fmt: skip
    version = logged.get("version")
    return Trained(
        result=result,
        oracle=versus,
        run_id=logged.get("run_id"),
        version=None if version is None else str(version),
        model_uri=logged.get("model_uri"),
        seconds=seconds,
    )


def _in_period(
    result: TrainingResult, ledger: Path, compare: OracleComparison
) -> dict[str, float] | None:
    """The test period against the ground truth: AUC share and reason fidelity."""
    test = result.test

    def reasons() -> tuple[list[list[str]], pd.Series]:
        scored = result.model.predict(test, lang="en")
        return adverse_factors(scored), scored["decision"].isin(["refer", "decline"])

    return compare(
        ledger, test["loan_id"], test[AMANAH_TARGET].to_numpy(), float(result.report["auc"]),
        reasons=reasons,
    )  # fmt: skip


HELD_OUT_KEYS = ("auc", "calibration_error", "labelled_loans", "oracle_auc",
                 "auc_share_of_oracle", "default_rate", "mean_pd", "approve_share",
                 "refer_share", "decline_share", "top_grades_approved_min",
                 "equal_risk_ratio_cooperative_profile", "four_fifths_gender",
                 "approved_default_rate", "approved_expected_return_per_rupiah",
                 "approved_realised_return_per_rupiah")  # fmt: skip


def held_out_figures(
    result: TrainingResult, features_dir: Path, compare: OracleComparison | None
) -> dict[str, float]:
    """Generated data: the model judged on every labelled loan of a small city generated
    with another seed (`models.held_out_city.DEMO_HELD_OUT`, cached beside the features),
    the yardstick the test period cannot be (`bench/bench_held_out.py` measures it at
    size); keys ``held_out_*``."""
    cache = features_dir.parent / (features_dir.name + "-held-out-city")
    city = city_features(DEMO_HELD_OUT, cache)
    figures = evaluate_on_city(result.model, city, compare, result.baseline)
    return {f"held_out_{k}": float(figures[k]) for k in HELD_OUT_KEYS if k in figures}


def read_catalog(path: Path, columns: Iterable[object] | None = None) -> dict[str, Any]:
    """A catalog file (JSON, `models.training.CATALOG_SHAPE`), checked against a table's
    `columns` when given; TableError naming the file and what is wrong with it (missing,
    unreadable, not JSON, not that shape)."""
    try:
        declared = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise TableError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TableError(f"{path} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise TableError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    try:
        declared_features(declared, columns if columns is not None else _declared(declared))
    except TableError as exc:
        raise TableError(f"{path}: {exc}") from None
    assert isinstance(declared, dict)
    return declared


def _declared(catalog: object) -> list[object]:
    """The names a catalog declares (every one is a column when no table is given)."""
    features = catalog.get("features") if isinstance(catalog, dict) else None
    return list(features) if isinstance(features, dict) else []


def train_on_table(
    frame: pd.DataFrame,
    target: str,
    time_column: str | None = None,
    catalog: dict[str, Any] | None = None,
    exclude: Sequence[str] = (),
    family: str = "auto",
    seed: int = 42,
    engine: str = "local",
    out: Path | None = None,
    max_rounds: int = 2000,
    step: Step = _quiet,
) -> Trained:
    """Train on any table with a binary `target` (1 = default) and, with `out`, write the
    model, `report.json`, the evaluated rows (`test_period.parquet`) and a training sample
    (`train_sample.parquet`) there: what `amanah report --model DIR` reads.

    `catalog` may declare monotone directions (`models.training.CATALOG_SHAPE`; see
    :func:`read_catalog`), `exclude` names columns that must not be features. Without a
    time column the model is cross-validated. Raises TableError naming the column or rule
    the table breaks."""
    seconds: dict[str, float] = {}
    with step("Training the model"), _timed(seconds, "train"):
        spec = table_spec(frame, target, time_column, catalog, exclude=tuple(exclude))
        result = train_model(
            frame, spec, target, time_column, seed=seed, engine=engine, family=family,
            max_rounds=max_rounds,
        )  # fmt: skip
    if out is not None:
        with step(f"Writing the model to {out}"), _timed(seconds, "write"):
            result.model.save(out)
            write_report(result.report, out / "report.json")
            result.test.to_parquet(out / "test_period.parquet", index=False)
            result.train.to_parquet(out / "train_sample.parquet", index=False)
    return Trained(result=result, out=out, seconds=seconds)


@contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = time.perf_counter() - began
