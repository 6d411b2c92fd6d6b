"""The monitoring figures (models/monitoring.py) on controlled samples with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.monitoring import (
    ALERT_PSI,
    WATCH_PSI,
    Calibration,
    DecisionRates,
    Drift,
    alerts,
    approval_ratio,
    calibration,
    decision_rates,
    drift,
    outcomes_by_grade,
    psi,
    psi_status,
    reason_frequencies,
    vintages,
)

RNG = np.random.default_rng(5)


def test_psi_is_near_zero_for_samples_of_one_distribution() -> None:
    a = pd.Series(RNG.normal(size=5_000))
    b = pd.Series(RNG.normal(size=5_000))
    assert psi(a, b) < 0.02


def test_psi_of_a_shifted_sample_crosses_the_alert_threshold() -> None:
    a = pd.Series(RNG.normal(size=5_000))
    assert psi(a, a + 1.0) > ALERT_PSI
    assert WATCH_PSI <= psi(a, a + 0.35) < ALERT_PSI


def test_psi_matches_the_formula_on_hand_counted_categories() -> None:
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    new = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert psi(ref, new) == pytest.approx(expected)


def test_a_category_or_missing_values_never_seen_in_training_count_as_drift() -> None:
    ref = pd.Series(["a", "b"] * 100)
    assert psi(ref, pd.Series(["c"] * 200)) > ALERT_PSI
    numbers = pd.Series(RNG.normal(size=1_000))
    missing = numbers.copy()
    missing[:500] = np.nan
    assert psi(numbers, missing) > ALERT_PSI


def test_status_thresholds_and_the_small_sample_caveat() -> None:
    assert psi_status(0.05) == "stable"
    assert psi_status(0.10) == "watch"
    assert psi_status(0.30) == "shift"
    assert psi_status(0.30, small_sample=True) == "watch"
    assert Drift("x", 0.4, 1_000, 50).status == "watch"
    assert Drift("x", 0.4, 1_000, 500).status == "shift"


def test_drift_ranks_the_columns_both_frames_hold() -> None:
    ref = pd.DataFrame({"x": RNG.normal(size=2_000), "y": RNG.normal(size=2_000)})
    new = pd.DataFrame({"x": RNG.normal(size=2_000) + 2, "y": RNG.normal(size=2_000)})
    found = drift(ref, new, ["y", "x", "not_there"])
    assert [d.name for d in found] == ["x", "y"]
    assert found[0].status == "shift" and found[1].status == "stable"


def _matured(n: int, months: list[str]) -> pd.DataFrame:
    p = RNG.uniform(0.02, 0.4, size=n)
    y = (RNG.uniform(size=n) < p).astype(int)
    return pd.DataFrame(
        {
            "pd": p,
            "default_12m": y,
            "dpd60_12m": np.maximum(y, RNG.uniform(size=n) < 0.05).astype(int),
            "dpd30_12m": np.maximum(y, RNG.uniform(size=n) < 0.10).astype(int),
            "grade": np.where(p < 0.2, "A", "D"),
            "application_date": pd.to_datetime(RNG.choice(months, size=n)),
        }
    )


def test_outcomes_by_grade_count_the_observed_shares() -> None:
    frame = _matured(4_000, ["2024-01-15"])
    by_grade = {g.grade: g for g in outcomes_by_grade(frame, ["A", "B", "D"])}
    assert set(by_grade) == {"A", "D"}  # a grade with no loans is left out
    d = by_grade["D"]
    part = frame[frame["grade"] == "D"]
    assert d.loans == len(part)
    assert d.dpd90 == pytest.approx(part["default_12m"].mean())
    assert d.dpd30 is not None and d.dpd60 is not None and d.dpd90 is not None
    assert d.dpd30 >= d.dpd60 >= d.dpd90
    assert d.predicted_pd == pytest.approx(0.3, abs=0.01)
    assert d.dpd90 == pytest.approx(d.predicted_pd, abs=0.03)  # the PDs are calibrated here


def test_vintages_measure_auc_and_ks_per_month_and_refuse_tiny_months() -> None:
    frame = _matured(3_000, ["2024-01-10", "2024-02-10"])
    tiny = pd.DataFrame(
        {
            "pd": [0.1, 0.2],
            "default_12m": [0, 1],
            "application_date": pd.to_datetime(["2024-03-01"] * 2),
        }
    )
    found = vintages(pd.concat([frame, tiny], ignore_index=True))
    assert [v.month for v in found] == ["2024-01", "2024-02", "2024-03"]
    for v in found[:2]:
        assert v.auc is not None and 0.6 < v.auc < 0.9
        assert v.ks is not None and 0.1 < v.ks < 0.8
    assert found[2].auc is None and found[2].ks is None
    shuffled = frame.assign(pd=RNG.permutation(frame["pd"].to_numpy()))
    noise = vintages(shuffled)
    assert all(v.auc is not None and abs(v.auc - 0.5) < 0.06 for v in noise)


def test_reason_frequencies_count_adverse_codes_only() -> None:
    answers: list[dict[str, object]] = [
        {
            "reasons": [
                {"code": "LATE", "direction": "adverse"},
                {"code": "SAVE", "direction": "favourable"},
            ]
        },
        {
            "reasons": [
                {"code": "LATE", "direction": "adverse"},
                {"code": "THIN", "direction": "adverse"},
            ]
        },
        {"reasons": None},
    ]
    assert reason_frequencies(answers) == [("LATE", 2), ("THIN", 1)]


def _rates(approve: float, n: int = 1_000) -> DecisionRates:
    return decision_rates(["approve"] * round(approve * n) + ["decline"] * round((1 - approve) * n))


def test_decision_rates_and_overrides() -> None:
    rates = decision_rates(["approve", "refer", "approve", "decline"], [True, False, False])
    assert (rates.approve, rates.refer, rates.decline) == (0.5, 0.25, 0.25)
    assert rates.decided == 3 and rates.override_rate == pytest.approx(1 / 3)
    empty = decision_rates([])
    assert empty.approve is None and empty.override_rate is None
    assert approval_ratio(_rates(0.4), _rates(0.5)) == pytest.approx(0.8)
    assert approval_ratio(_rates(0.4), decision_rates([])) is None


def test_the_book_calibration_and_its_alarm() -> None:
    matured = pd.DataFrame({"pd": [0.1] * 400, "default_12m": [1] * 40 + [0] * 360})
    book = calibration(matured)
    assert (book.loans, book.observed) == (400, 40)
    assert book.expected == pytest.approx(40) and book.z == pytest.approx(0.0)
    assert not book.alarm
    bad = calibration(matured.assign(default_12m=[1] * 80 + [0] * 320))
    assert bad.z == pytest.approx(40 / np.sqrt(36)) and bad.alarm
    few = Calibration(50, 20, 5.0, 4.5)  # z far beyond 3, but on 50 loans
    assert not few.alarm


STABLE = Drift("score", 0.02, 5_000, 1_000)


def test_each_alert_fires_alone_and_only_beyond_its_threshold() -> None:
    quiet = alerts(STABLE, [Drift("tenure", 1.8, 5_000, 1_000)], None, (_rates(0.5), _rates(0.5)))
    assert quiet == []  # a feature shift with a still score is reported, not alerted
    codes = lambda *a: [x.code for x in alerts(*a)]  # noqa: E731
    assert codes(Drift("score", 0.30, 5_000, 1_000), [], None) == ["score_shift"]
    assert codes(Drift("score", 0.30, 5_000, 100), [], None) == []  # small sample
    moving = Drift("score", 0.12, 5_000, 1_000)
    assert codes(moving, [Drift("sales", 0.4, 5_000, 1_000)], None) == ["feature_shift"]
    assert codes(moving, [Drift("sales", 0.2, 5_000, 1_000)], None) == []
    for approve, fired in ((0.39, True), (0.41, False), (0.62, False), (0.63, True)):
        got = codes(STABLE, [], None, (_rates(approve), _rates(0.5)))
        assert got == (["decision_shift"] if fired else []), (approve, got)
    small = (_rates(0.2, n=100), _rates(0.5))
    assert codes(STABLE, [], None, small) == []
    served = Drift("score", 0.30, 5_000, 300)
    assert codes(STABLE, [], None, None, served) == ["served_score_shift"]
    assert codes(STABLE, [], None, None, Drift("score", 0.30, 5_000, 50)) == []
    book = Calibration(400, 80, 40.0, 36.0)
    found = alerts(STABLE, [], book)
    assert [a.code for a in found] == ["calibration"]
    assert "80" in found[0].text_en and "gagal bayar" in found[0].text_id
