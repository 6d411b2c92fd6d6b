"""Tests for features.catalog: declarations, lookups, value formatting and reason texts."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict
from typing import Any

import pytest

from features.catalog import (
    CATALOG,
    PROTECTED_ATTRIBUTES,
    Feature,
    FiveC,
    Lang,
    RiskFactor,
    _check_catalog,
    catalog_from_records,
    catalog_records,
    categorical_names,
    feature,
    feature_names,
    format_value,
    generic_feature,
    improve_text,
    missing_text,
    monotone_constraints,
    reason_text,
)
from features.generator.simulate import TRUE_DRIVERS
from features.wording import Lang as WordingLang

# ---------------------------------------------------------------------------- declarations


def test_catalog_size_and_unique_names() -> None:
    names = feature_names()
    assert 40 <= len(CATALOG) <= 80
    assert len(names) == len(CATALOG) == 54
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
        ("membership_months", 1, "1 bulan", "1 month"),
        ("membership_months", 0.6, "1 bulan", "1 month"),
        ("membership_months", 0, "0 bulan", "0 months"),
        ("current_dpd", 45, "45 hari", "45 days"),
        ("current_dpd", 1, "1 hari", "1 day"),
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


# ---------------------------------------------------------------------------- risk factors


def test_risk_factor_values_and_labels() -> None:
    assert [r.value for r in RiskFactor] == [
        "repayment_discipline",
        "affordability",
        "seasonality",
        "income_volatility",
        "group",
        "thin_file",
        "local_conditions",
        "savings",
        "loan_terms",
        "other",
    ]
    assert [r.label_id for r in RiskFactor] == [
        "Disiplin membayar",
        "Kemampuan membayar angsuran",
        "Musim",
        "Naik-turun pendapatan",
        "Kelompok tanggung renteng",
        "Riwayat belum cukup",
        "Kondisi setempat",
        "Tabungan",
        "Syarat pinjaman",
        "Lainnya",
    ]
    assert [r.label_en for r in RiskFactor] == [
        "Repayment discipline",
        "Affordability",
        "Seasonality",
        "Income volatility",
        "Joint-liability group",
        "Thin file",
        "Local conditions",
        "Savings",
        "Loan terms",
        "Other",
    ]
    assert RiskFactor("savings") is RiskFactor.SAVINGS
    # "other" is for bring-your-own tables only
    assert {f.risk_factor for f in CATALOG} == set(RiskFactor) - {RiskFactor.OTHER}


def test_evidence_flags_name_flag_features() -> None:
    flagged = {f.name: f.evidence for f in CATALOG if f.evidence is not None}
    assert flagged["late_instalments_6m"] == "has_prior_loan"
    assert flagged["group_members_in_arrears"] == "in_group"
    assert all(feature(str(e)).unit == "flag" for e in flagged.values())
    late = feature("late_instalments_6m")
    flag = dataclasses.replace(feature("has_prior_loan"))
    assert _check_catalog([dataclasses.replace(late, family=late.name), flag])
    not_a_flag = dataclasses.replace(late, family=late.name, evidence="membership_months")
    with pytest.raises(ValueError, match="must be a 0/1"):
        _check_catalog([not_a_flag, feature("membership_months"), flag])


def test_capped_by_names_a_thin_file_count_of_months_and_needs_a_window() -> None:
    wajib = feature("wajib_months_paid_12m")
    assert wajib.capped_by == "membership_months" and wajib.window_months == 12
    lone = dataclasses.replace(wajib, family=wajib.name)
    membership = feature("membership_months")
    history = dataclasses.replace(membership, family=membership.name)
    assert _check_catalog([lone, history])
    for bad in ("has_prior_loan", "total_savings", "nope"):
        others = [history, feature("has_prior_loan"), feature("total_savings")]
        with pytest.raises(ValueError, match="must be a thin-file feature of the catalog"):
            _check_catalog([dataclasses.replace(lone, capped_by=bad), *others])
    with pytest.raises(ValueError, match="needs window_months"):
        _check_catalog([dataclasses.replace(lone, window_months=None), history])


def test_a_generic_feature_explains_a_bring_your_own_column() -> None:
    f = generic_feature("age", categorical=False, monotone=-1)
    assert f.risk_factor is RiskFactor.OTHER and f.monotone == -1
    assert reason_text(f, 35.5, True, "en") == "age: 35.50 (raises the risk)."
    assert generic_feature("job", categorical=True, monotone=0).unit == "category"
    _check_catalog([f])


def test_the_generators_true_drivers_map_to_their_risk_factors() -> None:
    expected = {
        "discipline": RiskFactor.REPAYMENT_DISCIPLINE,
        "affordability": RiskFactor.AFFORDABILITY,
        "seasonality": RiskFactor.SEASONALITY,
        "volatility": RiskFactor.INCOME_VOLATILITY,
        "group": RiskFactor.GROUP,
        "thin_file": RiskFactor.THIN_FILE,
        "city": RiskFactor.LOCAL_CONDITIONS,
    }
    assert set(TRUE_DRIVERS) == set(expected)
    for driver, name in TRUE_DRIVERS.items():
        assert feature(name).risk_factor is expected[driver], (driver, name)


@pytest.mark.parametrize(
    ("name", "factor"),
    [
        ("late_instalments_12m", RiskFactor.REPAYMENT_DISCIPLINE),
        ("prior_loans_defaulted", RiskFactor.REPAYMENT_DISCIPLINE),
        ("wajib_typical_pay_day_24m", RiskFactor.REPAYMENT_DISCIPLINE),
        ("sembako_credit_share_24m", RiskFactor.REPAYMENT_DISCIPLINE),
        # sukarela drawn just before a due date: how an instalment is met, not savings
        ("withdrawals_before_due_12m", RiskFactor.REPAYMENT_DISCIPLINE),
        ("debt_service_to_income", RiskFactor.AFFORDABILITY),
        ("estimated_monthly_income", RiskFactor.AFFORDABILITY),
        ("sales_trend_3m_vs_12m", RiskFactor.INCOME_VOLATILITY),
        ("group_share_in_arrears", RiskFactor.GROUP),
        ("in_group", RiskFactor.GROUP),
        ("membership_months", RiskFactor.THIN_FILE),
        ("has_prior_loan", RiskFactor.THIN_FILE),
        ("application_month", RiskFactor.SEASONALITY),
        # when the loan's instalments fall in the season of her line of business
        ("term_sales_index", RiskFactor.SEASONALITY),
        ("sukarela_withdrawals_6m", RiskFactor.SAVINGS),
        ("total_savings", RiskFactor.SAVINGS),
        ("avg_monthly_sales_6m", RiskFactor.AFFORDABILITY),
        ("sembako_spend_12m", RiskFactor.AFFORDABILITY),
        ("loan_product", RiskFactor.LOAN_TERMS),
        ("tenor_months", RiskFactor.LOAN_TERMS),
        # the instalment a larger amount brings is paid from the member's income
        ("loan_amount", RiskFactor.AFFORDABILITY),
    ],
)
def test_selected_risk_factors(name: str, factor: RiskFactor) -> None:
    assert feature(name).risk_factor is factor


def test_thin_file_features_speak_to_the_thin_file_factor() -> None:
    for f in CATALOG:
        if f.thin_file:
            assert f.risk_factor is RiskFactor.THIN_FILE, f.name


# ---------------------------------------------------------------------------- families


def _families() -> dict[str, list[Feature]]:
    out: defaultdict[str, list[Feature]] = defaultdict(list)
    for f in CATALOG:
        out[f.family].append(f)
    return dict(out)


def test_every_family_shares_its_risk_factor_and_five_c_group() -> None:
    for family, members in _families().items():
        assert len({m.risk_factor for m in members}) == 1, family
        assert len({m.group for m in members}) == 1, family


def test_a_lone_feature_is_its_own_family() -> None:
    for family, members in _families().items():
        if len(members) == 1:
            assert family == members[0].name
        else:
            assert family not in feature_names(), family


def test_declared_families() -> None:
    multi = {
        family: [m.name for m in members]
        for family, members in _families().items()
        if len(members) > 1
    }
    assert multi == {
        "instalment_punctuality": [
            "share_instalments_on_time_6m",
            "share_instalments_on_time_12m",
            "late_instalments_6m",
            "late_instalments_12m",
        ],
        "wajib_paid": [
            "wajib_months_paid_12m",
            "share_wajib_months_paid_12m",
            "longest_wajib_streak_24m",
            "wajib_months_owed",
        ],
        "wajib_pay_day": ["wajib_typical_pay_day_12m", "wajib_typical_pay_day_24m"],
        "history_length": ["membership_months", "months_of_history"],
        "sales_level": ["avg_monthly_sales_3m", "avg_monthly_sales_6m", "avg_monthly_sales_12m"],
        "sembako_spend": ["sembako_spend_3m", "sembako_spend_12m"],
        "instalment_burden": ["instalment_to_income", "debt_service_to_income"],
        "group_arrears": ["group_members_in_arrears", "group_share_in_arrears"],
    }


# ---------------------------------------------------------------------------- improve / missing


def test_every_improve_and_missing_text_is_written_without_placeholders() -> None:
    for f in CATALOG:
        for text in (f.improve_id, f.improve_en, f.missing_id, f.missing_en):
            assert text.strip() == text and len(text) > 20, (f.name, text)
            assert "{" not in text and "}" not in text, (f.name, text)
            assert text.endswith("."), (f.name, text)
            assert "skor" not in text.lower() and "score" not in text.lower(), f.name
        assert f.improve_id != f.improve_en and f.missing_id != f.missing_en, f.name


def test_improve_and_missing_text_by_language() -> None:
    f = feature("share_instalments_on_time_12m")
    assert improve_text(f) == improve_text(f, "id") == f.improve_id
    assert improve_text(f, "en") == f.improve_en
    assert missing_text(f, "id") == (
        "Belum ada angsuran yang jatuh tempo dalam 12 bulan terakhir, sehingga ketepatan "
        "membayar belum dapat dinilai."
    )
    assert missing_text(f, "en") == f.missing_en
    assert "petugas" in improve_text(feature("coop_arrears_rate_3m"))
    assert "di luar kendali anggota" in improve_text(feature("coop_arrears_rate_3m"))
    assert "lebih kecil" in improve_text(feature("loan_amount"))
    assert "riwayat transaksi belum cukup" in missing_text(feature("months_of_history"))


def test_lang_is_the_wording_lang() -> None:
    assert Lang is WordingLang


# ---------------------------------------------------------------------------- as data


def test_every_feature_round_trips_through_a_dict_and_json() -> None:
    for f in CATALOG:
        d = f.to_dict()
        assert list(d) == [fld.name for fld in dataclasses.fields(Feature)]
        assert d["group"] == f.group.value and type(d["group"]) is str
        assert d["risk_factor"] == f.risk_factor.value and type(d["risk_factor"]) is str
        assert Feature.from_dict(d) == f
        assert Feature.from_dict(json.loads(json.dumps(d))) == f


def test_catalog_records_round_trip_through_json() -> None:
    records = catalog_records()
    assert len(records) == len(CATALOG)
    assert [r["name"] for r in records] == feature_names()
    rebuilt = catalog_from_records(json.loads(json.dumps(records)))
    assert rebuilt == CATALOG
    assert catalog_records(rebuilt[:2]) == records[:2]
    # a rebuilt catalog explains as the declared one does
    f = rebuilt[feature_names().index("existing_debt_service")]
    assert reason_text(f, 850000, True) == reason_text(
        feature("existing_debt_service"), 850000, True
    )


def test_from_dict_refuses_a_missing_key_naming_it() -> None:
    d = feature("current_dpd").to_dict()
    del d["improve_en"]
    with pytest.raises(ValueError, match=r"missing \['improve_en'\], unknown \[\]"):
        Feature.from_dict(d)


def test_from_dict_refuses_an_unknown_key_naming_it() -> None:
    d = feature("current_dpd").to_dict() | {"colour": "red"}
    with pytest.raises(ValueError, match=r"missing \[\], unknown \['colour'\]"):
        Feature.from_dict(d)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("group", "charisma"),
        ("risk_factor", "luck"),
        ("monotone", 2),
        ("monotone", True),
        ("dtype", "int"),
        ("unit", "litres"),
        ("window_months", "12"),
        ("thin_file", "false"),
        ("missing_id", None),
        ("capped_by", 12),
    ],
)
def test_from_dict_refuses_bad_values_naming_the_key(key: str, value: object) -> None:
    d = feature("current_dpd").to_dict() | {key: value}
    with pytest.raises(ValueError, match=f"'{key}' of stored feature 'current_dpd'"):
        Feature.from_dict(d)


def _fake(name: str, **changes: Any) -> Feature:
    """A copy of a real declaration under another name, its own family unless changed."""
    base = {"name": name, "family": name, "evidence": None}
    return dataclasses.replace(feature("current_dpd"), **(base | changes))


def test_check_catalog_refuses_a_family_with_mixed_risk_factors() -> None:
    a = _fake("a_6m", family="a")
    b = _fake("a_12m", family="a", risk_factor=RiskFactor.SAVINGS)
    assert _check_catalog([a, _fake("a_12m", family="a")])  # one factor: fine
    with pytest.raises(ValueError, match="family 'a' mixes risk_factor values: a_6m "):
        _check_catalog([a, b])
    with pytest.raises(ValueError, match="mixes risk_factor"):
        catalog_from_records([a.to_dict(), b.to_dict()])


def test_check_catalog_refuses_a_family_with_mixed_five_c_groups() -> None:
    a = _fake("a_6m", family="a")
    b = _fake("a_12m", family="a", group=FiveC.CAPACITY)
    with pytest.raises(ValueError, match="family 'a' mixes group values"):
        _check_catalog([a, b])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"improve_id": "  "}, "needs improve and missing texts"),
        ({"missing_en": ""}, "needs improve and missing texts"),
        ({"improve_en": "Pay {value} sooner."}, "no placeholder"),
        ({"missing_id": "Belum ada {data}."}, "no placeholder"),
        ({"family": ""}, "needs a family"),
        ({"family": "something_else"}, "alone in family"),
        ({"thin_file": True}, "thin-file feature 'x' must have the risk factor 'thin_file'"),
        ({"raises_risk_en": "No value here."}, "exactly once"),
    ],
)
def test_check_catalog_refuses_bad_declarations(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _check_catalog([_fake("x", **changes)])


def test_check_catalog_refuses_a_family_named_after_a_feature() -> None:
    with pytest.raises(ValueError, match="named after a feature"):
        _check_catalog([_fake("a", family="a"), _fake("b", family="a")])


def test_catalog_from_records_refuses_an_empty_catalog_and_duplicates() -> None:
    with pytest.raises(ValueError, match="at least one feature"):
        catalog_from_records([])
    record = feature("current_dpd").to_dict()
    with pytest.raises(ValueError, match="declared twice"):
        catalog_from_records([record, record])


def test_format_value_works_for_every_feature_and_language() -> None:
    langs: tuple[Lang, ...] = ("id", "en")
    examples: dict[str, float | str] = {"category": "modal kerja", "month_of_year": 3, "flag": 1}
    for f in CATALOG:
        value = examples.get(f.unit, 0.5)
        for lang in langs:
            for raises in (True, False):
                text = reason_text(f, value, raises, lang)
                assert "{value}" not in text and text, f.name
