"""`compare_profiles` must be able to fail: a comparison that always passes proves nothing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from features.catalog import categorical_names, feature_names
from tests.reference_profiles import compare_profiles


def _profile() -> dict[str, object]:
    out: dict[str, object] = {}
    for i, name in enumerate(feature_names()):
        out[name] = "food_stall" if name in categorical_names() else float(i) + 0.5
    out["months_since_last_late"] = math.nan
    out["loan_purpose"] = None
    return out


def test_identical_profiles_have_no_mismatch() -> None:
    assert compare_profiles(_profile(), _profile()) == []


def test_nan_equals_nan_in_every_spelling() -> None:
    a, b = _profile(), _profile()
    a["sales_trend_3m_vs_12m"], b["sales_trend_3m_vs_12m"] = math.nan, np.float64("nan")
    a["loan_product"], b["loan_product"] = np.nan, None
    a["loan_amount"], b["loan_amount"] = pd.NA, math.nan
    assert compare_profiles(a, b) == []


def test_numpy_and_python_numbers_and_category_dtypes_compare_equal() -> None:
    a, b = _profile(), _profile()
    a["group_size"] = np.float64(b["group_size"])  # type: ignore[arg-type]
    a["business_sector"] = pd.Series(["food_stall"], dtype="category").iloc[0]
    a["application_month"], b["application_month"] = "7", "7"
    assert compare_profiles(a, b) == []


def test_a_changed_number_is_reported() -> None:
    a, b = _profile(), _profile()
    b["sukarela_balance"] = float(a["sukarela_balance"]) + 1.0  # type: ignore[arg-type]
    problems = compare_profiles(a, b)
    assert len(problems) == 1
    assert problems[0].startswith("sukarela_balance:")


def test_a_tiny_relative_change_is_reported_above_the_tolerance() -> None:
    a, b = _profile(), _profile()
    a["total_savings"] = 1_000_000.0
    b["total_savings"] = 1_000_000.0 * (1 + 1e-6)
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["total_savings"]
    b["total_savings"] = 1_000_000.0 * (1 + 1e-12)
    assert compare_profiles(a, b) == []


def test_nan_against_a_number_is_reported_both_ways() -> None:
    a, b = _profile(), _profile()
    b["months_since_last_late"] = 3.0
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["months_since_last_late"]
    assert [p.split(":")[0] for p in compare_profiles(b, a)] == ["months_since_last_late"]
    b = _profile()
    b["share_instalments_on_time_6m"] = math.nan
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["share_instalments_on_time_6m"]


def test_zero_against_nan_is_reported() -> None:
    a, b = _profile(), _profile()
    a["instalment_to_income"], b["instalment_to_income"] = 0.0, math.nan
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["instalment_to_income"]


def test_a_category_difference_is_reported() -> None:
    a, b = _profile(), _profile()
    b["business_sector"] = "fisher"
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["business_sector"]
    b = _profile()
    b["loan_purpose"] = "education"  # missing vs a category
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["loan_purpose"]


def test_every_difference_is_listed_and_a_missing_feature_too() -> None:
    a, b = _profile(), _profile()
    b["current_dpd"] = 99.0
    b["application_month"] = "12"
    del b["ledger_events_6m"]
    names = sorted(p.split(":")[0] for p in compare_profiles(a, b))
    assert names == ["application_month", "current_dpd", "ledger_events_6m"]
    assert any("missing" in p for p in compare_profiles(a, b))


def test_infinities_must_match_exactly() -> None:
    a, b = _profile(), _profile()
    a["max_dpd_365d"], b["max_dpd_365d"] = math.inf, 1e300
    assert [p.split(":")[0] for p in compare_profiles(a, b)] == ["max_dpd_365d"]
