"""The one training workflow (`models.workflow`) that the command line, the benchmarks, the
tests and notebooks call: train, compare with the generator's ground truth after training,
log and register; and the pyfunc it logs, saved from code with a declared signature."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy.typing as npt
import pandas as pd
import pandas.testing as pdt
import pytest
from mlflow import MlflowClient
from mlflow.types import DataType

from features.generator.oracle_comparison import compare_with_oracle
from models.registry import CHALLENGER, MODEL_NAME, load, log_training
from models.training import TableError
from models.workflow import (
    FeaturesNotFoundError,
    Trained,
    read_catalog,
    train_and_register,
    train_on_table,
)
from tests.test_generator import _imports_and_strings, _reads_oracle
from tests.test_models import _own_table

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 300


class RecordingComparison:
    """`compare_with_oracle`, recording what it was called with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self,
        ledger_dir: Path,
        loan_ids: pd.Series,
        y: npt.ArrayLike,
        model_auc: float,
        reasons: Callable[[], tuple[Sequence[Sequence[str]], npt.ArrayLike]] | None = None,
    ) -> dict[str, float] | None:
        self.calls.append({"ledger": ledger_dir, "loan_ids": loan_ids.tolist(), "auc": model_auc,
                           "reasons": reasons})  # fmt: skip
        return compare_with_oracle(ledger_dir, loan_ids, y, model_auc, reasons=reasons)


@pytest.fixture(scope="module")
def recorder() -> RecordingComparison:
    return RecordingComparison()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('workflow-mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def registered(medium_features: Path, store: str, recorder: RecordingComparison) -> Trained:
    """The demo's workflow on the medium ledger, without the held-out city (the demo test
    runs that), into its own store."""
    steps: list[str] = []

    @contextmanager
    def step(description: str) -> Iterator[None]:
        steps.append(description)
        yield

    trained = train_and_register(
        medium_features, uri=store, held_out=False, compare=recorder, max_rounds=ROUNDS,
        family="lightgbm", step=step,
    )  # fmt: skip
    assert steps == [
        "Training the PD model",
        "Comparing with the generator's ground truth",
        "Registering the model in MLflow",
    ]
    return trained


def test_the_workflow_trains_compares_logs_and_registers(registered: Trained, store: str) -> None:
    assert registered.version == "1" and registered.run_id
    assert set(registered.seconds) == {"train", "compare", "log"}
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHALLENGER).version) == "1"
    metrics = client.get_run(str(registered.run_id)).data.metrics
    oracle = registered.oracle
    assert oracle is not None and registered.report["oracle"] is oracle
    for key in ("oracle_test_auc", "auc_share_of_oracle", "reason_fidelity_top3_all"):
        assert metrics[key] == pytest.approx(oracle[key]), key
    assert metrics["test_auc"] == pytest.approx(registered.report["auc"])
    assert oracle["auc_share_of_oracle"] == pytest.approx(
        registered.report["auc"] / oracle["oracle_test_auc"]
    )
    # the registered model is the trained one
    rows = registered.result.test.head(20)
    back = load(f"models:/{MODEL_NAME}@{CHALLENGER}", store)
    pdt.assert_series_equal(back.predict(rows)["pd"], registered.result.model.predict(rows)["pd"])


def test_the_ground_truth_is_consulted_once_after_training_on_the_test_loans(
    registered: Trained, recorder: RecordingComparison, medium_ledger: Path
) -> None:
    (call,) = recorder.calls
    assert call["ledger"].resolve() == medium_ledger.resolve()
    assert call["loan_ids"] == registered.result.test["loan_id"].tolist()
    assert call["auc"] == pytest.approx(registered.report["auc"])
    factors, flagged = call["reasons"]()
    assert len(factors) == len(registered.result.test) == len(flagged)


def test_the_workflow_module_never_reads_the_ground_truth() -> None:
    """The comparison is passed in; `tests/test_generator.py` holds every module under
    models/ (the workflow included) to reading none of the oracle."""
    path = ROOT / "models" / "workflow.py"
    assert {n for n in _imports_and_strings(path) if _reads_oracle(n)} == set()
    assert path in set((ROOT / "models").rglob("*.py"))


def test_without_a_comparison_or_logging_nothing_else_happens(
    medium_features: Path, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'never' / 'mlflow.db'}"
    trained = train_and_register(medium_features, uri=uri, log=False, register=False,
                                 max_rounds=40, family="lightgbm")  # fmt: skip
    assert trained.oracle is None and "oracle" not in trained.report
    assert trained.run_id is None and trained.version is None
    assert set(trained.seconds) == {"train"}
    assert not (tmp_path / "never").exists()


def test_the_workflow_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(FeaturesNotFoundError, match="has no training/ folder"):
        train_and_register(tmp_path)
    with pytest.raises(ValueError, match="register=True needs log=True"):
        train_and_register(tmp_path, log=False)


def test_train_on_table_writes_what_the_report_command_reads(tmp_path: Path) -> None:
    frame = _own_table(1500, seed=8)
    catalog = tmp_path / "catalog.json"
    catalog.write_text('{"features": {"late_payments": {"monotone": 1}}}', "utf-8")
    trained = train_on_table(frame, "y", catalog=read_catalog(catalog, frame.columns),
                             out=tmp_path / "m", max_rounds=60)  # fmt: skip
    assert trained.out == tmp_path / "m"
    assert {p.name for p in (tmp_path / "m").iterdir()} >= {
        "model.json", "report.json", "test_period.parquet", "train_sample.parquet"
    }  # fmt: skip
    assert trained.result.model.metadata["monotone"]["late_payments"] == 1
    assert trained.result.model.metadata["test_metrics"]["auc"] == trained.report["auc"]
    with pytest.raises(TableError, match="no target column 'nope'"):
        train_on_table(frame, "nope")


def test_the_artifact_is_built_once_with_its_figures(registered: Trained) -> None:
    """Test metrics, periods and the evaluation travel in the artifact from the start."""
    meta = registered.result.model.metadata
    report = registered.report
    assert meta["test_metrics"] == {
        k: report[k] for k in ("auc", "brier", "calibration_error", "default_rate", "mean_pd")
    }
    assert meta["periods"] == report["periods"] and meta["evaluation"] == report["evaluation"]
    assert registered.result.model.card()["test_metrics"] == meta["test_metrics"]


# ------------------------------------------------------------------ the logged pyfunc
INTEGER_HINT = "Integer columns in Python cannot represent missing values"
PICKLE_WORDS = ("CloudPickle", "cloudpickle")


@pytest.fixture()
def mlflow_log() -> Iterator[list[logging.LogRecord]]:
    """MLflow's own log records at WARNING and above (MLflow's logger does not propagate to
    pytest's; a command line run in this process may have raised its level)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("mlflow")
    handler, level = Keep(logging.WARNING), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_pyfunc_is_logged_from_code_with_a_signature_that_needs_no_hint(
    tmp_path: Path, mlflow_log: list[logging.LogRecord]
) -> None:
    """No pickle of a Python object, and a declared schema: MLflow infers none, so it has no
    integer column to warn about (it did: `score` and the Rupiah amounts)."""
    frame = _own_table(1500, seed=9)
    result = train_on_table(frame, "y", max_rounds=60, family="lightgbm").result
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    import mlflow

    global_uri = mlflow.get_tracking_uri()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logged = log_training(result, source="test", uri=uri)
    assert mlflow.get_tracking_uri() == global_uri  # no process-wide state left behind
    assert load(f"models:/{MODEL_NAME}/1", uri).identity()["version"] == "1"
    assert mlflow.get_tracking_uri() == global_uri
    said = [str(w.message) for w in caught] + [r.getMessage() for r in mlflow_log]
    assert not [m for m in said if INTEGER_HINT in m], said
    assert not [m for m in said if any(p in m for p in PICKLE_WORDS)], said
    assert logged["version"] == "1"

    from mlflow.models import get_model_info

    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        signature = get_model_info(str(logged["model_uri"])).signature
        pyfunc = mlflow.pyfunc.load_model(str(logged["model_uri"]))
    finally:
        mlflow.set_tracking_uri(before)
    inputs = {c.name: c for c in signature.inputs.inputs}
    assert set(inputs) == set(result.model.features)
    assert all(not c.required for c in inputs.values())  # any input may be missing
    assert inputs["late_payments"].type == DataType.double  # integers arrive as floats
    assert inputs["region"].type == DataType.string
    outputs = {c.name: c for c in signature.outputs.inputs}
    assert outputs["score"].type == DataType.long and outputs["score"].required
    assert outputs["instalment"].type == DataType.double and not outputs["instalment"].required
    assert outputs["pd"].type == DataType.double
    # the pyfunc takes what a caller sends, a missing count included
    sent = frame.drop(columns=["y"]).head(3).astype({"late_payments": float})
    sent.loc[0, "late_payments"] = None
    answered = pyfunc.predict(sent)
    assert len(answered) == 3 and answered["pd"].between(0, 1).all()
