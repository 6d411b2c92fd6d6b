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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from features.catalog import catalog_records
from features.settings import get_settings
from models.artifact import AmanahModel
from models.gate import verdict
from models.metrics import auc, calibration_error, psi
from models.plots import write_plots
from models.report import ReportInputs, write_report_html
from models.training import TrainingResult, approval_ratios, evaluated_scores, write_report

MODEL_NAME = "amanah-pd"
EXPERIMENT = "amanah"
CHALLENGER, CHAMPION = "challenger", "champion"
DEFAULT_STORE = Path("mlflow")
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_entry.py")


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
        return flat_output(self.model.predict(model_input), self.model)


def flat_output(scored: pd.DataFrame, model: AmanahModel) -> pd.DataFrame:
    """`AmanahModel.predict` output as a file or a pyfunc carries it: rule and reason codes
    joined, and the registered model name and version on every row."""
    out = scored.copy()
    out["rule_codes"] = out["rule_codes"].map(lambda codes: ",".join(codes))
    if "outside_experience" in out.columns:  # "feature:kind" per feature outside
        out["outside_experience"] = out["outside_experience"].map(
            lambda row: ",".join(f"{o['feature']}:{o['kind']}" for o in row)
        )
    slots = [c for c in out.columns if c.startswith("reason_") and c.endswith("_code")]
    if slots:
        codes = out[slots].to_numpy(dtype=object).tolist()
        out.insert(
            list(out.columns).index(slots[0]),
            "reason_codes",
            [",".join(c for c in row if isinstance(c, str)) for row in codes],
        )
    who = model.identity()
    out["model_name"] = str(who["name"] or "")
    out["model_version"] = str(who["version"] or "")
    return out


def reason_examples(result: TrainingResult, n: int = 4) -> list[dict[str, Any]]:
    """A few test applicants across the PD range, with their reasons, for the report."""
    return _examples(result.model, result.test, n)


def _examples(model: AmanahModel, test: pd.DataFrame, n: int = 4) -> list[dict[str, Any]]:
    order = model.predict(test, reasons=False)["pd"].to_numpy().argsort(kind="stable")
    picks = sorted({int(order[int(q * (len(order) - 1))]) for q in np.linspace(0, 1, n)})
    records = [{str(k): v for k, v in r.items()} for r in test.iloc[picks].to_dict("records")]
    scored = model.predict_records(records)
    return [
        {
            "applicant": f"test applicant {i + 1}",
            **{k: s[k] for k in ("pd", "score", "grade", "decision")},
            "reasons": s["reasons"],
        }
        for i, s in zip(picks, scored, strict=True)
    ]


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
        model = result.model
        (folder / "catalog.json").write_text(
            json.dumps(catalog_records(model.catalog), indent=2, default=str)
        )
        (folder / "reference_applicant.json").write_text(
            json.dumps(model.reference, indent=2, ensure_ascii=False)
        )
        (folder / "model_card.json").write_text(
            json.dumps(model.card(), indent=2, default=str, ensure_ascii=False)
        )
        result.train.to_parquet(folder / "train_sample.parquet", index=False)
        write_report_html(
            ReportInputs(
                model=model,
                test=result.test,
                target=model.metadata["target"],
                train=result.train,
                model_name=MODEL_NAME if register else None,
                reference=model.reference,
                reason_examples=reason_examples(result),
                oracle=_oracle_figures(extra_metrics),
                fidelity=_fidelity_figures(extra_metrics),
                periods=report.get("periods"),
                rows=report.get("rows"),
            ),
            folder / "validation_report.html",
        )
        (folder / "policy.json").write_text(json.dumps(result.model.policy.to_dict(), indent=2))
        (folder / "search.json").write_text(json.dumps(result.trials, indent=2, default=str))
        write_plots(result, folder)
        result.test.to_parquet(folder / "test_period.parquet", index=False)
        mlflow.log_artifacts(str(folder), artifact_path="report")
        model_dir = folder / "amanah_model"
        result.model.save(model_dir)
        example = _public_input(result.test[result.model.features].head(5))
        output = flat_output(result.model.predict(example), result.model)
        # every input may be missing for a thin-file member: infer with one empty row
        schema_rows = pd.concat([example, example.iloc[:1].map(lambda _: None)], ignore_index=True)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_ENTRY),  # models from code, never a pickle
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


_FIDELITY = "reason_fidelity_"
_ORACLE_KEYS = ("oracle_test_auc", "auc_share_of_oracle", "auc_share_target")


def _oracle_figures(extra: Mapping[str, float] | None) -> dict[str, float] | None:
    shown = {k: v for k, v in (extra or {}).items() if not k.startswith(_FIDELITY)}
    return shown or None


def _fidelity_figures(extra: Mapping[str, float] | None) -> dict[str, float] | None:
    shown = {k.removeprefix(_FIDELITY): v for k, v in (extra or {}).items()
             if k.startswith(_FIDELITY)}  # fmt: skip
    return shown or None


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
    """A model from a local artifact folder or a models:/ URI (e.g. models:/amanah-pd@champion).

    From the registry, the model knows its registered name, version and alias (metadata
    ``registered_name``, ``registered_version``, ``registered_alias``), so every answer can
    say which model gave it."""
    path = Path(model)
    if (path / "model.json").is_file():
        return AmanahModel.load(path)
    if (path / "amanah_model" / "model.json").is_file():
        return AmanahModel.load(path / "amanah_model")
    if not model.startswith("models:/"):
        raise LookupError(f"{model} is neither a model folder nor a models:/ URI")
    uri = tracking_uri(uri)
    mlflow.set_tracking_uri(uri)
    name, version, alias = _resolve(MlflowClient(uri), model)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    wrapped = loaded.unwrap_python_model()
    assert isinstance(wrapped, AmanahPyfunc)
    found = wrapped.model
    found.metadata.update(
        {"registered_name": name, "registered_version": version, "registered_alias": alias}
    )
    return found


def _resolve(client: MlflowClient, model_uri: str) -> tuple[str, str, str | None]:
    """(name, version, alias) of models:/name@alias or models:/name/version."""
    rest = model_uri.removeprefix("models:/")
    try:
        if "@" in rest:
            name, alias = rest.split("@", 1)
            found = client.get_model_version_by_alias(name, alias)
            return name, str(found.version), alias
        name, _, version = rest.partition("/")
        return name, str(client.get_model_version(name, version).version), None
    except mlflow.exceptions.MlflowException as exc:
        raise LookupError(f"no registered model {model_uri}: {exc.message}") from exc


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
    new_scored = evaluated_scores(new, test)
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
        old_scored = old.predict(test, reasons=False)
        figures["champion_version"] = str(champion.version)
        figures["champion_auc"] = auc(y, old_scored["pd"])
        figures["psi_vs_champion"] = psi(
            old_scored["score"].to_numpy(), new_scored["score"].to_numpy()
        )
        checks["auc"] = figures["challenger_auc"] >= figures["champion_auc"] - gate.auc_tolerance
        checks["psi"] = figures["psi_vs_champion"] <= gate.max_psi
    # a figure nobody can compute (no defaults, no approvals in a group) is missing evidence,
    # not a failed threshold: no --force promotes a model the gate cannot judge
    judged = verdict(checks, figures, force)
    undefined, promoted = judged.undefined, judged.promoted
    if undefined:
        checks["figures_defined"] = False
    passed = judged.passed
    decision = {
        "passed": passed,
        "promoted": promoted,
        "forced": judged.forced,
        "undefined": undefined,
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
    elif undefined:
        decision["reason"] = (
            f"undefined figures ({', '.join(undefined)}): too little evidence to judge this "
            "model; it cannot be promoted, not even with --force"
        )
    return decision


# ---------------------------------------------------------------------- validation report
def write_version_report(model: str, out: Path, uri: str | None = None) -> Path:
    """The validation report of a registered version (models:/...) or of a model folder
    written by `amanah train --table`, from the test period stored with it."""
    loaded = load(model, uri)
    path = Path(model)
    extra: dict[str, float] = {}
    train: pd.DataFrame | None = None
    report: dict[str, Any] = {}
    if (path / "model.json").is_file() or (path / "amanah_model").is_dir():
        folder = path if (path / "test_period.parquet").is_file() else path.parent
        if not (folder / "test_period.parquet").is_file():
            raise LookupError(f"{model} has no stored test period (test_period.parquet)")
        test = pd.read_parquet(folder / "test_period.parquet")
        if (folder / "train_sample.parquet").is_file():
            train = pd.read_parquet(folder / "train_sample.parquet")
        if (folder / "report.json").is_file():
            report = json.loads((folder / "report.json").read_text("utf-8"))
    else:
        client = MlflowClient(tracking_uri(uri))
        name = str(loaded.metadata["registered_name"])
        version = client.get_model_version(name, str(loaded.metadata["registered_version"]))
        run_id = str(version.run_id)

        def artifact(name: str) -> str:
            return str(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name))

        test = pd.read_parquet(artifact("report/test_period.parquet"))
        try:
            train = pd.read_parquet(artifact("report/train_sample.parquet"))
        except (OSError, mlflow.exceptions.MlflowException):
            train = None
        report = json.loads(Path(artifact("report/report.json")).read_text("utf-8"))
        extra = dict(client.get_run(run_id).data.metrics)
    write_report_html(
        ReportInputs(
            model=loaded,
            test=test,
            target=str(loaded.metadata["target"]),
            train=train,
            model_name=loaded.identity()["name"],
            model_version=loaded.identity()["version"],
            reference=loaded.reference,
            reason_examples=_examples(loaded, test),
            oracle=_oracle_figures(
                {k: v for k, v in extra.items() if k.startswith(_ORACLE_KEYS)} or None
            ),
            fidelity=_fidelity_figures(extra),
            periods=report.get("periods"),
            rows=report.get("rows"),
        ),
        out,
    )
    return out
