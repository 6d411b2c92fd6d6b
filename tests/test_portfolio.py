"""The cooperative's book under stress: the arithmetic on hand-made books, and the book's
calibration on a generated city (expected defaults of the open loans at T0 over the next
12 months against the defaults the simulation then produced)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.book import book_as_of, defaults_after, load_book, loan_positions
from features.ledger.store import Ledger
from features.pipeline import build_features
from features.profile_store import ProfileStore
from models.monitoring import Calibration
from models.portfolio import (
    assumed_bank_instalment,
    book_risk,
    portfolio,
    scenarios,
    stressed_book,
    stressed_pd,
)
from models.training import TrainingResult
from serving.cli import app as cli
from tests.conftest import T0


def _book(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "pd": [0.1, 0.2, 0.5], "exposure": [1_000_000.0, 2_000_000.0, 4_000_000.0],
        "scheduled": [600_000.0, 1_200_000.0, 0.0], "npl": [False, False, True],
        "sea": [True, False, False],
    }  # fmt: skip
    return pd.DataFrame(base | columns)


def test_stressed_pd_multiplies_the_odds() -> None:
    p = np.array([0.0, 0.1, 0.5, 1.0])
    assert stressed_pd(p, 1.0) == pytest.approx(p)
    doubled = stressed_pd(p, 2.0)
    assert doubled[1] / (1 - doubled[1]) == pytest.approx(2 * 0.1 / 0.9)
    assert doubled[2] == pytest.approx(2 / 3)
    assert (doubled[0], doubled[3]) == (0.0, 1.0)


def test_the_assumed_bank_instalment_is_the_himbara_annuity() -> None:
    # the textbook annuity at 6% a year over 36 months: 3.042,19 a month per 100.000 lent
    assert assumed_bank_instalment(100_000) == pytest.approx(3_042.19, abs=0.005)
    assert assumed_bank_instalment(36_000_000) == pytest.approx(360 * 3_042.194, abs=1)
    assert assumed_bank_instalment(0) == 0.0


def test_the_book_as_it_stands() -> None:
    risk = book_risk(_book(), None, lgd=0.75, bank_instalment=100_000)
    assert risk.expected_defaults == pytest.approx(0.3)  # the non-performing loan is not new
    assert risk.expected_loss == pytest.approx((0.1 * 1e6 + 0.2 * 2e6 + 1.0 * 4e6) * 0.75)
    assert risk.collections == pytest.approx(0.9 * 600_000 + 0.8 * 1_200_000)
    assert risk.bank_due == 1_200_000 and risk.coverage == pytest.approx(1_500_000 / 1_200_000)


def test_each_scenario_hits_whom_it_says() -> None:
    monsoon, bad_month, shocks = scenarios(shock_rate=0.25)
    book = _book()
    sea = book_risk(book, monsoon, 0.75, 0)
    assert sea.expected_defaults == pytest.approx(float(stressed_pd(np.array([0.1]), 2.5)[0]) + 0.2)
    everyone = book_risk(book, bad_month, 0.75, 0)
    assert everyone.expected_defaults == pytest.approx(
        float(stressed_pd(np.array([0.1, 0.2]), 1.6).sum())
    )
    mixed = book_risk(book, shocks, 0.75, 0)
    expected = 0.75 * np.array([0.1, 0.2]) + 0.25 * stressed_pd(np.array([0.1, 0.2]), 4.0)
    assert mixed.expected_defaults == pytest.approx(float(expected.sum()))
    assert sea.coverage is None  # nothing owed to a bank: no ratio
    found = portfolio("KMP-X", "2025-01-01", book, 0.75, None, 0.25)
    assert found.bank_instalment_assumed
    assert found.bank_instalment == pytest.approx(assumed_bank_instalment(7_000_000))
    assert [r.scenario for r in found.stressed] == ["west_monsoon", "bad_month", "shocks"]
    assert all(r.expected_loss >= found.base.expected_loss for r in found.stressed)
    with pytest.raises(ValueError, match="shock rate"):
        scenarios(1.5)
    with pytest.raises(ValueError, match="loss given default"):
        portfolio("KMP-X", "2025-01-01", book, 1.5)


@pytest.fixture(scope="module")
def profiles_at_t0(long_ledger: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("t0") / "features"
    build_features(long_ledger, out, T0, workers=1)
    return out


def test_the_book_is_calibrated_against_the_simulation(
    long_ledger: Path, profiles_at_t0: Path, model_at_t0: TrainingResult
) -> None:
    """Every cooperative's book at T0: its expected defaults over the next 12 months
    against the performing loans that were 90+ days past due 12 months later."""
    store = ProfileStore(profiles_at_t0)
    expected = variance = 0.0
    observed = loans = 0
    for coop in Ledger(long_ledger).cooperative_ids():
        full = load_book(long_ledger, coop)
        at = book_as_of(full, T0.date())
        found = stressed_book(model_at_t0.model, store, at, loan_positions(at))
        assert found.bands is not None and found.bands.active_loans == found.open_loans
        performing, defaulted = defaults_after(full, T0.date())
        assert performing == found.performing_loans
        observed += defaulted
        expected += found.base.expected_defaults
        loans += performing
        p = found.base.expected_defaults / max(performing, 1)
        variance += performing * p * (1 - p)
    book = Calibration(loans, observed, expected, variance)
    assert loans > 1000 and observed > 50
    assert book.ratio is not None and 0.75 < book.ratio < 1.25, book
    assert book.z is not None and abs(book.z) < 3, book


def test_amanah_portfolio_prints_the_book_and_refuses_bad_input(
    long_features: Path, model_at_t0: TrainingResult, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    model_at_t0.model.save(model)
    runner = CliRunner()
    args = ["portfolio", "--cooperative", "KMP-0003", "--features", str(long_features),
            "--model", str(model)]  # fmt: skip
    shown = runner.invoke(cli, [*args, "--bank-instalment", "5.000.000"])
    assert shown.exit_code == 0, shown.output
    assert "West monsoon" in shown.output and "Rp 5.000.000" in shown.output
    assert "kolektibilitas" in shown.output and "NPL (kolektibilitas 3-5)" in shown.output
    as_json = runner.invoke(cli, [*args, "--json"])
    found = json.loads(as_json.output[as_json.output.index("{") :])
    assert found["cooperative_id"] == "KMP-0003" and found["bank_instalment_assumed"]
    assert [r["scenario"] for r in found["stressed"]] == ["west_monsoon", "bad_month", "shocks"]
    bad = {
        "--cooperative KMP-9999": ["--cooperative", "KMP-9999"],
        "--shock-rate": ["--shock-rate", "lots"],
        "--bank-instalment": ["--bank-instalment", "-5"],
    }
    for words, extra in bad.items():
        result = runner.invoke(cli, [*args, *extra])
        assert result.exit_code == 2, (words, result.output)
        assert words.split()[0] in result.output and "Traceback" not in result.output
