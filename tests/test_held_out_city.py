"""The held-out-city evaluation: it scores every labelled loan of another city, and its
figures are what they say (checked against the metrics computed here, directly)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from features.generator.oracle_comparison import compare_with_oracle, true_pd
from features.generator.run import GeneratorConfig
from features.pipeline import read_training, source_ledger
from models.held_out_city import (
    city_features,
    city_ledger,
    evaluate_on_city,
    generator_fingerprint,
    held_out_city,
)
from models.metrics import auc, brier, calibration_error
from models.training import AMANAH_TARGET
from tests.conftest import TODAY

if TYPE_CHECKING:
    from models.training import TrainingResult

# another seed than the medium ledger the `trained` model learnt from (seed 11)
TINY = GeneratorConfig(cooperatives=2, members_per_coop=150, months=36, start="2022-06", seed=23)


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city_features(TINY, tmp_path_factory.mktemp("held-out"), today=TODAY, workers=1)


def test_evaluation_scores_every_labelled_loan_and_its_figures_are_true(
    trained: TrainingResult, tiny_city: Path
) -> None:
    out = evaluate_on_city(trained.model, tiny_city, compare_with_oracle, trained.baseline)
    table = read_training(tiny_city)
    loans = table[table[AMANAH_TARGET].notna()].reset_index(drop=True)
    y = loans[AMANAH_TARGET].astype(int).to_numpy()
    assert 0 < y.sum() < len(y), "the tiny city needs defaults and repaid loans"
    assert len(loans) < len(table), "unlabelled applications are left out"
    assert out["labelled_loans"] == len(loans)
    assert out["defaults"] == int(y.sum())
    assert out["cooperatives"] == TINY.cooperatives
    pd_ = trained.model.predict(loans, reasons=False)["pd"].to_numpy()
    assert out["auc"] == pytest.approx(auc(y, pd_))
    assert out["brier"] == pytest.approx(brier(y, pd_))
    assert out["calibration_error"] == pytest.approx(calibration_error(y, pd_))
    assert out["default_rate"] == pytest.approx(y.mean())
    assert out["mean_pd"] == pytest.approx(pd_.mean())
    ledger = source_ledger(tiny_city)
    assert ledger is not None
    truth = true_pd(ledger, loans["loan_id"])
    assert truth is not None
    assert out["oracle_auc"] == pytest.approx(auc(y, truth))
    assert out["auc_share_of_oracle"] == pytest.approx(out["auc"] / out["oracle_auc"])
    woe = auc(y, trained.baseline.predict_proba(loans[trained.baseline.features_]))
    assert out["auc_woe_baseline"] == pytest.approx(woe)
    assert out["auc_over_woe_baseline"] == pytest.approx(out["auc"] / woe)
    # a model that ranks the other city's loans at all, yet not as well as the truth
    assert 0.55 < out["auc"] < out["oracle_auc"]
    thin_mask = loans["months_of_history"].to_numpy() < 6
    thin, rest = out["by_history"]["under_6_months"], out["by_history"]["6_months_or_more"]
    assert thin["labelled_loans"] == thin_mask.sum() > 0
    assert thin["labelled_loans"] + rest["labelled_loans"] == len(loans)
    assert thin["defaults"] + rest["defaults"] == out["defaults"]
    for part, mask in ((thin, thin_mask), (rest, ~thin_mask)):
        assert 0 < part["defaults"] < part["labelled_loans"], "the tiny city has both in each"
        assert part["auc"] == pytest.approx(auc(y[mask], pd_[mask]))
        assert part["oracle_auc"] == pytest.approx(auc(y[mask], truth[mask]))


def test_without_a_comparison_nothing_is_said_about_the_oracle(
    trained: TrainingResult, tiny_city: Path
) -> None:
    out = evaluate_on_city(trained.model, tiny_city)
    assert not {"oracle_auc", "auc_share_of_oracle", "auc_woe_baseline"} & set(out)
    assert np.isfinite(out["auc"])


def test_cities_are_cached_by_configuration_and_generator(tiny_city: Path) -> None:
    ledger = source_ledger(tiny_city)
    assert ledger is not None and generator_fingerprint() in ledger.name
    stamp = (ledger / "ledger.json").stat().st_mtime_ns
    training = tiny_city / "training"
    stamps = {p.name: p.stat().st_mtime_ns for p in training.glob("*.parquet")}
    assert city_features(TINY, ledger.parent, today=TODAY, workers=1) == tiny_city
    assert (ledger / "ledger.json").stat().st_mtime_ns == stamp, "not generated again"
    assert {p.name: p.stat().st_mtime_ns for p in training.glob("*.parquet")} == stamps
    other = city_ledger(GeneratorConfig(**{**TINY.__dict__, "seed": 24}), ledger.parent, TODAY)
    assert other != ledger and ledger.is_dir(), "another seed is another city, both kept"


def test_held_out_city_trains_on_one_seed_and_judges_on_another(tmp_path: Path) -> None:
    # the smallest training city whose test period holds enough defaults to train at all
    out = held_out_city(
        31, 32, tmp_path, train_size=(10, 500), test_size=(2, 150),
        compare=compare_with_oracle, max_rounds=40, today=TODAY, workers=1,
    )  # fmt: skip
    held, own = out["held_out"], out["in_period"]
    assert held["cooperatives"] == 2 and held["labelled_loans"] > 0
    for figures in (held, own):
        assert figures["auc_share_of_oracle"] == pytest.approx(
            figures["auc"] / figures["oracle_auc"]
        )
    assert own["labelled_loans"] != held["labelled_loans"]
    assert out["best_iteration"] <= 40
