"""MLflow as the system of record: runs with params, metrics, plots, report, catalog and
policy; registered model `amanah-pd` whose new versions get the alias `challenger`; a
promotion gate that moves `champion` only when the challenger is as good on the same test
period, or when forced with a reason. MLflow 3: aliases, not stages.

The embedded store lives in `mlflow/` (SQLite + artifacts); any tracking URI by setting
AMANAH_MLFLOW_TRACKING_URI. The folder `mlflow/` is not a package and must never become one.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from features.catalog import CATALOG
from features.settings import get_settings
from models.artifact import AmanahModel
from models.metrics import auc, calibration_error, psi
from models.plots import write_plots
from models.training import TrainingResult, approval_ratios, write_report

MODEL_NAME = "amanah-pd"
EXPERIMENT = "amanah"
CHALLENGER, CHAMPION = "challenger", "champion"
DEFAULT_STORE = Path("mlflow")


def tracking_uri(uri: str | None = None, store: Path = DEFAULT_STORE) -> str:
    """The given URI, else AMANAH_MLFLOW_TRACKING_URI, else the embedded SQLite store under
    `mlflow/`."""
    uri = uri or get_settings().mlflow_tracking_uri
    if uri:
        return uri
    store.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(store / 'mlflow.db').resolve()}"


def _setup(uri: str) -> MlflowClient:
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    if client.get_experiment_by_name(EXPERIMENT) is None:
        location = None
        if uri.startswith("sqlite:///"):  # artifacts next to the SQLite file
            store = Path(uri.removeprefix("sqlite:///")).parent
            location = (store / "artifacts").resolve().as_uri()
        client.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)
    return client


class AmanahPyfunc(PythonModel):
    """The artifact as an MLflow pyfunc: load once, predict only computes."""

    def load_context(self, context: PythonModelContext) -> None:
        self.model = AmanahModel.load(Path(context.artifacts["model"]))

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: Any = None
    ) -> pd.DataFrame:
        out = self.model.predict(model_input)
        out["rule_codes"] = out["rule_codes"].map(lambda codes: ",".join(codes))
        out["model_version"] = self.model.metadata.get("registered_version", "")
        return out


def log_training(
    result: TrainingResult,
    source: str,
    uri: str | None = None,
    register: bool = True,
    extra_metrics: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Log the run and (optionally) register the model as a new `challenger` version."""
    uri = tracking_uri(uri)
    client = _setup(uri)
    report = result.report
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mlflow.log_params(
            {
                "source": source,
                "features": len(result.model.features),
                "target": result.model.metadata["target"],
                "seed": result.model.metadata["seed"],
                "best_iteration": result.model.metadata["best_iteration"],
                "policy_version": result.model.policy.version,
                **{f"lgbm_{k}": v for k, v in result.model.metadata["best_params"].items()
                   if k in ("num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2",
                            "learning_rate")},
            }
        )  # fmt: skip
        mlflow.log_metrics(_metrics(report) | (extra_metrics or {}))
        write_report(report, folder / "report.json")
        (folder / "catalog.json").write_text(
            json.dumps(
                [c.__dict__ | {"group": c.group.value} for c in CATALOG], indent=2, default=str
            )
        )
        (folder / "policy.json").write_text(json.dumps(result.model.policy.to_dict(), indent=2))
        (folder / "search.json").write_text(json.dumps(result.trials, indent=2, default=str))
        write_plots(result, folder)
        result.test.to_parquet(folder / "test_period.parquet", index=False)
        mlflow.log_artifacts(str(folder), artifact_path="report")
        model_dir = folder / "amanah_model"
        result.model.save(model_dir)
        example = _public_input(result.test[result.model.features].head(5))
        output = result.model.predict(example)
        output["rule_codes"] = output["rule_codes"].map(lambda c: ",".join(c))
        output["model_version"] = ""
        # every input may be missing for a thin-file member: infer with one empty row
        schema_rows = pd.concat([example, example.iloc[:1].map(lambda _: None)], ignore_index=True)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=AmanahPyfunc(),
            artifacts={"model": str(model_dir)},
            signature=infer_signature(schema_rows, output),
            input_example=example,
            registered_model_name=MODEL_NAME if register else None,
        )
    version = info.registered_model_version
    if register and version is not None:
        client.set_registered_model_alias(MODEL_NAME, CHALLENGER, str(version))
        client.set_model_version_tag(MODEL_NAME, str(version), "source", source)
    return {"run_id": run.info.run_id, "version": version, "model_uri": info.model_uri}


def _public_input(frame: pd.DataFrame) -> pd.DataFrame:
    """What a caller sends: text for categorical features, floats for the rest."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        else:
            out[c] = out[c].astype(float)
    return out


def _metrics(report: dict[str, Any]) -> dict[str, float]:
    keys = ("auc", "auc_woe_baseline", "brier", "calibration_error", "psi_score_train_vs_test",
            "validation_auc", "default_rate", "mean_pd")  # fmt: skip
    out = {f"test_{k}" if not k.startswith("validation") else k: float(report[k])
           for k in keys if k in report}  # fmt: skip
    out["grades_monotone"] = float(report["grades_monotone"])
    for column, fair in report.get("fairness", {}).items():
        out[f"four_fifths_ratio_{column}"] = float(fair["four_fifths"]["ratio"])
        out[f"not_declined_ratio_{column}"] = float(fair["four_fifths_not_declined"]["ratio"])
    return out


def load(model: str, uri: str | None = None) -> AmanahModel:
    """A model from a local artifact folder or a models:/ URI (e.g. models:/amanah-pd@champion)."""
    path = Path(model)
    if (path / "model.json").is_file():
        return AmanahModel.load(path)
    if (path / "amanah_model" / "model.json").is_file():
        return AmanahModel.load(path / "amanah_model")
    mlflow.set_tracking_uri(tracking_uri(uri))
    loaded = mlflow.pyfunc.load_model(model)
    wrapped = loaded.unwrap_python_model()
    assert isinstance(wrapped, AmanahPyfunc)
    return wrapped.model


# ---------------------------------------------------------------------- promotion gate
@dataclass(frozen=True)
class Gate:
    auc_tolerance: float = 0.01  # the challenger may lose at most this much AUC
    max_calibration_error: float = 0.03
    max_psi: float = 0.25  # challenger vs champion score distributions on the test period
    min_four_fifths: float = 0.8


def promote(
    uri: str | None = None,
    gate: Gate | None = None,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Score challenger and champion on the challenger's test period; promote if it passes.

    The decision and its figures are recorded as tags on the challenger version.
    """
    gate = gate or Gate()
    uri = tracking_uri(uri)
    client = _setup(uri)
    if force and not (reason and reason.strip()):
        raise ValueError("--force needs --reason: a forced promotion must say why")
    try:
        challenger = client.get_model_version_by_alias(MODEL_NAME, CHALLENGER)
    except mlflow.exceptions.MlflowException as exc:
        raise LookupError(f"no {MODEL_NAME}@{CHALLENGER}: train a model first") from exc
    try:
        champion = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    except mlflow.exceptions.MlflowException:
        champion = None
    if champion is not None and str(champion.version) == str(challenger.version):
        return {"promoted": False, "reason": f"version {challenger.version} is already champion"}
    test_path = mlflow.artifacts.download_artifacts(
        run_id=challenger.run_id, artifact_path="report/test_period.parquet"
    )
    test = pd.read_parquet(test_path)
    new = load(f"models:/{MODEL_NAME}/{challenger.version}", uri)
    target = new.metadata["target"]
    y = test[target].to_numpy().astype(int)
    new_scored = new.predict(test)
    figures: dict[str, Any] = {
        "challenger_version": str(challenger.version),
        "challenger_auc": auc(y, new_scored["pd"]),
        "challenger_calibration_error": calibration_error(y, new_scored["pd"].to_numpy()),
    }
    checks: dict[str, bool] = {
        "calibration": figures["challenger_calibration_error"] <= gate.max_calibration_error
    }
    for column, fair in approval_ratios(new_scored["decision"], test).items():
        ratio = fair["four_fifths"]["ratio"]
        figures[f"four_fifths_{column}"] = ratio
        figures[f"not_declined_ratio_{column}"] = fair["four_fifths_not_declined"]["ratio"]
        checks[f"four_fifths_{column}"] = bool(ratio >= gate.min_four_fifths)
    if champion is not None:
        old = load(f"models:/{MODEL_NAME}/{champion.version}", uri)
        old_scored = old.predict(test)
        figures["champion_version"] = str(champion.version)
        figures["champion_auc"] = auc(y, old_scored["pd"])
        figures["psi_vs_champion"] = psi(
            old_scored["score"].to_numpy(), new_scored["score"].to_numpy()
        )
        checks["auc"] = figures["challenger_auc"] >= figures["champion_auc"] - gate.auc_tolerance
        checks["psi"] = figures["psi_vs_champion"] <= gate.max_psi
    passed = all(checks.values())
    promoted = passed or force
    decision = {
        "passed": passed,
        "promoted": promoted,
        "forced": bool(force and not passed),
        "reason": reason or "",
        "checks": checks,
        "figures": figures,
        "gate": gate.__dict__,
    }
    version = str(challenger.version)
    client.set_model_version_tag(MODEL_NAME, version, "gate", json.dumps(decision, default=str))
    client.set_model_version_tag(MODEL_NAME, version, "gate_passed", str(passed).lower())
    if force:
        client.set_model_version_tag(MODEL_NAME, version, "forced_reason", reason or "")
    if promoted:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION, version)
    return decision
