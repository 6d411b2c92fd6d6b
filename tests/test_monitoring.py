"""The monitoring figures (models/monitoring.py) on controlled samples with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.monitoring import (
    ALERT_PSI,
    WATCH_PSI,
    Drift,
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
