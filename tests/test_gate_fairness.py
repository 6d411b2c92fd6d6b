"""The promotion gate as a pure function of controlled figures (every check can fail), and
the fairness screen it reads: equal risk approved at equal rates, calibration by group."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.fairness import fairness_figures, grade_adjusted_ratio, group_calibration
from models.gate import Gate, gate_figures, judge

PASSING: dict[str, float | int | str] = {
    "challenger_auc": 0.76,
    "challenger_calibration_error": 0.01,
    "four_fifths_gender": 0.92,
    "not_declined_ratio_gender": 0.97,
    "equal_risk_ratio_gender": 0.95,
    "miscalibrated_groups_gender": 0,
    # the unconditional ratio by profile is reported, not checked: low here on purpose
    "four_fifths_cooperative_profile": 0.48,
    "not_declined_ratio_cooperative_profile": 0.7,
    "equal_risk_ratio_cooperative_profile": 0.88,
    "miscalibrated_groups_cooperative_profile": 0,
    "champion_auc": 0.765,
    "psi_vs_champion": 0.05,
    "challenger_version": "7",
}


def test_controlled_figures_pass_every_check() -> None:
    judged = judge(PASSING, Gate())
    assert judged.checks == {
        "calibration": True,
        "auc": True,
        "psi": True,
        "four_fifths_gender": True,
        "calibration_by_gender": True,
        "equal_risk_cooperative_profile": True,
        "calibration_by_cooperative_profile": True,
    }
    assert (judged.passed, judged.promoted, judged.forced) == (True, True, False)


@pytest.mark.parametrize(
    ("figure", "value", "check"),
    [
        ("challenger_calibration_error", 0.031, "calibration"),
        ("challenger_auc", 0.754, "auc"),
        ("psi_vs_champion", 0.26, "psi"),
        ("four_fifths_gender", 0.79, "four_fifths_gender"),
        ("miscalibrated_groups_gender", 1, "calibration_by_gender"),
        ("equal_risk_ratio_cooperative_profile", 0.79, "equal_risk_cooperative_profile"),
        ("miscalibrated_groups_cooperative_profile", 2, "calibration_by_cooperative_profile"),
    ],
)
def test_each_check_fails_on_its_own_figure(figure: str, value: float, check: str) -> None:
    judged = judge({**PASSING, figure: value}, Gate())
    assert [name for name, ok in judged.checks.items() if not ok] == [check]
    assert (judged.passed, judged.promoted) == (False, False)
    forced = judge({**PASSING, figure: value}, Gate(), force=True)
    assert (forced.passed, forced.promoted, forced.forced) == (False, True, True)


def test_thresholds_come_from_the_gate() -> None:
    strict = Gate(max_calibration_error=0.005, min_four_fifths=0.95)
    failed = {n for n, ok in judge(PASSING, strict).checks.items() if not ok}
    assert failed == {"calibration", "four_fifths_gender", "equal_risk_cooperative_profile"}


def test_undefined_figures_block_even_a_forced_promotion_only_where_a_check_reads_them() -> None:
    judged = judge({**PASSING, "four_fifths_gender": math.nan}, Gate(), force=True)
    assert judged.undefined == ["four_fifths_gender"]
    assert (judged.passed, judged.promoted) == (False, False)
    # a reported figure nobody checks does not block
    quiet = judge({**PASSING, "four_fifths_cooperative_profile": math.nan}, Gate())
    assert (quiet.passed, quiet.undefined) == (True, [])


def test_without_a_champion_only_the_challengers_checks_run() -> None:
    alone = {k: v for k, v in PASSING.items() if k not in ("champion_auc", "psi_vs_champion")}
    assert set(judge(alone, Gate()).checks) == {
        "calibration",
        "four_fifths_gender",
        "calibration_by_gender",
        "equal_risk_cooperative_profile",
        "calibration_by_cooperative_profile",
    }


# ----------------------------------------------------------------------------- fairness
def _two_profiles() -> pd.DataFrame:
    """Coastal members are riskier (more grade D), but at each grade both profiles are
    approved at the same rate: A 90%, D 20%."""
    rows = []
    for profile, n_a, n_d in (("coastal", 100, 300), ("urban_trade", 300, 100)):
        for grade, n, approved in (("A", n_a, 0.9), ("D", n_d, 0.2)):
            k = round(n * approved)
            rows += [{"profile": profile, "grade": grade, "approved": i < k} for i in range(n)]
    return pd.DataFrame(rows)


def test_equal_risk_is_approved_at_equal_rates_though_raw_rates_differ() -> None:
    frame = _two_profiles()
    fair = grade_adjusted_ratio(frame["approved"], frame["profile"], frame["grade"])
    assert fair["ratio"] == pytest.approx(1.0)
    raw = frame.groupby("profile")["approved"].mean()
    assert raw["coastal"] / raw["urban_trade"] == pytest.approx(0.375 / 0.725)  # fails 4/5ths
    by_grade = {(r["grade"], r["group"]): r["rate"] for r in fair["by_grade"]}
    assert by_grade[("A", "coastal")] == by_grade[("A", "urban_trade")] == pytest.approx(0.9)


def test_unequal_approval_at_equal_risk_fails_the_screen() -> None:
    frame = _two_profiles()
    coastal_a = (frame["profile"] == "coastal") & (frame["grade"] == "A")
    frame.loc[coastal_a, "approved"] = np.arange(coastal_a.sum()) < 40  # A: 40% vs 90%
    fair = grade_adjusted_ratio(frame["approved"], frame["profile"], frame["grade"])
    # coastal: 40 + 60 approved against 100 x 0,775 + 300 x 0,2 expected = 137,5
    assert fair["standardised"]["coastal"] == pytest.approx(100 / 137.5)
    assert fair["ratio"] < 0.8


def test_small_groups_stay_out_of_the_ratio() -> None:
    frame = _two_profiles()
    tiny = pd.DataFrame([{"profile": "peri_urban", "grade": "A", "approved": False}] * 5)
    frame = pd.concat([frame, tiny], ignore_index=True)
    fair = grade_adjusted_ratio(frame["approved"], frame["profile"], frame["grade"])
    assert fair["groups_too_small"] == ["peri_urban"]
    assert fair["ratio"] > 0.95
    assert math.isnan(grade_adjusted_ratio([True] * 40, ["x"] * 40, ["A"] * 40)["ratio"])


def test_group_calibration_flags_a_real_gap_not_noise() -> None:
    rng = np.random.default_rng(3)
    big = np.repeat(["a", "b"], 1000)
    pd_ = np.full(2000, 0.05)
    y = np.r_[rng.random(1000) < 0.05, rng.random(1000) < 0.15].astype(float)
    assert group_calibration(y, pd_, big)["miscalibrated"] == ["b"]
    # the same gap on 40 members is within noise
    small = np.repeat(["a", "b"], [1000, 40])
    y_small = np.r_[y[:1000], np.r_[np.ones(6), np.zeros(34)]]
    assert group_calibration(y_small, np.full(1040, 0.05), small)["miscalibrated"] == []


def test_gate_figures_from_scored_rows() -> None:
    frame = _two_profiles()
    n = len(frame)
    rng = np.random.default_rng(5)
    pd_ = np.where(frame["grade"] == "A", 0.02, 0.15)
    scored = pd.DataFrame(
        {
            "pd": pd_,
            "score": 600 - 100 * pd_,
            "grade": frame["grade"],
            "decision": np.where(frame["approved"], "approve", "refer"),
        }
    )
    rows = pd.DataFrame(
        {"cooperative_profile": frame["profile"], "gender": np.tile(["female", "male"], n // 2)}
    )
    y = (rng.random(n) < pd_).astype(float)
    figures = gate_figures(scored, rows, y, champion=scored)
    assert figures["equal_risk_ratio_cooperative_profile"] == pytest.approx(1.0)
    assert figures["four_fifths_cooperative_profile"] == pytest.approx(0.375 / 0.725)
    assert figures["psi_vs_champion"] == pytest.approx(0.0)
    assert figures["champion_auc"] == figures["challenger_auc"]
    assert judge(figures, Gate()).checks["equal_risk_cooperative_profile"]
    top = fairness_figures(scored["decision"], pd_, scored["grade"], y, rows)
    assert top["cooperative_profile"]["top_grades_approved"] == pytest.approx(
        {"coastal": 0.9, "urban_trade": 0.9}
    )
