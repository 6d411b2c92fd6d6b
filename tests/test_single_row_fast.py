"""The single-application path (`AmanahModel._predict_few`, `DecisionPolicy.decide_one`)
answers exactly what the array path answers: the same keys in the same order, the same
types, floats equal to the bit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.application import LoanRequest, application_record
from features.profile_store import ProfileStore
from models.artifact import _FEW_RECORDS, AmanahModel
from models.economics import LendingEconomics
from models.grades import GRADES
from models.policy import DecisionPolicy
from models.training import TrainingResult

PURPOSES = ("modal usaha", "stok", "education", "health")


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types; floats to the bit (NaN equals NaN, -0.0 is not 0.0);
    dicts with their keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return bool(a.hex() == b.hex())
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _variant(record: dict[str, Any], i: int) -> dict[str, Any]:
    """Every tenth kind of record: arrears, past defaults, thin files, unknown categories,
    missing values, score-only, values outside training, other debt."""
    k = i % 10
    if k == 1:
        record["current_dpd"] = (15.0, 45.0, 95.0, 200.0)[(i // 10) % 4]
    elif k == 2:
        record["prior_loans_defaulted"] = 1.0 + (i // 10) % 3
    elif k == 3:
        record["months_of_history"] = (0.0, 2.5, 5.9, None)[(i // 10) % 4]
    elif k == 4:
        record["business_sector"] = "astronaut"
        record["loan_purpose"] = None
    elif k == 5:
        for c in (
            "avg_monthly_sales_3m",
            "estimated_monthly_income",
            "sembako_spend_12m",
            "existing_debt_service",
        ):
            record[c] = None
    elif k == 6:
        record["loan_amount"] = record["tenor_months"] = record["flat_monthly_rate"] = None
    elif k == 7:
        record["avg_monthly_sales_12m"] = 9e12
        record["estimated_monthly_income"] = 1e9
    elif k == 8:
        record["application_month"] = "13"
        record["existing_debt_service"] = 5_000_000.0
    return record


@pytest.fixture(scope="module")
def records(medium_features: Path) -> list[dict[str, Any]]:
    """Members of the generated city with varied loan requests (declared income verified
    or not, household expenses) and the record variants of `_variant`."""
    store = ProfileStore(medium_features)
    day = store.as_of + timedelta(days=9)
    out = []
    for i, member in enumerate(store.members()[::13][:300]):
        profile = store.fetch(member)
        assert profile is not None
        request = LoanRequest(
            amount=1_000_000 + 350_000 * (i % 40),
            tenor_months=(3, 6, 9, 12, 18, 24, 1, 36)[i % 8],
            purpose=PURPOSES[i % 4],
            flat_monthly_rate=(0.01, 0.008, 0.015, 0.02, 0.0125, 0.0, 0.04)[i % 7],
            application_date=day,
            declared_monthly_income=(None, 2_500_000, 9_000_000, 40_000_000)[i % 4],
            declared_household_expenses=(None, 800_000, 3_000_000)[i % 3],
            income_verified=(None, True, False)[(i // 3) % 3],
        )
        out.append(_variant(application_record(profile, request), i))
    return out


@pytest.mark.parametrize("lang", [None, "id", "en"])
@pytest.mark.parametrize("reasons", [True, False])
def test_one_record_answers_as_the_batch(
    trained: TrainingResult,
    records: list[dict[str, Any]],
    lang: Any,
    reasons: bool,
) -> None:
    model: AmanahModel = trained.model
    assert len(records) > _FEW_RECORDS  # the batch goes through the arrays
    batch = model.predict_records(records, reasons=reasons, lang=lang)
    for record, expected in zip(records, batch, strict=True):
        (got,) = model.predict_records([record], reasons=reasons, lang=lang)
        assert _same(got, expected), (got, expected)
    # a few records at once go row by row too
    assert _same(model.predict_records(records[:_FEW_RECORDS], reasons, lang), batch[:8])
    decisions = {row["decision"] for row in batch}
    codes = {c for row in batch for c in row["rule_codes"]}
    assert decisions == {"approve", "refer", "decline"}
    assert {"ARREARS_NPL", "AFFORDABILITY_REDUCE", "THIN_FILE", "OUTSIDE_EXPERIENCE"} <= codes


def test_one_record_answers_as_predict_on_a_frame(
    trained: TrainingResult, records: list[dict[str, Any]]
) -> None:
    """The table path agrees on what both give: pd, score, grade, decision, amounts."""
    import pandas as pd

    model: AmanahModel = trained.model
    frame = pd.DataFrame(records)
    table = model.predict(frame, lang="en")
    for i, record in enumerate(records):
        (got,) = model.predict_records([record], lang="en")
        row = table.iloc[i]
        assert got["pd"] == row["pd"] and got["score"] == row["score"]
        assert (got["grade"], got["decision"]) == (row["grade"], row["decision"])
        assert got["rule_codes"] == row["rule_codes"] and got["reason_en"] == row["reason_en"]
        for c in ("approved_amount", "max_recommended_amount", "instalment", "expected_return"):
            assert got[c] == (None if pd.isna(row[c]) else int(row[c]))


def test_one_record_refuses_as_the_batch(
    trained: TrainingResult, records: list[dict[str, Any]]
) -> None:
    model: AmanahModel = trained.model
    bad = dict(records[0], loan_amount=-5.0)
    messages = []
    for rows in ([bad], [bad, *records[1 : _FEW_RECORDS + 4]]):
        with pytest.raises(ValueError) as caught:
            model.predict_records(rows)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] == "loan_amount must be > 0 where given."


# ---------------------------------------------------------------- decide_one, generated
def _terms() -> st.SearchStrategy[dict[str, float]]:
    money = st.one_of(st.floats(0, 1e8), st.integers(0, 50_000_000).map(float))
    positive = st.one_of(st.floats(1, 1e8), st.integers(1, 50_000_000).map(float))
    nan = st.just(math.nan)
    values = {
        "loan_amount": st.one_of(nan, positive),
        "tenor_months": st.one_of(nan, st.integers(1, 60).map(float), st.floats(0.5, 120)),
        "flat_monthly_rate": st.one_of(nan, st.sampled_from([0.0, 0.01, 0.015]), st.floats(0, 0.1)),
        "estimated_monthly_income": st.one_of(nan, money),
        "avg_monthly_sales_3m": st.one_of(nan, money),
        "sembako_spend_12m": st.one_of(nan, money),
        "declared_monthly_income": st.one_of(nan, positive),
        "declared_household_expenses": st.one_of(nan, money),
        "income_verified": st.sampled_from([math.nan, 0.0, 1.0]),
        "existing_debt_service": st.one_of(nan, money),
        "months_of_history": st.one_of(nan, st.just(math.inf), st.floats(0, 120)),
        "current_dpd": st.one_of(nan, st.floats(-5, 1000), st.sampled_from([0.0, 90.0, 91.0])),
        "prior_loans_defaulted": st.one_of(nan, st.integers(0, 4).map(float)),
    }
    # a term may be absent too
    return st.fixed_dictionaries({}, optional=values)


_POLICIES = (
    DecisionPolicy(),
    DecisionPolicy(
        economics=LendingEconomics(loss_given_default=0.0, admin_fee_rate=0.0),
        max_share_of_disposable_income=0.5,
        max_seasonal_adjustment=1.0,
    ),
    # a reference loan above a thin file's first loan: score-only thin files are judged on less
    DecisionPolicy(
        economics=LendingEconomics(reference_amount=10_000_000),
        thin_file_max_amount=3_000_000,
    ),
)
_LABEL = st.one_of(
    st.sampled_from(["loan_amount", "tenor_months"]),
    st.fixed_dictionaries({"id": st.text(max_size=8), "en": st.text(max_size=8)}),
)


def _row(arrays: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in arrays.items():
        value = values[0]
        out[key] = float(value) if isinstance(value, np.floating) else value
    return out


@settings(max_examples=400, deadline=None)
@given(
    grade=st.sampled_from(GRADES),
    pd_=st.one_of(st.floats(0, 1), st.sampled_from([0.0005, 0.02, 0.08, 0.95])),
    terms=_terms(),
    langs=st.sampled_from([("id", "en"), ("id",), ("en",), ()]),
    outside=st.one_of(st.none(), st.lists(_LABEL, max_size=3)),
    which=st.integers(0, len(_POLICIES) - 1),
)
def test_decide_one_is_decide_arrays_of_one_row(
    grade: str,
    pd_: float,
    terms: dict[str, float],
    langs: tuple[Any, ...],
    outside: list[Any] | None,
    which: int,
) -> None:
    policy = _POLICIES[which]
    arrays = policy.decide_arrays(
        np.array([grade], dtype=object),
        np.array([pd_]),
        {c: np.array([v]) for c, v in terms.items()},
        langs=langs,
        outside_experience=None if outside is None else [outside],
    )
    one = policy.decide_one(grade, pd_, terms, langs=langs, outside_experience=outside)
    assert _same(one, _row(arrays)), (one, _row(arrays))


@pytest.mark.parametrize(
    ("terms", "grade", "pd_"),
    [
        ({"loan_amount": 0.0}, "A", 0.1),
        ({"flat_monthly_rate": -0.01}, "A", 0.1),
        ({"declared_household_expenses": -1.0}, "A", 0.1),
        ({"nonsense": 1.0}, "A", 0.1),
        ({}, "F", 0.1),
        ({}, "A", math.nan),
    ],
)
def test_decide_one_refuses_as_decide_arrays(
    terms: dict[str, float], grade: str, pd_: float
) -> None:
    policy = DecisionPolicy()
    with pytest.raises(ValueError) as arrays:
        policy.decide_arrays(
            np.array([grade], dtype=object),
            np.array([pd_]),
            {c: np.array([v]) for c, v in terms.items()},
        )
    with pytest.raises(ValueError) as one:
        policy.decide_one(grade, pd_, terms)
    assert str(one.value) == str(arrays.value)


def test_one_record_answers_as_the_batch_with_an_isotonic_calibrator(
    trained: TrainingResult, records: list[dict[str, Any]]
) -> None:
    """The shipped model calibrates by Platt; the isotonic map takes its own branch."""
    import dataclasses

    from models.calibration import PDCalibrator

    model: AmanahModel = trained.model
    margins = model.explainer.explain_with_margin(model.matrix_from_records(records))[1]
    rng = np.random.default_rng(3)
    defaulted = (rng.uniform(size=len(margins)) < 1 / (1 + np.exp(-margins))).astype(float)
    isotonic = PDCalibrator(method="isotonic").fit(margins, defaulted)
    model = dataclasses.replace(model, calibrator=isotonic)
    batch = model.predict_records(records)
    for record, expected in zip(records, batch, strict=True):
        assert _same(model.predict_records([record])[0], expected)
    assert len({row["pd"] for row in batch}) > 3
