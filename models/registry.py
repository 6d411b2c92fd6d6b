"""MLflow as the system of record: runs with params, metrics, plots, report, catalog and
policy; registered model `amanah-pd` whose new versions get the alias `challenger`; a
promotion gate that moves `champion` only when the challenger is as good on the same test
period, or when forced with a reason. MLflow 3: aliases, not stages.

Where the store is, the same from any folder (:func:`tracking_uri`):

1. the URI a caller passes (``uri=``);
2. else ``AMANAH_MLFLOW_TRACKING_URI`` (any MLflow tracking URI: ``sqlite:///...``, a
   server's ``http://...``);
3. else the embedded store ``mlflow/mlflow.db`` (artifacts in ``mlflow/artifacts/``) of the
   Amanah project: the folder holding the ``pyproject.toml`` of the project named
   ``amanah``, looked for upwards from this package's own files (the install is editable)
   and, failing that, upwards from the current folder; with no such project anywhere, the
   ``mlflow/`` folder of the current folder.

Only training creates a store. Reading (loading a model, its report) never does: a store
that is not there is a :class:`StoreNotFoundError` naming where it was looked for.

Library code here keeps no process-wide MLflow state of its own: clients get the URI
explicitly, and where MLflow's fluent API needs its global tracking URI (starting a run,
logging a pyfunc) it is set for that block only and restored afterwards. Loading a
version (`load`, `download_version`) reads none of it: a serving process may load while
another thread logs.
The folder `mlflow/` is not a package and must never become one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.pyfunc.model import PythonModel, PythonModelContext
from mlflow.types import ColSpec, DataType, Schema

from features.catalog import catalog_records
from features.settings import get_settings, project_root
from models.artifact import AmanahModel
from models.gate import Gate, gate_figures, judge
from models.plots import write_plots
from models.report import ReportInputs, write_report_html
from models.training import TrainingResult, evaluated_scores, write_report

MODEL_NAME = "amanah-pd"
EXPERIMENT = "amanah"
CHALLENGER, CHAMPION = "challenger", "champion"
STORE_FOLDER = "mlflow"
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_entry.py")
CREATE_STORE = "run `amanah demo` or `amanah train --features DIR` to create one"


class StoreNotFoundError(LookupError):
    """A command that only reads a model found no MLflow store where it looked."""


def default_store() -> Path:
    """The embedded store's folder: `mlflow/` of the Amanah project (see the module's
    docstring), or of the current folder outside any project."""
    root = project_root()
    return (root if root is not None else Path.cwd().resolve()) / STORE_FOLDER


def tracking_uri(uri: str | None = None) -> str:
    """The given URI, else AMANAH_MLFLOW_TRACKING_URI, else the embedded SQLite store of
    :func:`default_store`. Creates nothing."""
    uri = uri or get_settings().mlflow_tracking_uri
    if uri:
        return uri
    return f"sqlite:///{default_store() / 'mlflow.db'}"


def store_location(uri: str | None = None) -> str:
    """Where :func:`tracking_uri` points, as a person reads it: the folder of a local store
    (SQLite file and artifacts), else the URI."""
    found = tracking_uri(uri)
    path = _local_store_path(found)
    if path is None:
        return found
    return str(path.parent if found.startswith("sqlite:") else path)


def _local_store_path(uri: str) -> Path | None:
    """The file (SQLite) or folder (file store) a local tracking URI names; None for a
    server or a database elsewhere, which only MLflow can reach."""
    if uri.startswith("sqlite:///"):
        return Path(unquote(uri.removeprefix("sqlite:///").split("?", 1)[0]))
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":  # a plain path: MLflow's file store
        return Path(uri)
    return None


def existing_store(uri: str | None = None) -> str:
    """:func:`tracking_uri`, checked to exist without creating it (for commands that only
    read); raises StoreNotFoundError naming where it looked and what to run."""
    found = tracking_uri(uri)
    path = _local_store_path(found)
    if path is not None and not path.exists():
        if uri:
            why = "the URI given"
        elif get_settings().mlflow_tracking_uri:
            why = "AMANAH_MLFLOW_TRACKING_URI"
        else:
            why = "the project's mlflow/ folder; AMANAH_MLFLOW_TRACKING_URI is not set"
        raise StoreNotFoundError(f"no MLflow store at {path} ({why}); {CREATE_STORE}")
    return found


def _created_store(uri: str) -> str:
    """`uri`, with the folder of a local store made (training writes a store)."""
    path = _local_store_path(uri)
    if path is not None:
        (path.parent if uri.startswith("sqlite:") else path).mkdir(parents=True, exist_ok=True)
    return uri


@contextmanager
def _fluent_tracking(uri: str) -> Iterator[None]:
    """MLflow's fluent API (start_run, log_*, pyfunc.log_model / load_model of a models:/
    URI) reads a process-wide tracking URI: set it for this block only (MLflow also
    exports it as MLFLOW_TRACKING_URI, restored too)."""
    before, exported = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(before)
        if exported is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = exported


def _experiment_id(client: MlflowClient, uri: str) -> str:
    """The Amanah experiment's id, created on first use with its artifacts beside a
    SQLite store's file (not in the current folder)."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if uri.startswith("sqlite:///"):
        store = _local_store_path(uri)
        assert store is not None
        location = (store.parent / "artifacts").resolve().as_uri()
    return str(client.create_experiment(EXPERIMENT, artifact_location=location))


def _setup(uri: str) -> MlflowClient:
    """A client of `uri` with the Amanah experiment; also MLflow's process-wide tracking URI
    and experiment, which `promote` still relies on for its artifact downloads."""
    client = MlflowClient(uri)
    _experiment_id(client, uri)
    mlflow.set_tracking_uri(uri)
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
    """Log the run and (optionally) register the model as a new `challenger` version.

    Returns ``run_id``, ``version`` (None unless registered) and ``model_uri``."""
    uri = _created_store(tracking_uri(uri))
    client = MlflowClient(uri)
    experiment = _experiment_id(client, uri)
    report = result.report
    model = result.model
    with (
        _fluent_tracking(uri),
        mlflow.start_run(experiment_id=experiment) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        mlflow.log_params(
            {
                "source": source,
                "features": len(model.features),
                "target": model.metadata["target"],
                "seed": model.metadata["seed"],
                "best_iteration": model.metadata["best_iteration"],
                "policy_version": model.policy.version,
                **{f"lgbm_{k}": v for k, v in model.metadata["best_params"].items()
                   if k in ("num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2",
                            "learning_rate")},
            }
        )  # fmt: skip
        mlflow.log_metrics(_metrics(report) | (extra_metrics or {}))
        write_report(report, folder / "report.json")
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
        (folder / "policy.json").write_text(json.dumps(model.policy.to_dict(), indent=2))
        (folder / "search.json").write_text(json.dumps(result.trials, indent=2, default=str))
        write_plots(result, folder)
        result.test.to_parquet(folder / "test_period.parquet", index=False)
        mlflow.log_artifacts(str(folder), artifact_path="report")
        model_dir = folder / "amanah_model"
        model.save(model_dir)
        example = _public_input(result.test[model.features].head(5), model.categories)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_ENTRY),  # models from code, never a pickle
            artifacts={"model": str(model_dir)},
            signature=pyfunc_signature(model, example),
            input_example=example,
        )
        # registered by the client (MLflow's fluent helper prints to stderr); inside the
        # block: the registry resolves the logged model through the tracking URI
        version = _register(client, info, run.info.run_id, source) if register else None
    return {"run_id": run.info.run_id, "version": version, "model_uri": info.model_uri}


def _register(client: MlflowClient, info: ModelInfo, run_id: str, source: str) -> str:
    """A new version of `amanah-pd` for the logged model, with the alias `challenger`."""
    try:
        client.get_registered_model(MODEL_NAME)
    except MlflowException:
        client.create_registered_model(MODEL_NAME)
    created = client.create_model_version(
        MODEL_NAME, source=info.model_uri, run_id=run_id, model_id=info.model_id
    )
    version = str(created.version)
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    client.set_model_version_tag(MODEL_NAME, version, "source", source)
    return version


def pyfunc_signature(model: AmanahModel, example: pd.DataFrame) -> ModelSignature:
    """The pyfunc's schema, declared rather than inferred from a few rows.

    Inputs: every feature optional (a thin-file member may lack any), text for categorical
    features and double for the rest, integers included: a whole number that may be
    missing arrives as a float. Outputs: what `flat_output` answers on `example`, Rupiah
    amounts that may be missing (no instalment without loan terms) as optional doubles."""
    inputs = Schema(
        [
            ColSpec(DataType.string if c in model.categories else DataType.double, c, False)
            for c in model.features
        ]
    )
    answered = flat_output(model.predict(example), model)
    outputs = Schema([_output_column(c, answered[c]) for c in answered.columns])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _output_column(name: str, values: pd.Series) -> ColSpec:
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ColSpec(DataType.boolean, name, bool(values.notna().all()))
    if pd.api.types.is_integer_dtype(dtype) and isinstance(dtype, np.dtype):
        return ColSpec(DataType.long, name)  # a NumPy integer column has no missing values
    if pd.api.types.is_numeric_dtype(dtype):  # floats, and nullable integers (Int64)
        return ColSpec(DataType.double, name, False)
    return ColSpec(DataType.string, name, False)


_FIDELITY = "reason_fidelity_"
_ORACLE_KEYS = ("oracle_test_auc", "auc_share_of_oracle", "auc_share_target")


def _oracle_figures(extra: Mapping[str, float] | None) -> dict[str, float] | None:
    shown = {k: v for k, v in (extra or {}).items() if not k.startswith(_FIDELITY)}
    return shown or None


def _fidelity_figures(extra: Mapping[str, float] | None) -> dict[str, float] | None:
    shown = {k.removeprefix(_FIDELITY): v for k, v in (extra or {}).items()
             if k.startswith(_FIDELITY)}  # fmt: skip
    return shown or None


def _public_input(frame: pd.DataFrame, categorical: Collection[str] = ()) -> pd.DataFrame:
    """What a caller sends: text for categorical features (`categorical`, or any column of
    category dtype), floats for the rest."""
    out = frame.copy()
    for c in out.columns:
        if c in categorical or isinstance(out[c].dtype, pd.CategoricalDtype):
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
    say which model gave it. The version's files are downloaded to a temporary folder by a
    client of `uri`: no process-wide MLflow state is read or changed. Raises LookupError
    naming what is missing: the folder, the store (StoreNotFoundError), the registered
    model, its alias or its version."""
    path = Path(model)
    local = artifact_folder(path)
    if local is not None:
        return AmanahModel.load(local)
    if not model.startswith("models:/"):
        raise LookupError(f"{model} is neither a model folder nor a models:/ URI")
    uri = existing_store(uri)
    name, version, alias = _resolve(_client(uri), model)
    with tempfile.TemporaryDirectory(prefix="amanah-model-") as tmp:
        found = AmanahModel.load(download_version(name, version, uri, Path(tmp)))
    found.metadata.update(registered_fields(name, version, alias))
    return found


def registered_fields(name: str, version: str, alias: str | None) -> dict[str, str | None]:
    """The metadata by which a loaded model names its registered version."""
    return {"registered_name": name, "registered_version": version, "registered_alias": alias}


def resolve_version(model_uri: str, uri: str | None = None) -> tuple[str, str, str | None]:
    """(name, version, alias) a models:/ URI names in the store of `uri` now: what a
    serving process asks before deciding whether to download anything."""
    found = existing_store(uri)
    return _resolve(_client(found), model_uri)


def _client(uri: str) -> MlflowClient:
    """A client of `uri` for both tracking and registry, so no process-wide registry URI
    (``mlflow.set_registry_uri``, MLFLOW_REGISTRY_URI) decides where it reads."""
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def artifact_folder(path: Path) -> Path | None:
    """The Amanah artifact inside `path`: the folder itself, its `amanah_model/` (a model
    written by `amanah train --table`), or the artifact of a downloaded pyfunc
    (``artifacts/<name>/``); None when `path` holds none of these."""
    for candidate in (path, path / "amanah_model", *sorted((path / "artifacts").glob("*"))):
        if (candidate / "model.json").is_file():
            return candidate
    return None


def download_version(name: str, version: str, uri: str, dst: Path) -> Path:
    """Download the pyfunc folder of `name` version `version` from the store of `uri` into
    `dst` and return the Amanah artifact folder inside it. LookupError when the version's
    files cannot be fetched or hold no Amanah artifact."""
    client = _client(uri)
    try:
        location = client.get_model_version_download_uri(name, version)
        if location.startswith("models:/"):  # a logged model: its own artifact location
            model_id = client.get_model_version(name, version).model_id
            if model_id:
                location = client.get_logged_model(model_id).artifact_location
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=location, dst_path=str(dst), tracking_uri=uri, registry_uri=uri
        )
    except (MlflowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LookupError(f"{name} version {version} cannot be loaded: {first}") from exc
    found = artifact_folder(Path(local))
    if found is None:
        raise LookupError(f"{name} version {version} holds no Amanah model artifact")
    return found


def signature_inputs(artifact: Path) -> list[tuple[str, str]] | None:
    """(name, type) of each input the logged pyfunc's signature declares, read from the
    `MLmodel` file of the pyfunc folder holding `artifact` (``<pyfunc>/artifacts/<name>``);
    None when there is no such file or it declares no input schema."""
    mlmodel = artifact.parent.parent / "MLmodel"
    if artifact.parent.name != "artifacts" or not mlmodel.is_file():
        return None
    from mlflow.models import Model

    signature = Model.load(str(mlmodel)).signature
    if signature is None or signature.inputs is None:
        return None
    return [(str(c.name), getattr(c.type, "name", str(c.type))) for c in signature.inputs.inputs]


def _resolve(client: MlflowClient, model_uri: str) -> tuple[str, str, str | None]:
    """(name, version, alias) of models:/name@alias or models:/name/version; LookupError
    saying what the store holds when it has no such model, alias or version."""
    rest = model_uri.removeprefix("models:/")
    if "@" in rest:
        name, alias = rest.split("@", 1)
        version = None
    else:
        name, _, version = rest.partition("/")
        alias = None
    if not name or (alias is None and not version) or alias == "":
        raise LookupError(
            f"{model_uri} is not a model URI: write models:/NAME@ALIAS or models:/NAME/VERSION"
        )
    try:
        registered = client.get_registered_model(name)
    except MlflowException:
        names = sorted(m.name for m in client.search_registered_models())
        held = f"it holds {', '.join(names)}" if names else "it holds no registered model"
        raise LookupError(
            f"no registered model named {name!r} in the MLflow store ({held})"
        ) from None
    if alias is not None:
        aliases = dict(registered.aliases)
        if alias not in aliases:
            known = ", ".join(sorted(aliases)) or "none"
            raise LookupError(f"{name} has no version with alias {alias!r} (aliases: {known})")
        return name, str(aliases[alias]), alias
    try:
        return name, str(client.get_model_version(name, str(version)).version), None
    except MlflowException:
        versions = sorted(
            (int(v.version) for v in client.search_model_versions(f"name = '{name}'")),
        )
        known = ", ".join(map(str, versions)) or "none"
        raise LookupError(f"{name} has no version {version!r} (versions: {known})") from None


# ---------------------------------------------------------------------- promotion gate
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
    old_scored = None
    if champion is not None:
        old = load(f"models:/{MODEL_NAME}/{champion.version}", uri)
        old_scored = old.predict(test, reasons=False)
    figures: dict[str, Any] = {
        "challenger_version": str(challenger.version),
        **({"champion_version": str(champion.version)} if champion is not None else {}),
        **gate_figures(new_scored, test, y, old_scored),
    }
    # a figure nobody can compute (no defaults, no approvals in a group) is missing evidence,
    # not a failed threshold: no --force promotes a model the gate cannot judge
    judged = judge(figures, gate, force)
    checks, undefined, promoted, passed = (
        dict(judged.checks),
        judged.undefined,
        judged.promoted,
        judged.passed,
    )
    if undefined:
        checks["figures_defined"] = False
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
def version_run(loaded: AmanahModel, uri: str | None = None) -> str:
    """The run that logged a model loaded from the registry (its report, test period and
    training sample live there)."""
    client = MlflowClient(existing_store(uri))
    name = str(loaded.metadata["registered_name"])
    return str(client.get_model_version(name, str(loaded.metadata["registered_version"])).run_id)


def run_artifact(run_id: str, path: str, uri: str | None = None) -> Path:
    """One artifact of a run, downloaded (or found in place on a local store)."""
    found = existing_store(uri)
    return Path(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, tracking_uri=found)
    )


@dataclass(frozen=True)
class StoredFiles:
    """The files stored with a model: beside a model folder (`amanah train --table`, or
    the folder above its model), or under `report/` of the registered version's run."""

    folder: Path | None
    run_id: str | None = None
    uri: str | None = None

    def file(self, name: str) -> Path | None:
        """The file `name` (downloaded from the run), None when it was not stored."""
        if self.folder is not None:
            path = self.folder / name
            return path if path.is_file() else None
        try:
            return run_artifact(str(self.run_id), f"report/{name}", self.uri)
        except (OSError, mlflow.exceptions.MlflowException):
            return None


def stored_with(model: str, loaded: AmanahModel, uri: str | None = None) -> StoredFiles:
    """Where the files of `model` (a folder or a models:/ URI, loaded as `loaded`) are."""
    path = Path(model)
    if (path / "model.json").is_file() or (path / "amanah_model").is_dir():
        return StoredFiles(path if (path / "test_period.parquet").is_file() else path.parent)
    found = existing_store(uri)
    return StoredFiles(None, version_run(loaded, found), found)


def write_version_report(model: str, out: Path, uri: str | None = None) -> Path:
    """The validation report of a registered version (models:/...) or of a model folder
    written by `amanah train --table`, from the test period stored with it."""
    loaded = load(model, uri)
    stored = stored_with(model, loaded, uri)
    test_path = stored.file("test_period.parquet")
    if test_path is None:
        raise LookupError(f"{model} has no stored test period (test_period.parquet)")
    test = pd.read_parquet(test_path)
    train_path = stored.file("train_sample.parquet")
    train = None if train_path is None else pd.read_parquet(train_path)
    report_path = stored.file("report.json")
    report = {} if report_path is None else json.loads(report_path.read_text("utf-8"))
    extra: dict[str, float] = {}
    if stored.run_id is not None:
        extra = dict(MlflowClient(stored.uri).get_run(stored.run_id).data.metrics)
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
