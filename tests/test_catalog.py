"""Tests for features.catalog: declarations, lookups, value formatting and reason texts."""

from __future__ import annotations

import math

import pytest

from features.catalog import (
    CATALOG,
    PROTECTED_ATTRIBUTES,
    Feature,
    FiveC,
    categorical_names,
    feature,
    feature_names,
    format_value,
    monotone_constraints,
    reason_text,
)
from features.generator.simulate import TRUE_DRIVERS

# ---------------------------------------------------------------------------- declarations


def test_catalog_size_and_unique_names() -> None:
    names = feature_names()
    assert 40 <= len(CATALOG) <= 80
    assert len(names) == len(CATALOG) == 53
    assert len(set(names)) == len(names)


def test_catalog_order_starts_and_ends_as_declared() -> None:
    names = feature_names()
    assert names[:2] == ["share_instalments_on_time_6m", "share_instalments_on_time_12m"]
    assert names[-3:] == ["months_of_history", "has_prior_loan", "ledger_events_6m"]


def test_every_feature_has_a_five_c_group_and_a_valid_direction() -> None:
    for f in CATALOG:
        assert isinstance(f.group, FiveC), f.name
        assert f.monotone in (-1, 0, 1), f.name
        assert f.dtype in ("float", "category"), f.name
        assert f.window_months is None or f.window_months in (3, 6, 12, 24), f.name
    assert {f.group for f in CATALOG} == set(FiveC)


def test_five_c_values_and_labels() -> None:
    assert [c.value for c in FiveC] == [
        "character",
        "capacity",
        "capital",
        "collateral",
        "condition",
    ]
    assert [c.label_id for c in FiveC] == ["Watak", "Kemampuan", "Modal", "Jaminan", "Kondisi"]
    assert [c.label_en for c in FiveC] == [
        "Character",
        "Capacity",
        "Capital",
        "Collateral",
        "Condition",
    ]
    assert FiveC("capital") is FiveC.CAPITAL


def test_category_features_are_unconstrained() -> None:
    cats = categorical_names()
    assert cats == ["application_month", "loan_purpose", "loan_product", "business_sector"]
    for name in cats:
        assert feature(name).monotone == 0


def test_no_feature_is_named_after_a_protected_attribute() -> None:
    assert PROTECTED_ATTRIBUTES == ("gender", "religion", "ethnicity", "kelurahan")
    for name in feature_names():
        for attr in PROTECTED_ATTRIBUTES:
            assert attr not in name, (name, attr)


def test_true_drivers_of_the_generator_are_catalog_features() -> None:
    assert set(TRUE_DRIVERS.values()) <= set(feature_names())
    for name in (
        "share_instalments_on_time_12m",
        "instalment_to_income",
        "seasonal_dip_depth",
        "sales_volatility_6m",
        "group_members_in_arrears",
        "months_of_history",
        "coop_arrears_rate_3m",
    ):
        assert name in feature_names()


def test_thin_file_features() -> None:
    thin = [f.name for f in CATALOG if f.thin_file]
    assert thin == ["months_of_history", "has_prior_loan", "ledger_events_6m"]
    assert all(feature(n).group is FiveC.CHARACTER for n in thin)


def test_selected_declarations() -> None:
    f = feature("max_dpd_365d")
    assert (f.dtype, f.unit, f.window_months, f.group, f.monotone) == (
        "float",
        "days",
        12,
        FiveC.CHARACTER,
        1,
    )
    g = feature("application_month")
    assert (g.dtype, g.unit, g.group, g.monotone) == (
        "category",
        "month_of_year",
        FiveC.CONDITION,
        0,
    )
    assert feature("sembako_spend_3m").monotone == 0
    assert feature("instalment_to_income").group is FiveC.CAPACITY
    assert feature("total_savings").group is FiveC.CAPITAL
    assert feature("group_past_defaults").group is FiveC.COLLATERAL
    assert feature("longest_wajib_streak_24m").window_months == 24


def test_feature_is_frozen() -> None:
    f = feature("current_dpd")
    with pytest.raises(AttributeError):
        f.name = "other"  # type: ignore[misc]


def test_every_reason_text_has_exactly_one_value_placeholder() -> None:
    for f in CATALOG:
        for text in (f.raises_risk_id, f.raises_risk_en, f.lowers_risk_id, f.lowers_risk_en):
            assert text.count("{value}") == 1, (f.name, text)
        assert f.description_id and f.description_en, f.name


def test_reason_texts_never_blame_the_score() -> None:
    for f in CATALOG:
        for text in (f.raises_risk_id, f.raises_risk_en, f.lowers_risk_id, f.lowers_risk_en):
            assert "skor" not in text.lower() and "score" not in text.lower(), f.name


# ---------------------------------------------------------------------------- lookups


def test_monotone_constraints_follow_the_given_order() -> None:
    assert monotone_constraints(["current_dpd", "membership_months", "loan_purpose"]) == [
        1,
        -1,
        0,
    ]
    default = monotone_constraints()
    assert len(default) == len(CATALOG)
    assert default[:4] == [-1, -1, 1, 1]


def test_monotone_constraints_reject_unknown_names() -> None:
    with pytest.raises(KeyError, match="nope"):
        monotone_constraints(["current_dpd", "nope"])


def test_unknown_feature_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="nope"):
        feature("nope")


# ---------------------------------------------------------------------------- format_value


def _by_unit(unit: str) -> Feature:
    return next(f for f in CATALOG if f.unit == unit)


@pytest.mark.parametrize(
    ("name", "value", "expected_id", "expected_en"),
    [
        ("late_instalments_6m", 3, "3", "3"),
        ("late_instalments_6m", 2.6, "3", "3"),
        ("ledger_events_6m", 1234, "1.234", "1,234"),
        ("membership_months", 18.2, "18 bulan", "18 months"),
        ("membership_months", 17.5, "18 bulan", "18 months"),
        ("current_dpd", 45, "45 hari", "45 days"),
        ("share_instalments_on_time_12m", 0.75, "75%", "75%"),
        ("share_instalments_on_time_12m", 1.0, "100%", "100%"),
        ("coop_arrears_rate_3m", 0.0625, "6%", "6%"),
        ("avg_monthly_sales_3m", 1250000, "Rp 1.250.000", "Rp 1.250.000"),
        ("avg_monthly_sales_3m", 1249999.6, "Rp 1.250.000", "Rp 1.250.000"),
        ("sukarela_trend_3m", -5000, "-Rp 5.000", "-Rp 5.000"),
        ("instalment_to_income", 0.345, "0,35", "0.35"),
        ("instalment_to_income", 0.3412, "0,34", "0.34"),
        ("sales_trend_3m_vs_12m", 1.5, "1,50", "1.50"),
        ("in_group", 1, "ya", "yes"),
        ("in_group", 0.0, "tidak", "no"),
        ("loan_purpose", "modal kerja", "modal kerja", "modal kerja"),
        ("application_month", 3, "Maret", "March"),
        ("application_month", 12.0, "Desember", "December"),
        ("application_month", "8", "Agustus", "August"),
    ],
)
def test_format_value_examples(
    name: str, value: float | str, expected_id: str, expected_en: str
) -> None:
    f = feature(name)
    assert format_value(f, value) == expected_id
    assert format_value(f, value, "id") == expected_id
    assert format_value(f, value, "en") == expected_en


def test_catalog_uses_every_unit() -> None:
    units = {f.unit for f in CATALOG}
    assert units == {
        "count",
        "months",
        "days",
        "share",
        "rate",
        "rupiah",
        "ratio",
        "flag",
        "category",
        "month_of_year",
    }


@pytest.mark.parametrize("missing", [None, math.nan, float("inf")])
def test_missing_values_read_no_data_for_every_unit(missing: float | None) -> None:
    for unit in ("count", "months", "days", "share", "rupiah", "ratio", "flag", "month_of_year"):
        f = _by_unit(unit)
        assert format_value(f, missing) == "tidak ada data", unit
        assert format_value(f, missing, "en") == "no data", unit
    assert format_value(feature("loan_purpose"), None) == "tidak ada data"


def test_small_negative_ratio_does_not_print_minus_zero() -> None:
    assert format_value(feature("sales_trend_3m_vs_12m"), -0.001) == "0,00"


def test_format_value_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        format_value(feature("in_group"), 2)
    with pytest.raises(ValueError, match="month"):
        format_value(feature("application_month"), 13)
    with pytest.raises(TypeError, match="current_dpd"):
        format_value(feature("current_dpd"), "45")


# ---------------------------------------------------------------------------- reason_text


def test_reason_text_fills_in_the_members_value() -> None:
    f = feature("wajib_months_paid_12m")
    raised = reason_text(f, 8, raises_risk=True)
    assert "8" in raised
    assert raised == "Simpanan wajib hanya disetor 8 dari 12 bulan terakhir."
    assert reason_text(f, 12, raises_risk=False) == (
        "Simpanan wajib disetor 12 dari 12 bulan terakhir."
    )
    assert "{value}" not in reason_text(f, 8, raises_risk=True, lang="en")
    assert "8 of the last 12 months" in reason_text(f, 8, raises_risk=True, lang="en")


def test_reason_text_uses_units_and_language() -> None:
    assert reason_text(feature("current_dpd"), 45, raises_risk=True) == (
        "Pada tanggal pengajuan ada angsuran yang menunggak 45 hari."
    )
    assert reason_text(feature("current_dpd"), 45, raises_risk=True, lang="en") == (
        "At the application date an instalment is 45 days past due."
    )
    assert "Rp 850.000" in reason_text(feature("existing_debt_service"), 850000, True)
    assert "0,42" in reason_text(feature("instalment_to_income"), 0.42, True, "id")
    assert reason_text(feature("loan_purpose"), "modal kerja", False) == (
        "Tujuan pinjaman: modal kerja."
    )


def test_raising_and_lowering_texts_differ_for_constrained_features() -> None:
    for f in CATALOG:
        if f.monotone != 0:
            assert f.raises_risk_id != f.lowers_risk_id, f.name
            assert f.raises_risk_en != f.lowers_risk_en, f.name


def test_interest_rates_keep_their_decimals() -> None:
    rate = feature("flat_monthly_rate")
    assert rate.unit == "rate"
    assert format_value(rate, 0.015) == "1,5%"
    assert format_value(rate, 0.015, "en") == "1.5%"
    assert format_value(rate, 0.0125) == "1,25%"
    assert format_value(rate, 0.02) == "2%"
