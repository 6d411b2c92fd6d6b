"""`amanah monitor`: the serving model watched against what it was trained on.

Reads three places and computes nothing itself (`models.monitoring` does):
- the model and its training reference: the training sample and test period logged with
  its MLflow run (or stored beside a model folder);
- recent applications: rows of the features folder's training table dated on or after
  `since` (by default the day after the newest application the model was developed on),
  scored by the model, per cooperative partition, in-process or on Dask; rows whose
  12-month window has closed since (`labelled`) give the outcomes;
- the scoring store, where one exists: the scores the API and console served since then,
  their recommended decisions, the decisions people recorded and the reasons given.
The results go to an HTML report, to MLflow metrics (and the report as an artifact) on the
model's run, and to alerts that make the command exit 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select

from features.dask_cluster import dask_client
from features.pipeline import as_categories, read_training_partition, training_partitions
from models.artifact import AmanahModel
from models.grades import GRADES
from models.monitoring import (
    Alert,
    Calibration,
    DecisionRates,
    Drift,
    GradeOutcome,
    Vintage,
    alerts,
    approval_ratio,
    calibration,
    decision_rates,
    drift,
    outcomes_by_grade,
    reason_frequencies,
    vintages,
)
from models.registry import existing_store, stored_with
from models.training import AMANAH_TIME

Engine = Literal["local", "dask"]
SCORED = ("pd", "score", "grade", "decision")


class MonitorError(ValueError):
    """The monitor cannot run on what it was given; the message names what is missing."""


@dataclass(frozen=True)
class Served:
    """What the scoring store holds for this model version since `since`."""

    scores: int
    other_versions: int  # scores by other versions, left out of the figures
    score: Drift
    rates: DecisionRates
    reasons: list[tuple[str, int]]


@dataclass
class MonitorRun:
    model: dict[str, Any]
    since: pd.Timestamp
    reference_rows: int
    recent_rows: int
    matured_rows: int
    features: list[Drift]
    score: Drift
    grades: list[GradeOutcome]
    vintages: list[Vintage]
    book: Calibration | None
    recommended: DecisionRates
    reference_recommended: DecisionRates
    served: Served | None
    alerts: list[Alert]
    reference_scores: npt.NDArray[np.float64] = field(repr=False)
    recent_scores: npt.NDArray[np.float64] = field(repr=False)
    notes: list[str] = field(default_factory=list)
    report: Path | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class _Reference:
    train: pd.DataFrame
    newest: pd.Timestamp
    run_id: str | None


def _reference(model: AmanahModel, model_uri: str, uri: str | None) -> _Reference:
    """The training sample and the newest application date the model was developed on."""
    stored = stored_with(model_uri, model, uri)
    train_path = stored.file("train_sample.parquet")
    if train_path is None:
        raise MonitorError(f"{model_uri} has no stored training sample (train_sample.parquet)")
    test_path = stored.file("test_period.parquet")
    train = pd.read_parquet(train_path)
    if AMANAH_TIME not in train.columns:
        raise MonitorError(
            f"the model's training sample has no {AMANAH_TIME} column: monitoring needs "
            "dated applications"
        )
    dates = [train[AMANAH_TIME]]
    if test_path is not None:
        dates.append(pd.read_parquet(test_path, columns=[AMANAH_TIME])[AMANAH_TIME])
    return _Reference(as_categories(train), pd.Timestamp(pd.concat(dates).max()), stored.run_id)


def _scored(frame: pd.DataFrame, model: AmanahModel) -> pd.DataFrame:
    out = model.predict(frame, reasons=False)
    return frame.assign(**{c: out[c].to_numpy() for c in SCORED})


def score_partition(path: str, since: str, model: AmanahModel) -> pd.DataFrame:
    """One cooperative's applications dated on or after `since`, scored (a Dask task)."""
    frame = read_training_partition(Path(path))
    frame = frame[frame[AMANAH_TIME] >= pd.Timestamp(since)].reset_index(drop=True)
    return _scored(frame, model) if len(frame) else frame


def _recent(
    features_dir: Path, since: pd.Timestamp, model: AmanahModel, engine: Engine,
    workers: int, scheduler: str | None,
) -> pd.DataFrame:  # fmt: skip
    paths = [str(p) for p in training_partitions(features_dir)]
    if not paths:
        raise MonitorError(
            f"{features_dir} holds no training table; run `amanah features build` first"
        )
    day = since.date().isoformat()
    if engine == "dask":
        with dask_client(scheduler, workers) as client:
            shared = client.scatter(model, broadcast=True)
            parts = client.gather([client.submit(score_partition, p, day, shared) for p in paths])
    else:
        parts = [score_partition(p, day, model) for p in paths]
    kept = [p for p in parts if len(p)]
    return as_categories(pd.concat(kept, ignore_index=True)) if kept else pd.DataFrame()


def _served(
    store_url: str, since: pd.Timestamp, identity: dict[str, Any], reference_scores: pd.Series
) -> Served:
    from serving.store import make_engine, sessions
    from serving.store.tables import Decision, Score

    since_utc = since.tz_localize(UTC) if since.tzinfo is None else since
    engine = make_engine(store_url)
    try:
        with sessions(engine)() as session:
            rows = session.execute(
                select(Score.id, Score.score, Score.decision, Score.answer, Score.model_version)
                .where(Score.scored_at >= since_utc.to_pydatetime())
                .where(Score.model_name == str(identity.get("name")))
            ).all()
            mine = [r for r in rows if r.model_version == str(identity.get("version"))]
            ids = [r.id for r in mine]
            overridden: dict[str, bool] = {}
            for chunk in range(0, len(ids), 500):
                for d in session.execute(
                    select(Decision.score_id, Decision.overridden).where(
                        Decision.score_id.in_(ids[chunk : chunk + 500])
                    )
                ):
                    overridden[d.score_id] = overridden.get(d.score_id, False) or d.overridden
    finally:
        engine.dispose()
    scores = pd.Series([r.score for r in mine], dtype="float64")
    score = drift(pd.DataFrame({"score": reference_scores}), pd.DataFrame({"score": scores}),
                  ["score"])[0]  # fmt: skip
    return Served(
        scores=len(mine),
        other_versions=len(rows) - len(mine),
        score=score,
        rates=decision_rates([r.decision for r in mine], list(overridden.values())),
        reasons=reason_frequencies(r.answer for r in mine),
    )


def _store_url(store_url: str | None, notes: list[str]) -> str | None:
    """The store to read: the one named, or the default one when it exists."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from serving.store import StoreError, current_revision, database_url

    chosen = store_url or database_url()
    try:
        shown = make_url(chosen).render_as_string(hide_password=True)
    except ArgumentError as exc:
        raise MonitorError(f"--url {chosen!r} is not a database URL") from exc
    try:
        exists = current_revision(chosen) is not None
    except StoreError as exc:  # an unreachable server, an unreadable file
        if store_url:
            raise MonitorError(str(exc)) from exc
        notes.append(f"The scoring store could not be read ({exc}); its figures are left out.")
        return None
    if not exists:
        if store_url:
            raise MonitorError(f"the scoring store {shown} holds no Amanah tables")
        notes.append(
            f"No scoring store at {shown}: figures of served scores, recorded decisions "
            "and reasons are left out."
        )
        return None
    return chosen


def monitor(
    features_dir: Path,
    model: AmanahModel,
    model_uri: str,
    *,
    since: pd.Timestamp | None = None,
    store_url: str | None = None,
    engine: Engine = "local",
    workers: int = 2,
    scheduler: str | None = None,
    uri: str | None = None,
) -> MonitorRun:
    """Every monitoring figure of `model` on the applications of `features_dir` since
    `since` (module docstring)."""
    notes: list[str] = []
    reference = _reference(model, model_uri, uri)
    start = since if since is not None else reference.newest.normalize() + pd.Timedelta(days=1)
    recent = _recent(features_dir, start, model, engine, workers, scheduler)
    if recent.empty:
        raise MonitorError(
            f"{features_dir} holds no applications dated on or after {start.date()}; "
            "rebuild the features from a newer ledger, or give an earlier --since"
        )
    if start <= reference.newest:
        notes.append(
            f"--since {start.date()} reaches into the period the model was developed on "
            f"(up to {reference.newest.date()}): those applications are not new to it."
        )
    ref = _scored(reference.train, model)
    columns = list(model.inputs.features)
    features = drift(ref, recent, columns)
    score = drift(ref, recent, ["score"])[0]
    matured = recent[recent["labelled"].astype(bool)] if "labelled" in recent else recent[:0]
    book = calibration(matured) if len(matured) else None
    chosen_store = _store_url(store_url, notes)
    identity = model.identity()
    served = (
        _served(chosen_store, start, identity, ref["score"]) if chosen_store is not None else None
    )
    recommended = decision_rates(recent["decision"].astype(str).tolist())
    reference_recommended = decision_rates(ref["decision"].astype(str).tolist())
    found = alerts(score, features, book, (recommended, reference_recommended),
                   None if served is None else served.score)  # fmt: skip
    return MonitorRun(
        model=identity,
        since=start,
        reference_rows=len(ref),
        recent_rows=len(recent),
        matured_rows=len(matured),
        features=features,
        score=score,
        grades=outcomes_by_grade(matured, GRADES) if len(matured) else [],
        vintages=vintages(matured, AMANAH_TIME) if len(matured) else [],
        book=book,
        recommended=recommended,
        reference_recommended=reference_recommended,
        served=served,
        alerts=found,
        reference_scores=ref["score"].to_numpy(dtype="float64"),
        recent_scores=recent["score"].to_numpy(dtype="float64"),
        notes=notes,
        run_id=reference.run_id,
    )


def metrics(run: MonitorRun) -> dict[str, float]:
    """The figures logged on the model's MLflow run (prefix `monitor_`)."""
    out: dict[str, float] = {
        "monitor_recent_rows": run.recent_rows,
        "monitor_matured_rows": run.matured_rows,
        "monitor_score_psi": run.score.psi,
        "monitor_features_shifted": sum(d.status == "shift" for d in run.features),
        "monitor_alerts": len(run.alerts),
    }
    out |= {f"monitor_psi_{d.name}": d.psi for d in run.features}
    if run.recommended.approve is not None:
        out["monitor_approve_share"] = run.recommended.approve
    ratio = approval_ratio(run.recommended, run.reference_recommended)
    if ratio is not None:
        out["monitor_approval_ratio"] = ratio
    if run.book is not None:
        out["monitor_observed_defaults"] = run.book.observed
        out["monitor_expected_defaults"] = run.book.expected
        if run.book.z is not None:
            out["monitor_calibration_z"] = run.book.z
    if run.served is not None:
        out["monitor_served_scores"] = run.served.scores
        out["monitor_served_score_psi"] = run.served.score.psi
        if run.served.rates.override_rate is not None:
            out["monitor_override_rate"] = run.served.rates.override_rate
    return {k: float(v) for k, v in out.items()}


def log_to_mlflow(run: MonitorRun, report: Path | None, uri: str | None = None) -> None:
    """Metrics (and the HTML report as an artifact under `monitoring/`) on the model's run."""
    if run.run_id is None:
        return
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(existing_store(uri))
    now = int(datetime.now(UTC).timestamp() * 1000)
    step = int(run.since.strftime("%Y%m%d"))
    batch = [Metric(k, v, now, step) for k, v in metrics(run).items()]
    for chunk in range(0, len(batch), 200):
        client.log_batch(run.run_id, metrics=batch[chunk : chunk + 200])
    if report is not None:
        client.log_artifact(run.run_id, str(report), artifact_path="monitoring")


def run(
    features_dir: Path,
    model_uri: str,
    out: Path,
    *,
    since: pd.Timestamp | None = None,
    store_url: str | None = None,
    engine: Engine = "local",
    workers: int = 2,
    scheduler: str | None = None,
    log: bool = True,
    uri: str | None = None,
) -> MonitorRun:
    """`amanah monitor`: load the model, monitor it, write the report, log to its run."""
    from models.registry import load
    from serving.monitor_report import write

    model = load(model_uri, uri)
    found = monitor(
        features_dir, model, model_uri, since=since, store_url=store_url, engine=engine,
        workers=workers, scheduler=scheduler, uri=uri,
    )  # fmt: skip
    found.report = write(found, out)
    if log:
        log_to_mlflow(found, found.report, uri)
    return found
