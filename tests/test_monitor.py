"""`amanah monitor` on a stable generated city and on the same city hit by a lasting
downturn: the model is trained on what was known at T0 (`tests.conftest.model_at_t0`), then
watched on the applications after T0 and the loans among them that matured. Both cities
share their seed, so everything before the downturn, the model included, is the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from features.generator.run import GeneratorConfig, GeneratorConfigError, generate_ledger
from features.pipeline import build_features
from features.settings import get_settings
from models.registry import MODEL_NAME, load, log_training
from models.training import TrainingResult
from serving.cli import app as cli
from serving.monitor import MonitorError, metrics, monitor, run
from serving.store import make_engine, sessions, upgrade
from serving.store.tables import Decision, Score
from tests.conftest import LONG_CITY, PII_KEY, T0, TODAY

DOWNTURN = {"downturn_from": "2024-01", "downturn_factor": 0.6}


@dataclass(frozen=True)
class World:
    stable: Path  # features of the stable city, built at its end
    drifted: Path  # the same city with the downturn
    store: str  # MLflow tracking URI
    model_uri: str
    run_id: str


@pytest.fixture(scope="module")
def world(
    long_features: Path, model_at_t0: TrainingResult, tmp_path_factory: pytest.TempPathFactory
) -> World:
    base = tmp_path_factory.mktemp("monitor")
    ledger = base / "drifted" / "ledger"
    config = GeneratorConfig(**LONG_CITY, **DOWNTURN)  # type: ignore[arg-type]
    generate_ledger(ledger, config, pii_key=PII_KEY, today=TODAY)
    drifted = base / "drifted" / "features"
    build_features(ledger, drifted, workers=1)
    store = f"sqlite:///{base / 'mlflow' / 'mlflow.db'}"
    logged = log_training(model_at_t0, source=str(long_features), uri=store, register=True)
    version_uri = f"models:/{MODEL_NAME}/{logged['version']}"
    return World(long_features, drifted, store, version_uri, logged["run_id"])


@pytest.fixture
def env(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The CLI's settings point at the test's MLflow store and at a store path with no
    database yet (so no scoring store is read unless a test creates one)."""
    monkeypatch.setenv("AMANAH_MLFLOW_TRACKING_URI", world.store)
    monkeypatch.setenv("AMANAH_DATABASE_URL", f"sqlite:///{tmp_path / 'amanah.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_downturn_option_is_checked() -> None:
    with pytest.raises(GeneratorConfigError, match="--downturn-from"):
        GeneratorConfig(**LONG_CITY, downturn_from="2031-01").validate(TODAY)  # type: ignore[arg-type]
    with pytest.raises(GeneratorConfigError, match="--downturn-factor"):
        GeneratorConfig(**LONG_CITY, downturn_from="2024-01", downturn_factor=2.0).validate(TODAY)  # type: ignore[arg-type]


def test_a_stable_city_crosses_no_threshold(world: World, env: Path) -> None:
    model = load(world.model_uri, world.store)
    found = monitor(world.stable, model, world.model_uri, since=T0, uri=world.store)
    assert found.recent_rows > 2000 and found.matured_rows > 500
    assert found.score.psi < 0.10, found.score
    assert found.book is not None and found.book.z is not None
    assert abs(found.book.z) < 3, found.book
    assert found.alerts == [], found.alerts
    # a growing cooperative's tenure drifts by design: reported, not alerted on
    shifted = {d.name for d in found.features if d.status == "shift"}
    assert "membership_months" in shifted
    assert [g.grade for g in found.grades] == sorted(g.grade for g in found.grades)
    assert sum(g.loans for g in found.grades) == found.matured_rows
    assert sum(v.loans for v in found.vintages) == found.matured_rows
    assert len(found.vintages) == 6  # December 2023 to May 2024 have matured
    assert any("No scoring store" in n for n in found.notes)


def test_a_downturn_is_caught_and_the_command_exits_1(world: World, env: Path) -> None:
    out = env / "drifted.html"
    args = ["monitor", "--features", str(world.drifted), "--model", world.model_uri,
            "--since", T0.date().isoformat(), "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "ALERT score_shift" in result.output
    assert "ALERT decision_shift" in result.output  # approvals fell by more than a fifth
    page = out.read_text("utf-8")
    assert "Sebaran skor bergeser" in page and "data:image/png;base64," in page
    # the metrics landed on the model's own run, the report beside them
    client = MlflowClient(world.store)
    logged = client.get_run(world.run_id).data.metrics
    assert logged["monitor_score_psi"] >= 0.25
    assert logged["monitor_alerts"] >= 1
    assert "monitor_psi_membership_months" in logged
    assert [a.path for a in client.list_artifacts(world.run_id, "monitoring")] == [
        "monitoring/drifted.html"
    ]
    # matured loans of the downturn default more than their PDs said
    assert logged["monitor_observed_defaults"] > logged["monitor_expected_defaults"]


def test_the_stable_city_exits_0_and_reports_it(world: World, env: Path) -> None:
    out = env / "stable.html"
    args = ["monitor", "--features", str(world.stable), "--model", world.model_uri,
            "--since", T0.date().isoformat(), "--out", str(out), "--no-log"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "no threshold crossed" in result.output
    assert "Tidak ada ambang yang terlampaui" in out.read_text("utf-8")


def test_dask_gives_the_local_figures(world: World, env: Path) -> None:
    model = load(world.model_uri, world.store)
    local = monitor(world.drifted, model, world.model_uri, since=T0, uri=world.store)
    on_dask = monitor(world.drifted, model, world.model_uri, since=T0, uri=world.store,
                      engine="dask", workers=2)  # fmt: skip
    assert metrics(on_dask) == pytest.approx(metrics(local))
    assert [a.code for a in on_dask.alerts] == [a.code for a in local.alerts]


def test_the_default_start_is_the_day_after_the_models_newest_application(
    world: World, env: Path
) -> None:
    model = load(world.model_uri, world.store)
    found = monitor(world.stable, model, world.model_uri, uri=world.store)
    assert found.since.date() == (T0 - pd.DateOffset(months=12)).date()


def test_scores_served_from_the_store_are_counted(world: World, env: Path) -> None:
    url = f"sqlite:///{env / 'served.db'}"
    upgrade(url)
    model = load(world.model_uri, world.store)
    identity = model.identity()
    now = datetime.now(UTC)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        for i in range(30):
            reasons = [{"code": "LATE_6M" if i % 3 else "WAJIB_GAPS", "direction": "adverse"},
                       {"code": "SAVER", "direction": "favourable"}]  # fmt: skip
            version = identity["version"] if i < 25 else "99"  # 5 by another version
            session.add(Score(
                id=f"s{i}", member_ref=f"m{i}", cooperative_id="KMP-0001", request_digest="d",
                model_name=identity["name"], model_version=version, model_alias=None,
                pd=0.05, score=600 + i, grade="B", decision="approve" if i % 2 else "refer",
                answer={"reasons": reasons}, scored_at=now, request_id=f"r{i}",
            ))  # fmt: skip
        session.flush()
        for i in range(10):
            session.add(Decision(score_id=f"s{i}", decided_by="officer", by_person=True,
                                 decision="approve", overridden=i < 4, reason="x",
                                 decided_at=now))  # fmt: skip
    engine.dispose()
    found = monitor(world.stable, model, world.model_uri, since=T0, store_url=url,
                    uri=world.store)  # fmt: skip
    served = found.served
    assert served is not None
    assert (served.scores, served.other_versions) == (25, 5)
    assert served.rates.decided == 10 and served.rates.override_rate == pytest.approx(0.4)
    assert served.rates.approve == pytest.approx(12 / 25)
    assert dict(served.reasons) == {"LATE_6M": 16, "WAJIB_GAPS": 9}
    assert served.score.small_sample and served.score.status != "shift"


def test_bad_input_is_named_and_exits_2(world: World, env: Path) -> None:
    runner = CliRunner()
    base = ["monitor", "--model", world.model_uri, "--no-log", "--out", str(env / "x.html")]
    cases = {
        "--since": [*base, "--features", str(world.stable), "--since", "1 Desember"],
        "--engine": [*base, "--features", str(world.stable), "--engine", "spark"],
        "no training table": [*base, "--features", str(env / "nowhere")],
        "no applications dated": [*base, "--features", str(world.stable), "--since",
                                  "2030-01-01"],
        "is not a database URL": [*base, "--features", str(world.stable), "--url", "nonsense"],
        "holds no Amanah tables": [*base, "--features", str(world.stable), "--url",
                                   f"sqlite:///{env / 'empty.db'}"],
    }  # fmt: skip
    for words, args in cases.items():
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (words, result.output)
        assert words in result.output, (words, result.output)
        assert "Traceback" not in result.output
    with pytest.raises(MonitorError, match="no applications dated"):
        run(world.stable, world.model_uri, env / "y.html", since=pd.Timestamp("2030-01-01"),
            log=False, uri=world.store)  # fmt: skip
