"""The model's experience: hand-made applicants inside and outside what training saw, and
the policy that sends the outside ones to an officer."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.catalog import feature
from models.experience import (
    KINDS,
    Experience,
    Kind,
    Outside,
    feature_labels,
    outside_labels,
    outside_names,
)
from models.model_input import ModelInput
from models.policy import RULES, DecisionPolicy, decisions_frame

FEATURES = [
    "membership_months",  # 2 .. 60 in training
    "estimated_monthly_income",  # 0.1 + 0.2 .. 1/3 * 1e7: edges that are not round
    "business_sector",  # dagang, tani
    "in_group",  # always 1 in training: constant
    "group_size",  # always missing in training
]
CATEGORIES = {"business_sector": ["dagang", "tani"]}
LOW_INCOME = 0.1 + 0.2  # 0.30000000000000004: an edge that must round-trip exactly
HIGH_INCOME = 1 / 3 * 1e7


def _training() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "membership_months": [2.0, 12.0, np.nan, 60.0, 30.0],
            "estimated_monthly_income": [LOW_INCOME, 2e6, HIGH_INCOME, np.nan, 1e6],
            "business_sector": ["dagang", "tani", None, "tani", "dagang"],
            "in_group": [1.0, 1.0, 1.0, np.nan, 1.0],
            "group_size": [np.nan] * 5,
        }
    )


INPUTS = ModelInput(FEATURES, CATEGORIES)
EXPERIENCE = Experience.fit(INPUTS, INPUTS.matrix(_training()))

INSIDE: dict[str, Any] = {
    "membership_months": 24.0,
    "estimated_monthly_income": 3e6,
    "business_sector": "tani",
    "in_group": 1.0,
    "group_size": None,
}


def _applicant(**changes: Any) -> dict[str, Any]:
    return {**INSIDE, **changes}


def _check_records(records: list[dict[str, Any]]) -> list[tuple[Outside, ...]]:
    return EXPERIENCE.check(*INPUTS.matrix_from_records_with_unseen(records))


def _check_one(**changes: Any) -> tuple[Outside, ...]:
    return _check_records([_applicant(**changes)])[0]


# ----------------------------------------------------------------------------- fitting


def test_fit_records_range_constant_and_never_seen() -> None:
    assert EXPERIENCE.features == tuple(FEATURES)
    assert EXPERIENCE.categorical == ("business_sector",)
    assert EXPERIENCE.bounds("membership_months") == (2.0, 60.0)
    assert EXPERIENCE.bounds("estimated_monthly_income") == (LOW_INCOME, HIGH_INCOME)
    assert EXPERIENCE.bounds("business_sector") == (None, None)
    assert EXPERIENCE.bounds("in_group") == (1.0, 1.0)
    assert EXPERIENCE.bounds("group_size") == (None, None)


def test_fit_needs_rows_of_the_model_inputs() -> None:
    with pytest.raises(ValueError, match="rows >= 1"):
        Experience.fit(INPUTS, np.empty((0, len(FEATURES))))
    with pytest.raises(ValueError, match="rows >= 1"):
        Experience.fit(INPUTS, np.zeros((3, 2)))


# ----------------------------------------------------------------------------- hand-made


def test_an_applicant_like_training_is_inside() -> None:
    assert _check_one() == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"membership_months": 61.0}, [("membership_months", "above_range")]),
        ({"membership_months": 1.5}, [("membership_months", "below_range")]),
        ({"estimated_monthly_income": 0.3}, [("estimated_monthly_income", "below_range")]),
        (
            {"estimated_monthly_income": math.nextafter(HIGH_INCOME, math.inf)},
            [("estimated_monthly_income", "above_range")],
        ),
        ({"membership_months": math.inf}, [("membership_months", "above_range")]),
        ({"business_sector": "jasa"}, [("business_sector", "unseen_category")]),
        ({"business_sector": ""}, [("business_sector", "unseen_category")]),
        ({"business_sector": "Tani"}, [("business_sector", "unseen_category")]),
        ({"in_group": 0.0}, [("in_group", "constant_in_training")]),
        ({"in_group": 2.0}, [("in_group", "constant_in_training")]),
        ({"group_size": 5.0}, [("group_size", "never_seen_value")]),
        ({"group_size": 0.0}, [("group_size", "never_seen_value")]),
        (
            {"membership_months": 100.0, "business_sector": "jasa", "group_size": 3.0},
            [
                ("membership_months", "above_range"),
                ("business_sector", "unseen_category"),
                ("group_size", "never_seen_value"),
            ],
        ),
    ],
)
def test_outside_is_named_with_why(
    changes: dict[str, Any], expected: list[tuple[str, Kind]]
) -> None:
    assert list(_check_one(**changes)) == [Outside(f, k) for f, k in expected]


@pytest.mark.parametrize(
    "changes",
    [
        {"membership_months": 2.0},
        {"membership_months": 60.0},
        {"estimated_monthly_income": LOW_INCOME},
        {"estimated_monthly_income": HIGH_INCOME},
        {"in_group": 1.0},
        {"business_sector": "dagang"},
    ],
)
def test_exactly_the_training_edges_are_inside(changes: dict[str, Any]) -> None:
    assert _check_one(**changes) == ()


@pytest.mark.parametrize("gone", [None, np.nan, pd.NA])
def test_missing_values_are_never_outside(gone: object) -> None:
    every = dict.fromkeys(FEATURES, gone)
    assert _check_records([every]) == [()]
    assert EXPERIENCE.check_frame(INPUTS, pd.DataFrame([every] * 12, dtype=object)) == [()] * 12


def test_outside_travels_as_a_json_object() -> None:
    (found,) = _check_one(group_size=2.0)
    assert json.loads(json.dumps(found.to_dict())) == {
        "feature": "group_size",
        "kind": "never_seen_value",
    }


def test_every_kind_is_reachable() -> None:
    seen = {
        o.kind
        for changes in (
            {"membership_months": 99.0},
            {"membership_months": 0.0},
            {"business_sector": "jasa"},
            {"in_group": 0.0},
            {"group_size": 4.0},
        )
        for o in _check_one(**changes)
    }
    assert seen == set(KINDS)


# ----------------------------------------------------------------------------- paths agree

MIXED: list[dict[str, Any]] = [
    _applicant(),
    _applicant(membership_months=61.0),
    _applicant(membership_months=2.0),
    _applicant(estimated_monthly_income=0.25, business_sector="jasa"),
    _applicant(in_group=0.0),
    _applicant(group_size=7.0),
    _applicant(membership_months=None, business_sector=None, in_group=None),
    _applicant(membership_months=-1.0, estimated_monthly_income=HIGH_INCOME * 2),
    _applicant(business_sector="perikanan", group_size=1.0, in_group=3.0),
    _applicant(estimated_monthly_income=HIGH_INCOME),
    _applicant(membership_months=60.0000001),
    _applicant(),
]


def test_batch_records_and_single_rows_agree() -> None:
    frame = pd.DataFrame(MIXED)
    assert len(frame) > 8  # the batch (numpy) path, not the few-rows one
    X, unseen = INPUTS.matrix_with_unseen(frame)
    Xr, unseen_r = INPUTS.matrix_from_records_with_unseen(MIXED)
    np.testing.assert_array_equal(X, Xr)
    np.testing.assert_array_equal(unseen, unseen_r)
    batch = EXPERIENCE.check(X, unseen)
    one_by_one = [EXPERIENCE.check(X[i : i + 1], unseen[i : i + 1])[0] for i in range(len(X))]
    assert batch == one_by_one == EXPERIENCE.check_frame(INPUTS, frame)
    assert [bool(row) for row in batch] == [
        False, True, False, True, True, True, False, True, True, False, True, False
    ]  # fmt: skip
    assert batch[8] == (
        Outside("business_sector", "unseen_category"),
        Outside("in_group", "constant_in_training"),
        Outside("group_size", "never_seen_value"),
    )


def test_unseen_mask_marks_only_present_unknown_categories() -> None:
    frame = pd.DataFrame(MIXED)
    X, unseen = INPUTS.matrix_with_unseen(frame)
    np.testing.assert_array_equal(X, INPUTS.matrix(frame))  # matrix itself is unchanged
    np.testing.assert_array_equal(X, INPUTS.matrix_from_records(MIXED))
    sector = FEATURES.index("business_sector")
    assert np.flatnonzero(unseen[:, sector]).tolist() == [3, 8]
    assert not unseen[:, [j for j in range(len(FEATURES)) if j != sector]].any()
    assert np.isnan(X[[3, 6, 8], sector]).all()  # unseen and missing alike go to NaN
    few = INPUTS.matrix_with_unseen(frame.iloc[:4])  # the few-rows path of a frame
    np.testing.assert_array_equal(few[1], unseen[:4])


# ----------------------------------------------------------------------------- storage


def test_dict_round_trip_is_exact_through_json() -> None:
    data = json.loads(json.dumps(EXPERIENCE.to_dict()))
    back = Experience.from_dict(data)
    assert back == EXPERIENCE
    assert back.bounds("estimated_monthly_income") == (LOW_INCOME, HIGH_INCOME)
    assert back.check(*INPUTS.matrix_from_records_with_unseen(MIXED)) == _check_records(MIXED)
    with pytest.raises(ValueError, match="exactly the keys"):
        Experience.from_dict({**data, "tolerance": 0.0})
    with pytest.raises(ValueError, match="invalid range"):
        Experience.from_dict({**data, "low": [61.0, *data["low"][1:]]})
    with pytest.raises(ValueError, match="numbers or None"):
        Experience.from_dict({**data, "low": ["2", *data["low"][1:]]})


# ----------------------------------------------------------------------------- property

_VALUES = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([0.0, -0.0, 1.0, 5e-324, 1e308]),
)


@st.composite
def _training_tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 30))
    numeric = draw(st.integers(1, 4))
    columns: dict[str, list[Any]] = {}
    for k in range(numeric):
        kind = draw(st.sampled_from(["any", "constant", "missing"]))
        if kind == "any":
            columns[f"x{k}"] = draw(st.lists(_VALUES, min_size=rows, max_size=rows))
        elif kind == "constant":
            value = draw(_VALUES)
            columns[f"x{k}"] = [value if draw(st.booleans()) else None for _ in range(rows)]
        else:
            columns[f"x{k}"] = [None] * rows
    words = st.one_of(st.none(), st.sampled_from(["a", "b", "kios", "tani"]))
    columns["c"] = draw(st.lists(words, min_size=rows, max_size=rows))
    return pd.DataFrame(columns).astype({f"x{k}": float for k in range(numeric)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_training_tables())
def test_every_training_row_is_inside_its_own_experience(train: pd.DataFrame) -> None:
    categories = {"c": sorted(str(v) for v in train["c"].dropna().unique())}
    inputs = ModelInput(list(train.columns), categories)
    experience = Experience.fit(inputs, inputs.matrix(train))
    stored = Experience.from_dict(json.loads(json.dumps(experience.to_dict())))
    records = [
        {str(k): v for k, v in r.items()}
        for r in train.astype(object).where(train.notna(), None).to_dict("records")
    ]
    for e in (experience, stored):
        assert e.check_frame(inputs, train) == [()] * len(train)
        assert e.check(*inputs.matrix_from_records_with_unseen(records)) == [()] * len(train)


# ----------------------------------------------------------------------------- policy


LABELS = feature_labels([feature("membership_months"), feature("business_sector")])


def _decide(outside: list[list[str]], grade: str = "A", **terms: float) -> dict[str, Any]:
    """The policy on applications whose outside features are given by name: those in
    LABELS go to the policy by their labels, the others by their names."""
    n = len(outside)
    values = {
        "loan_amount": 5_000_000.0,
        "tenor_months": 12.0,
        "flat_monthly_rate": 0.015,
        "estimated_monthly_income": 4_000_000.0,
        "existing_debt_service": 0.0,
        "months_of_history": 24.0,
        **terms,
    }
    return DecisionPolicy().decide_arrays(
        np.array([grade] * n, dtype=object),
        np.full(n, _PD[grade]),
        {k: np.full(n, v) for k, v in values.items()},
        outside_experience=[[LABELS.get(name, name) for name in row] for row in outside],
    )


# a PD per grade letter: A and B approved by risk, C in the refer band, E declined, for
# the standard loan (Rp 5.000.000, 12 months, 1,5% flat: approve up to 15,7%, decline
# above 18,9%)
_PD = {"A": 0.01, "B": 0.03, "C": 0.16, "E": 0.30}
_TERMS = ("loan_amount", "tenor_months", "flat_monthly_rate", "estimated_monthly_income",
          "existing_debt_service", "months_of_history")  # fmt: skip


def _standard(n: int) -> dict[str, np.ndarray]:
    return {
        k: np.full(n, v) for k, v in zip(_TERMS, (5e6, 12.0, 0.015, 4e6, 0.0, 24.0), strict=True)
    }


def test_an_approve_outside_experience_becomes_refer_naming_the_features() -> None:
    checked = _check_records([_applicant(membership_months=200.0), _applicant()])
    assert outside_names(checked) == [["membership_months"], []]
    out = DecisionPolicy().decide_arrays(
        np.array(["A", "A"], dtype=object),
        np.full(2, _PD["A"]),
        _standard(2),
        outside_experience=outside_labels(checked, LABELS),
    )
    assert out["decision"].tolist() == ["refer", "approve"]
    assert out["rule_codes"] == [["OUTSIDE_EXPERIENCE", "RISK_APPROVE"], ["RISK_APPROVE"]]
    rule = RULES["OUTSIDE_EXPERIENCE"]
    assert out["reason_id"][0] == (
        "Data berikut berada di luar pengalaman model (di luar yang terlihat pada data "
        "pelatihannya), sehingga hasilnya perlu ditinjau petugas: Lama keanggotaan di "
        "koperasi, dalam bulan sejak bergabung. "
        + RULES["RISK_APPROVE"].text_id.format(
            pd="1%", grade="A", grade_label="sangat rendah", pd_approve="15,7%"
        )
    )
    assert out["reason_en"][0].startswith(
        rule.text_en.format(features="Months since the member joined the cooperative")
    )
    assert "luar pengalaman" not in out["reason_id"][1]
    assert "experience" not in out["reason_en"][1]


def test_several_features_are_listed_and_unlabelled_ones_by_name() -> None:
    out = _decide([["membership_months", "business_sector", "group_size"]])
    assert out["decision"].tolist() == ["refer"]
    assert (
        "Lama keanggotaan di koperasi, dalam bulan sejak bergabung; Sektor usaha anggota; "
        "group_size." in out["reason_id"][0]
    )
    assert (
        "Months since the member joined the cooperative; The member's business sector; "
        "group_size." in out["reason_en"][0]
    )
    plain = _decide([["in_group"], ["group_size"], ["in_group"]])
    assert [t.split("review the result: ")[1].split(" ")[0] for t in plain["reason_en"]] == [
        "in_group.",
        "group_size.",
        "in_group.",
    ]  # each row names its own features, in one batch


def test_outside_experience_may_be_an_object_column_and_is_checked() -> None:
    column = pd.Series([[], [LABELS["business_sector"]]]).to_numpy()
    out = DecisionPolicy().decide_arrays(
        np.array(["B", "B"], dtype=object),
        np.full(2, _PD["B"]),
        _standard(2),
        outside_experience=column,
        langs=("en",),
    )
    assert out["decision"].tolist() == ["approve", "refer"]
    assert out["reason_en"][1].startswith(
        RULES["OUTSIDE_EXPERIENCE"].text_en.format(features="The member's business sector")
    )
    assert "reason_id" not in out
    with pytest.raises(ValueError, match="a name or an"):
        _decide_raw([[{"id": "Sektor usaha anggota"}]])
    with pytest.raises(ValueError, match="one entry per application"):
        _decide_raw([[], [], []])


def _decide_raw(outside: Any) -> dict[str, Any]:
    return DecisionPolicy().decide_arrays(
        np.array(["A"], dtype=object),
        np.full(1, _PD["A"]),
        _standard(1),
        outside_experience=outside,
    )


@pytest.mark.parametrize(
    ("grade", "terms", "decisive"),
    [
        ("E", {}, "RISK_DECLINE"),
        # 35% of Rp 200.000 leaves Rp 70.000 a month: not even the minimum loan fits
        ("A", {"estimated_monthly_income": 200_000.0}, "AFFORDABILITY_DECLINE"),
    ],
)
def test_a_decline_stays_decline_and_lists_the_code(
    grade: str, terms: dict[str, float], decisive: str
) -> None:
    out = _decide([["business_sector"]], grade=grade, **terms)
    assert out["decision"].tolist() == ["decline"]
    assert out["rule_codes"][0][0] == decisive
    assert "OUTSIDE_EXPERIENCE" in out["rule_codes"][0]
    assert "Sektor usaha anggota" in out["reason_id"][0]
    assert "The member's business sector" in out["reason_en"][0]


def test_a_refer_stays_refer_and_without_outside_nothing_changes() -> None:
    assert _decide([["in_group"]], grade="C")["rule_codes"] == [
        ["OUTSIDE_EXPERIENCE", "RISK_REFER"]
    ]
    inside = _decide([[], []])
    unchecked = DecisionPolicy().decide_arrays(
        np.array(["A", "A"], dtype=object),
        np.full(2, _PD["A"]),
        _standard(2),
    )
    assert inside["rule_codes"] == unchecked["rule_codes"] == [["RISK_APPROVE"]] * 2
    assert inside["reason_id"] == unchecked["reason_id"]


def test_frame_decide_takes_outside_and_checks_its_length() -> None:
    frame = pd.DataFrame(
        [{"grade": "B", "pd": 0.03, "loan_amount": 5e6, "tenor_months": 12, "flat_monthly_rate": 0.015,
          "estimated_monthly_income": 4e6, "existing_debt_service": 0, "months_of_history": 24}] * 2
    )  # fmt: skip
    out = DecisionPolicy().decide(frame, outside_experience=[[], ["group_size"]])
    assert out["decision"].tolist() == ["approve", "refer"]
    assert out["rule_codes"].tolist()[1] == ["OUTSIDE_EXPERIENCE", "RISK_APPROVE"]
    with pytest.raises(ValueError, match="one entry per application"):
        DecisionPolicy().decide(frame, outside_experience=[["group_size"]])


def test_policy_version_is_bumped_and_round_trips() -> None:
    policy = DecisionPolicy()
    assert policy.version == "2026.12-3"
    assert DecisionPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


def test_decisions_frame_keeps_the_outside_features_as_lists() -> None:
    checked = _check_records(MIXED[:3])
    out = _decide(outside_names(checked))
    out["outside_experience"] = [[o.to_dict() for o in row] for row in checked]
    frame = decisions_frame(out, pd.Index(["a", "b", "c"]))
    assert frame.loc["b", "outside_experience"] == [
        {"feature": "membership_months", "kind": "above_range"}
    ]
    assert frame.loc["a", "outside_experience"] == []
    assert frame["decision"].tolist() == ["approve", "refer", "approve"]


def test_a_monotone_feature_is_outside_only_on_its_risk_raising_side() -> None:
    """Past the range where a risk-lowering feature lowers risk, the flat trees can only
    overstate the risk: not flagged. Past it on the other side, or for a risk-raising
    feature past its maximum, they understate it: flagged, in batches and singly."""
    monotone = (-1, 1, 0, 0, 0)  # membership lowers risk, income (here) raises it
    exp = Experience.fit(INPUTS, INPUTS.matrix(_training()), monotone)
    rows = [
        _applicant(membership_months=200.0),  # longer than anyone: safe side
        _applicant(membership_months=1.0),  # newer than anyone: flagged
        _applicant(estimated_monthly_income=0.0),  # below a risk-raiser's range: safe
        _applicant(estimated_monthly_income=1e9),  # above it: flagged
    ]
    expected = [(), (Outside("membership_months", "below_range"),), (),
                (Outside("estimated_monthly_income", "above_range"),)]  # fmt: skip
    for batch in (rows, rows * 3):  # the plain-Python path and the vectorised one
        got = exp.check(*INPUTS.matrix_from_records_with_unseen(batch))
        assert got == expected * (len(batch) // len(rows))
    assert Experience.from_dict(json.loads(json.dumps(exp.to_dict()))) == exp
    # without directions both sides are outside
    plain = _check_records(rows)
    assert all(plain)


def test_unchecked_features_are_never_outside_and_round_trip() -> None:
    names = [f for f in FEATURES if f not in INPUTS.categories][:2]
    exp = Experience.fit(INPUTS, INPUTS.matrix(_training()), unchecked=[names[0], "not_a_feature"])
    assert exp.unchecked == (names[0],)
    X = INPUTS.matrix(_training())[:1].copy()
    X[0, list(INPUTS.features).index(names[0])] = 1e12
    X[0, list(INPUTS.features).index(names[1])] = 1e12
    (row,) = exp.check(X, np.zeros_like(X, dtype=bool))
    assert [o.feature for o in row] == [names[1]]
    assert Experience.from_dict(json.loads(json.dumps(exp.to_dict()))) == exp
