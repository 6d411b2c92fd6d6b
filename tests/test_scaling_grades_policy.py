"""Score scaling, grade bands and the decision policy, with hand-computed values."""

from __future__ import annotations

import json
import math
import re
import string

import numpy as np
import pandas as pd
import pytest

from models.grades import GRADE_LABELS, GRADES, GradeBands, NotFittedError
from models.policy import DECISIONS, RULES, DecisionPolicy
from models.scaling import PD_FLOOR, ScoreScale

# ----------------------------------------------------------------------------- scaling


def test_anchor_odds_map_exactly_to_anchor_points() -> None:
    scale = ScoreScale()
    assert scale.score(1 / 51) == pytest.approx(600.0, rel=1e-9)
    assert ScoreScale(anchor_points=500, anchor_odds=20, pdo=50).score(1 / 21) == pytest.approx(
        500.0, rel=1e-9
    )


def test_factor_and_offset_are_the_formula() -> None:
    scale = ScoreScale()
    assert scale.factor == pytest.approx(20 / math.log(2), rel=1e-12)
    assert scale.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50), rel=1e-12)
    assert scale.score(0.5) == pytest.approx(scale.offset, rel=1e-12)  # odds 1:1


def _odds(p: float) -> float:
    return (1 - p) / p


def test_pdo_points_double_the_odds() -> None:
    scale = ScoreScale()
    # odds 100:1 is PD 1/101, odds 200:1 is PD 1/201
    assert scale.score([1 / 101, 1 / 201]) == pytest.approx([620.0, 640.0], rel=1e-9)
    pd_600, pd_620 = scale.pd_from_score([600.0, 620.0])
    assert _odds(pd_620) / _odds(pd_600) == pytest.approx(2.0, rel=1e-9)


def test_higher_risk_lower_score() -> None:
    scores = ScoreScale().score([0.01, 0.05, 0.2, 0.6])
    assert np.all(np.diff(scores) < 0)


def test_score_pd_round_trip() -> None:
    scale = ScoreScale(anchor_points=650, anchor_odds=30, pdo=40)
    pds = np.array([1e-5, 0.001, 0.02, 0.3, 0.5, 0.9, 0.999])
    assert scale.pd_from_score(scale.score(pds)) == pytest.approx(pds, rel=1e-9)
    scores = np.array([[300.0, 500.0], [650.0, 900.0]])
    back = scale.score(scale.pd_from_score(scores))
    assert back.shape == (2, 2)
    assert back == pytest.approx(scores, rel=1e-9)


def test_pd_0_and_1_are_clipped_to_finite_scores() -> None:
    scale = ScoreScale()
    s0, s1 = scale.score([0.0, 1.0])
    assert s0 == pytest.approx(scale.score(PD_FLOOR), rel=1e-12)
    assert s1 == pytest.approx(scale.score(1 - PD_FLOOR), rel=1e-12)
    assert s0 - scale.offset == pytest.approx(scale.offset - s1, rel=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_score_rejects_non_probabilities(bad: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ScoreScale().score([0.1, bad])


def test_invalid_pdo_message_names_the_parameter() -> None:
    expected = "The 'pdo' parameter of ScoreScale must be > 0; got -5 instead."
    with pytest.raises(ValueError, match=re.escape(expected)):
        ScoreScale(pdo=-5)
    with pytest.raises(ValueError, match=re.escape("The 'anchor_odds' parameter of ScoreScale")):
        ScoreScale(anchor_odds=0)
    with pytest.raises(ValueError, match=r"'anchor_points'.*finite"):
        ScoreScale(anchor_points=float("inf"))


def test_scale_dict_round_trip() -> None:
    scale = ScoreScale(anchor_points=620.0, anchor_odds=40.0, pdo=25.0)
    data = json.loads(json.dumps(scale.to_dict()))
    assert data == {"anchor_points": 620.0, "anchor_odds": 40.0, "pdo": 25.0}
    assert ScoreScale.from_dict(data) == scale
    with pytest.raises(ValueError, match="missing \\['pdo'\\]"):
        ScoreScale.from_dict({"anchor_points": 600.0, "anchor_odds": 50.0})


# ----------------------------------------------------------------------------- grades


def _bands(upper: list[float]) -> GradeBands:
    return GradeBands.from_dict({"quantiles": [0.30, 0.55, 0.75, 0.90], "upper": upper})


def test_grades_declared_once_with_labels() -> None:
    assert GRADES == ("A", "B", "C", "D", "E")
    assert set(GRADE_LABELS) == set(GRADES)
    assert GRADE_LABELS["A"] == ("Sangat rendah", "Very low risk")
    assert GRADE_LABELS["E"] == ("Sangat tinggi", "Very high risk")


def test_fit_gives_exact_cut_points() -> None:
    rng = np.random.default_rng(3)
    # 0.55 * 100 is 55.000000000000007 in floating point: the bound must still be 0.55
    hundred = rng.permutation(np.arange(1, 101) / 100)
    assert GradeBands().fit(hundred).upper_.tolist() == [0.30, 0.55, 0.75, 0.90]
    # quantile between two ranks: the smallest PD with at least that share at or below it
    ten = rng.permutation(np.arange(1, 11) / 100)
    assert GradeBands().fit(ten).upper_.tolist() == [0.03, 0.06, 0.08, 0.09]
    custom = GradeBands(quantiles=(0.1, 0.2, 0.5, 0.95)).fit(hundred)
    assert custom.upper_.tolist() == [0.10, 0.20, 0.50, 0.95]


def test_fitted_shares_match_quantiles() -> None:
    pds = np.random.default_rng(5).beta(1, 20, size=2_000)
    bands = GradeBands().fit(pds)
    shares = pd.Series(bands.transform(pds)).value_counts(normalize=True)[list(GRADES)]
    assert shares.cumsum().to_numpy()[:4] == pytest.approx([0.30, 0.55, 0.75, 0.90], abs=1e-3)


def test_tied_quantiles_are_nudged_strictly_increasing() -> None:
    bands = GradeBands().fit([0.02] * 8 + [0.5, 0.6])
    u = bands.upper_
    assert u[0] == 0.02
    assert u[1] == np.nextafter(0.02, 1.0)
    assert u[2] == np.nextafter(u[1], 1.0)
    assert u[3] == 0.5  # the 9th of 10 PDs
    assert np.all(np.diff(u) > 0)
    assert bands.transform([0.02, 0.5, 0.6]).tolist() == ["A", "D", "E"]


def test_transform_boundaries_belong_to_the_lower_grade() -> None:
    bands = _bands([0.30, 0.55, 0.75, 0.90])
    pds = [0.0, 0.30, np.nextafter(0.30, 1.0), 0.55, 0.75, 0.90, 0.9000001, 1.0]
    assert bands.transform(pds).tolist() == ["A", "A", "B", "B", "C", "D", "E", "E"]


def test_grade_bands_errors() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        GradeBands().transform([0.1])
    expected = (
        "The 'quantiles' parameter of GradeBands must be 4 strictly increasing values in "
        "(0, 1); got (0.5, 0.3, 0.75, 0.9) instead."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        GradeBands(quantiles=(0.5, 0.3, 0.75, 0.9)).fit([0.1, 0.2])
    with pytest.raises(ValueError, match="4 strictly"):
        GradeBands(quantiles=(0.3, 0.6)).fit([0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        GradeBands().fit([0.1, float("nan")])


# four members in A, two in B, none in C, four in D, two in E
_OBSERVED_PD = [0.05, 0.05, 0.05, 0.05, 0.15, 0.15, 0.35, 0.35, 0.35, 0.35, 0.5, 0.7]
_MONOTONE_Y = [0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1]


def test_observed_table() -> None:
    table = _bands([0.1, 0.2, 0.3, 0.4]).observed(_OBSERVED_PD, _MONOTONE_Y)
    assert table.index.tolist() == list(GRADES)
    assert table.index.name == "grade"
    assert table["pd_low"].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert table["pd_high"].tolist() == [0.1, 0.2, 0.3, 0.4, 1.0]
    assert table["n"].tolist() == [4, 2, 0, 4, 2]
    assert table["defaults"].tolist() == [1, 1, 0, 3, 2]
    assert table["n"].dtype == np.int64
    rates = table["observed_rate"]
    assert rates[["A", "B", "D", "E"]].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert math.isnan(rates["C"])
    assert table.loc["A", "mean_pd"] == pytest.approx(0.05)
    assert table.loc["E", "mean_pd"] == pytest.approx(0.6)
    assert table["mean_pd"].isna().tolist() == [False, False, True, False, False]


def test_is_monotone_true_and_false() -> None:
    bands = _bands([0.1, 0.2, 0.3, 0.4])
    assert bands.is_monotone(_OBSERVED_PD, _MONOTONE_Y)
    worse_a = [0, 1, 1, 1, *_MONOTONE_Y[4:]]  # A observes 0.75, above B's 0.5
    assert not bands.is_monotone(_OBSERVED_PD, worse_a)
    tie = [0, 0, 1, 1, *_MONOTONE_Y[4:]]  # A 0.5 equals B 0.5: not strictly increasing
    assert not bands.is_monotone(_OBSERVED_PD, tie)


def test_observed_rejects_bad_labels() -> None:
    bands = _bands([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="0/1"):
        bands.observed([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="shape"):
        bands.observed([0.1, 0.2], [0])


def test_grade_bands_dict_round_trip() -> None:
    fitted = GradeBands().fit(np.random.default_rng(1).uniform(0, 0.3, size=500))
    data = json.loads(json.dumps(fitted.to_dict()))
    back = GradeBands.from_dict(data)
    assert back.quantiles == fitted.quantiles
    assert back.upper_.tolist() == fitted.upper_.tolist()
    pds = np.linspace(0, 0.4, 81)
    assert back.transform(pds).tolist() == fitted.transform(pds).tolist()

    unfitted = GradeBands.from_dict(GradeBands(quantiles=(0.2, 0.4, 0.6, 0.8)).to_dict())
    assert unfitted.quantiles == (0.2, 0.4, 0.6, 0.8)
    assert not hasattr(unfitted, "upper_")
    with pytest.raises(ValueError, match="strictly increasing"):
        _bands([0.1, 0.3, 0.2, 0.4])


# ----------------------------------------------------------------------------- policy


def _application(**overrides: object) -> dict[str, object]:
    """Grade A, Rp 5.000.000 over 12 months at 1,5% flat: instalment Rp 491.667/month;
    income Rp 4.000.000 and Rp 200.000 other instalments leave Rp 1.200.000/month."""
    row: dict[str, object] = {
        "grade": "A",
        "pd": 0.02,
        "loan_amount": 5_000_000,
        "tenor_months": 12,
        "flat_monthly_rate": 0.015,
        "estimated_monthly_income": 4_000_000,
        "existing_debt_service": 200_000,
        "months_of_history": 24,
    }
    row.update(overrides)
    return row


def _decide(policy: DecisionPolicy | None = None, **overrides: object) -> pd.Series:
    out = (policy or DecisionPolicy()).decide(pd.DataFrame([_application(**overrides)]))
    assert len(out) == 1
    return out.iloc[0]


def test_hand_arithmetic_of_the_example() -> None:
    # limit 35% of 4.000.000 = 1.400.000, less 200.000 other instalments = 1.200.000/month
    raw = 1_200_000 / (1 / 12 + 0.015)
    assert raw == pytest.approx(12_203_389.83, abs=0.01)
    assert math.floor(raw / 50_000) * 50_000 == 12_200_000
    # 12.200.000 fits (1.199.667/month), one step more (12.250.000) does not (1.204.583)
    assert round(12_200_000 / 12 + 12_200_000 * 0.015) == 1_199_667
    assert round(12_250_000 / 12 + 12_250_000 * 0.015) == 1_204_583


def test_approve_grade_a() -> None:
    row = _decide()
    assert row["decision"] == "approve"
    assert row["rule_codes"] == ["GRADE_APPROVE"]
    assert row["instalment"] == 491_667  # 416.666,67 principal + 75.000 interest
    assert row["max_recommended_amount"] == 12_200_000
    assert (
        row["reason_id"] == "Tingkat risiko A (sangat rendah) memenuhi ketentuan untuk disetujui."
    )
    assert row["reason_en"] == "Risk grade A (very low risk) meets the policy for approval."


def test_refer_grade_c() -> None:
    row = _decide(grade="C")
    assert row["decision"] == "refer"
    assert row["rule_codes"] == ["GRADE_REFER"]
    assert "Tingkat risiko C (sedang)" in row["reason_id"]
    assert "Risk grade C (medium risk)" in row["reason_en"]


def test_decline_grade_e() -> None:
    row = _decide(grade="E")
    assert row["decision"] == "decline"
    assert row["rule_codes"] == ["GRADE_DECLINE"]
    assert "Tingkat risiko E (sangat tinggi)" in row["reason_id"]
    assert row["max_recommended_amount"] == 12_200_000


def test_thin_file_grade_e_is_referred_not_declined() -> None:
    row = _decide(grade="E", months_of_history=3.8)
    assert row["decision"] == "refer"
    assert row["rule_codes"] == ["THIN_FILE", "GRADE_REFER"]
    assert "GRADE_DECLINE" not in row["rule_codes"]
    assert row["reason_id"].startswith(
        "Riwayat transaksi di koperasi baru 3 bulan; perlu ditinjau petugas. Tingkat risiko E"
    )
    assert row["reason_en"].startswith("Only 3 months of transaction history")


def test_thin_file_boundary_and_good_grade() -> None:
    assert _decide(months_of_history=6.0)["rule_codes"] == ["GRADE_APPROVE"]
    row = _decide(months_of_history=5.99)
    assert row["decision"] == "refer"
    assert row["rule_codes"] == ["THIN_FILE", "GRADE_APPROVE"]
    assert _decide(months_of_history=None)["rule_codes"][0] == "THIN_FILE"  # no history


def test_affordability_reduce_gives_the_hand_computed_maximum() -> None:
    # Rp 15.000.000: 1.250.000 + 225.000 = 1.475.000/month, plus 200.000 > 1.400.000
    row = _decide(loan_amount=15_000_000)
    assert row["decision"] == "refer"
    assert row["rule_codes"] == ["AFFORDABILITY_REDUCE", "GRADE_APPROVE"]
    assert row["instalment"] == 1_475_000
    assert row["max_recommended_amount"] == 12_200_000
    assert row["reason_id"].startswith(
        "Angsuran yang diajukan (Rp 1.475.000/bulan) ditambah angsuran lain (Rp 200.000/bulan) "
        "melebihi 35% perkiraan pendapatan usaha (Rp 4.000.000/bulan); jumlah maksimum yang "
        "disarankan Rp 12.200.000. Tingkat risiko A"
    )
    assert "the recommended maximum is Rp 12.200.000." in row["reason_en"]


def test_affordability_text_without_other_debt() -> None:
    row = _decide(loan_amount=15_000_000, existing_debt_service=0)
    # 1.400.000 / (1/12 + 0,015) = 14.237.288 -> Rp 14.200.000
    assert row["max_recommended_amount"] == 14_200_000
    assert row["reason_id"].startswith(
        "Angsuran yang diajukan (Rp 1.475.000/bulan) melebihi 35% perkiraan pendapatan usaha "
        "(Rp 4.000.000/bulan); jumlah maksimum yang disarankan Rp 14.200.000."
    )


def test_affordability_decline_below_minimum_loan() -> None:
    # 35% of 2.000.000 = 700.000, less 650.000 = 50.000/month -> 508.474 -> Rp 500.000
    row = _decide(estimated_monthly_income=2_000_000, existing_debt_service=650_000)
    assert row["decision"] == "decline"
    assert row["rule_codes"] == ["AFFORDABILITY_DECLINE", "GRADE_APPROVE"]
    assert row["max_recommended_amount"] == 500_000
    assert (
        "jumlah yang terjangkau (Rp 500.000) di bawah pinjaman minimum Rp 1.000.000."
        in (row["reason_id"])
    )
    assert "below the minimum loan Rp 1.000.000." in row["reason_en"]


def test_affordability_declines_a_thin_file_too() -> None:
    row = _decide(
        grade="E",
        months_of_history=2,
        estimated_monthly_income=2_000_000,
        existing_debt_service=900_000,
    )
    assert row["decision"] == "decline"
    assert row["rule_codes"] == ["AFFORDABILITY_DECLINE", "THIN_FILE", "GRADE_REFER"]
    assert row["max_recommended_amount"] == 0  # other debts already take more than 35%


def test_instalment_exactly_at_the_limit_fits() -> None:
    # Rp 12.000.000 over 12 months at 1% flat: 1.000.000 + 120.000 = 1.120.000/month;
    # with 280.000 other instalments exactly 35% of Rp 4.000.000
    row = _decide(loan_amount=12_000_000, flat_monthly_rate=0.01, existing_debt_service=280_000)
    assert row["decision"] == "approve"
    assert row["rule_codes"] == ["GRADE_APPROVE"]
    assert row["max_recommended_amount"] == 12_000_000


def test_exact_maximum_survives_float_noise() -> None:
    # Rp 1.000.000 over 10 months at 2% flat is exactly 120.000/month, and 35% of
    # Rp 1.000.000 less 230.000 leaves exactly 120.000; in floating point 120.000 / (1/10 +
    # 0,02) is 999.999,99...: a plain floor would say Rp 950.000 and decline
    row = _decide(
        loan_amount=1_050_000,
        tenor_months=10,
        flat_monthly_rate=0.02,
        estimated_monthly_income=1_000_000,
        existing_debt_service=230_000,
    )
    assert row["max_recommended_amount"] == 1_000_000
    assert row["decision"] == "refer"
    assert row["rule_codes"] == ["AFFORDABILITY_REDUCE", "GRADE_APPROVE"]


@pytest.mark.parametrize("income", [None, 0, -5])
def test_no_income_data_is_referred(income: object) -> None:
    row = _decide(estimated_monthly_income=income, loan_amount=40_000_000)
    assert row["decision"] == "refer"
    assert row["rule_codes"] == ["NO_INCOME_DATA", "GRADE_APPROVE"]
    assert row["max_recommended_amount"] is pd.NA
    assert row["reason_id"].startswith("Belum ada data pendapatan usaha")


def test_decline_grade_with_other_rules_orders_most_decisive_first() -> None:
    row = _decide(grade="D", loan_amount=15_000_000, estimated_monthly_income=None)
    assert row["decision"] == "decline"
    assert row["rule_codes"] == ["GRADE_DECLINE", "NO_INCOME_DATA"]
    first, second = RULES["GRADE_DECLINE"], RULES["NO_INCOME_DATA"]
    assert row["reason_en"].startswith(first.text_en.format(grade="D", grade_label="high risk"))
    assert row["reason_en"].endswith(second.text_en)


def test_score_only_row_has_no_instalment_and_no_affordability_rule() -> None:
    row = _decide(loan_amount=None, tenor_months=None, flat_monthly_rate=None)
    assert row["decision"] == "approve"
    assert row["rule_codes"] == ["GRADE_APPROVE"]
    assert row["instalment"] is pd.NA
    assert row["max_recommended_amount"] is pd.NA


def test_decide_frame_keeps_index_and_types() -> None:
    frame = pd.DataFrame(
        [_application(), _application(grade="C"), _application(grade="E")],
        index=pd.Index(["m-7", "m-3", "m-9"], name="request_id"),
    )
    out = DecisionPolicy().decide(frame)
    assert out.index.equals(frame.index)
    assert out.columns.tolist() == [
        "decision",
        "rule_codes",
        "reason_id",
        "reason_en",
        "max_recommended_amount",
        "instalment",
    ]
    assert out["decision"].tolist() == ["approve", "refer", "decline"]
    assert str(out["instalment"].dtype) == "Int64"
    assert str(out["max_recommended_amount"].dtype) == "Int64"
    assert DecisionPolicy().decide(frame.iloc[:0]).empty


def test_decide_input_errors() -> None:
    with pytest.raises(ValueError, match="months_of_history"):
        DecisionPolicy().decide(pd.DataFrame([_application()]).drop(columns="months_of_history"))
    with pytest.raises(ValueError, match="Unknown grades \\['F'\\]"):
        _decide(grade="F")
    with pytest.raises(ValueError, match="tenor_months must be > 0"):
        _decide(tenor_months=0)


def test_percent_is_written_the_indonesian_way() -> None:
    policy = DecisionPolicy(max_debt_service_to_income=0.335)
    row = _decide(policy, loan_amount=15_000_000)
    assert "melebihi 33,5% perkiraan" in row["reason_id"]
    assert "exceeds 33.5% of estimated" in row["reason_en"]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_rules_are_declared_once_with_matching_texts() -> None:
    assert set(RULES) == {
        "GRADE_APPROVE",
        "GRADE_REFER",
        "GRADE_DECLINE",
        "THIN_FILE",
        "NO_INCOME_DATA",
        "AFFORDABILITY_REDUCE",
        "AFFORDABILITY_DECLINE",
        "OUTSIDE_EXPERIENCE",
    }
    assert DECISIONS == ("approve", "refer", "decline")
    for code, rule in RULES.items():
        assert rule.code == code
        assert rule.decision in DECISIONS
        assert _placeholders(rule.text_id) == _placeholders(rule.text_en), code
        assert "score" not in rule.text_en.lower()  # never "score too low"


def test_policy_parameter_validation() -> None:
    expected = (
        "The 'max_debt_service_to_income' parameter of DecisionPolicy must be in (0, 1]; "
        "got 1.5 instead."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        DecisionPolicy(max_debt_service_to_income=1.5)
    with pytest.raises(ValueError, match="exactly once"):
        DecisionPolicy(refer_grades=("B", "C"))
    with pytest.raises(ValueError, match="exactly once"):
        DecisionPolicy(decline_grades=("D",))
    with pytest.raises(ValueError, match=r"'amount_step' parameter .* an int > 0"):
        DecisionPolicy(amount_step=0)


def test_policy_dict_round_trip() -> None:
    policy = DecisionPolicy(
        version="2026.12-2",
        approve_grades=("A",),
        refer_grades=("B", "C"),
        max_debt_service_to_income=0.3,
        min_loan=500_000,
    )
    data = json.loads(json.dumps(policy.to_dict()))
    assert data["approve_grades"] == ["A"]
    assert data["version"] == "2026.12-2"
    assert DecisionPolicy.from_dict(data) == policy
    assert DecisionPolicy.from_dict(DecisionPolicy().to_dict()) == DecisionPolicy()
    with pytest.raises(ValueError, match="unknown \\['cutoff'\\]"):
        DecisionPolicy.from_dict({**data, "cutoff": 1})


def test_outside_experience_rule_refers_and_names_the_features() -> None:
    rule = RULES["OUTSIDE_EXPERIENCE"]
    assert (rule.code, rule.decision) == ("OUTSIDE_EXPERIENCE", "refer")
    assert _placeholders(rule.text_id) == _placeholders(rule.text_en) == {"features"}
    assert "score" not in rule.text_en.lower()
    # listed before the other referring rules: the grade itself is the extrapolation
    frame = pd.DataFrame([_application(months_of_history=3)])
    out = DecisionPolicy().decide(frame, outside_experience=[["membership_months"]])
    assert out.iloc[0]["rule_codes"] == ["OUTSIDE_EXPERIENCE", "THIN_FILE", "GRADE_APPROVE"]
    assert "membership_months" in out.iloc[0]["reason_id"]
