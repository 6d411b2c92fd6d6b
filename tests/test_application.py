"""Profile + loan request -> model input (`features.application`): the training table and
serving compute the request-dependent features with the same code, so a historical
application rebuilt from the member's profile as of its date equals its training row."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.application import (
    REQUEST_FEATURES,
    SALES_INDEX_COLUMNS,
    LoanRequest,
    LoanRequestError,
    application_frame,
    application_record,
    parse_product,
    parse_purpose,
)
from features.catalog import categorical_names, feature_names
from features.ledger.contracts import TABLE_ORDER
from features.ledger.store import Ledger
from features.pipeline import build_features, training_table
from features.profile_builder import (
    CATEGORICAL_TABLES,
    FIT_COLUMNS,
    ProfileRequests,
    RepaymentProfileBuilder,
)
from features.profile_store import ProfileStore

COOP = "KMP-0002"


@pytest.fixture(scope="module")
def partition(small_ledger: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """One cooperative's tables (as the pipeline reads them) and its training table."""
    ledger = Ledger(small_ledger)
    part = ledger.partition(COOP)
    tables = {
        t: part.table(t, FIT_COLUMNS.get(t), categorical=t in CATEGORICAL_TABLES)
        for t in TABLE_ORDER
    }
    return tables, training_table(tables, ledger.as_of)


def _as_fetched(row: dict[str, Any]) -> dict[str, Any]:
    """A builder row as `ProfileStore.fetch` returns it: plain values, None where missing."""
    out = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    out["as_of"] = str(pd.Timestamp(row["as_of"]).date())
    return out


def _request(loan: pd.Series) -> LoanRequest:
    return LoanRequest(
        amount=int(loan["principal"]),
        tenor_months=int(loan["tenor_months"]),
        purpose=str(loan["purpose"]),
        product=str(loan["product"]),
        flat_monthly_rate=float(loan["flat_monthly_rate"]),
        application_date=pd.Timestamp(loan["application_date"]).date(),
    )


def _same(got: object, expected: object) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return got is None or (isinstance(got, float) and math.isnan(got))
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    return isinstance(got, float) and got == pytest.approx(float(expected), rel=1e-12, abs=0)


def _sample_loans(loans: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    """Applications of different members, with rejected ones and several months."""
    one_each = loans.drop_duplicates("member_id")
    rejected = one_each[one_each["disbursement_date"].isna()].head(3)
    rest = one_each.drop(rejected.index).sample(n - len(rejected), random_state=1)
    return pd.concat([rejected, rest])


def test_a_historical_application_rebuilt_from_its_profile_equals_its_training_row(
    partition: tuple[dict[str, pd.DataFrame], pd.DataFrame],
) -> None:
    tables, training = partition
    builder = RepaymentProfileBuilder().fit(tables)
    members = tables["members"]
    rows = training.set_index("loan_id")
    loans = _sample_loans(tables["loans"])
    assert loans["application_date"].dt.month.nunique() > 3
    categorical = set(categorical_names())
    checked = 0
    for _, loan in loans.iterrows():
        when = pd.Timestamp(loan["application_date"])
        member = members[members["member_id"] == loan["member_id"]]
        profile_row = builder.transform(ProfileRequests.current(member, when)).iloc[0]
        profile = _as_fetched(profile_row.to_dict())
        record = application_record(profile, _request(loan))
        expected = rows.loc[loan["loan_id"]]
        for name in feature_names():
            want = expected[name]
            if name in categorical and not pd.isna(want):
                want = str(want)
            assert _same(record[name], want), (loan["loan_id"], name, record[name], want)
        checked += 1
        # the member's profile itself is unchanged, only the request's features are new
        for name in set(feature_names()) - set(REQUEST_FEATURES):
            assert _same(record[name], profile[name]), name
    assert checked == len(loans) >= 10


def test_the_frame_version_equals_the_training_rows_too(
    partition: tuple[dict[str, pd.DataFrame], pd.DataFrame],
) -> None:
    tables, training = partition
    loans = _sample_loans(tables["loans"]).reset_index(drop=True)
    requests = ProfileRequests(
        pd.DataFrame(
            {
                "request_id": loans["member_id"],
                "member_id": loans["member_id"],
                "as_of": loans["application_date"].astype("datetime64[ms]"),
                "principal": np.nan,
                "tenor_months": np.nan,
                "flat_monthly_rate": np.nan,
                "purpose": pd.Series(None, index=loans.index, dtype="str"),
                "product": pd.Series(None, index=loans.index, dtype="str"),
            }
        )
    )
    profiles = RepaymentProfileBuilder().fit(tables).transform(requests)
    asked = pd.DataFrame(
        {
            "loan_id": loans["loan_id"],
            "member_id": loans["member_id"],
            "amount": loans["principal"],
            "tenor_months": loans["tenor_months"],
            "purpose": loans["purpose"],
            "product": loans["product"],
            "flat_monthly_rate": loans["flat_monthly_rate"],
            "application_date": loans["application_date"],
        }
    ).set_axis([f"r{i}" for i in range(len(loans))])
    got = application_frame(profiles, asked)
    assert list(got.index) == list(asked.index)
    assert list(got.columns[:4]) == ["request_id", "member_id", "as_of", "application_date"]
    expected = training.set_index("loan_id").loc[asked["loan_id"]]
    for name in feature_names():
        a, b = got[name].to_numpy(), expected[name].to_numpy()
        if name in categorical_names():
            a, b = got[name].astype("str").to_numpy(), expected[name].astype("str").to_numpy()
            assert (a == b).all(), name
        else:
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-12, err_msg=name)


def test_a_current_profile_plus_a_request_has_its_ratios(
    small_ledger: Path, tmp_path: Path
) -> None:
    out = tmp_path / "features"
    build_features(small_ledger, out, workers=1)
    store = ProfileStore(out)
    assert store.as_of == Ledger(small_ledger).as_of.date()
    with_income = None
    for member_id in store.members(COOP):
        profile = store.fetch(member_id)
        assert profile is not None
        if profile["estimated_monthly_income"] and profile["sembako_spend_12m"]:
            with_income = profile
            break
    assert with_income is not None
    # the stored profile has no request: its ratios are empty, which is why serving adds one
    assert all(with_income[n] is None for n in ("instalment_to_income", "loan_amount"))
    request = LoanRequest(
        amount=5_000_000,
        tenor_months=12,
        purpose="modal_usaha",
        flat_monthly_rate=0.015,
        application_date=date(2025, 7, 14),
    )
    record = application_record(with_income, request)
    instalment = 5_000_000 / 12 + 5_000_000 * 0.015
    assert request.instalment == pytest.approx(instalment)
    income = with_income["estimated_monthly_income"]
    assert record["instalment_to_income"] == pytest.approx(min(instalment / income, 20.0))
    assert record["instalment_to_sembako_spend"] == pytest.approx(
        min(instalment / with_income["sembako_spend_12m"], 20.0)
    )
    assert record["debt_service_to_income"] == pytest.approx(
        min((instalment + with_income["existing_debt_service"]) / income, 20.0)
    )
    assert record["application_month"] == "7"
    assert record["loan_purpose"] == "business_expansion"
    assert record["loan_product"] == "working_capital"
    assert record["loan_amount"] == 5_000_000.0 and record["tenor_months"] == 12.0
    assert record["as_of"] == with_income["as_of"]  # still the profile's day
    assert all(record[n] is not None for n in REQUEST_FEATURES)
    assert with_income["instalment_to_income"] is None  # the fetched profile is not changed


def test_a_member_without_income_gets_missing_income_ratios() -> None:
    profile = {
        "as_of": "2025-07-01",
        "estimated_monthly_income": 0.0,
        "sembako_spend_12m": None,
        "existing_debt_service": 0.0,
    }
    request = LoanRequest(amount=1_000_000, tenor_months=6, purpose="stok", flat_monthly_rate=0.02)
    record = application_record(profile, request)
    assert record["instalment_to_income"] is None
    assert record["instalment_to_sembako_spend"] is None
    assert record["debt_service_to_income"] is None
    assert record["loan_purpose"] == "stock"
    assert request.application_date == date.today()


def test_an_application_before_the_profiles_as_of_day_is_refused() -> None:
    profile = {
        "as_of": "2025-07-01",
        "estimated_monthly_income": 1e6,
        "sembako_spend_12m": 1e5,
        "existing_debt_service": 0.0,
    }
    request = LoanRequest(
        amount=1_000_000,
        tenor_months=6,
        purpose="stock",
        flat_monthly_rate=0.02,
        application_date=date(2025, 6, 30),
    )
    with pytest.raises(LoanRequestError, match=r"application_date.*2025-06-30.*2025-07-01"):
        application_record(profile, request)


GOOD: dict[str, Any] = {
    "amount": 2_000_000,
    "tenor_months": 12,
    "purpose": "equipment",
    "flat_monthly_rate": 0.015,
}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("amount", 0, "amount: must be at least 1 Rupiah"),
        ("amount", -5, "amount: must be at least 1 Rupiah"),
        ("amount", 1500.5, "amount: must be a whole number of Rupiah"),
        ("amount", "2 juta", "amount: must be a whole number"),
        ("amount", True, "amount: must be a whole number"),
        ("tenor_months", 0, "tenor_months: must be from 1 to 60 months"),
        ("tenor_months", 61, "tenor_months: must be from 1 to 60 months"),
        ("purpose", "holiday", "purpose: unknown loan purpose 'holiday'"),
        ("purpose", "", "purpose: must be a loan purpose"),
        ("product", "mortgage", "product: unknown loan product 'mortgage'"),
        ("flat_monthly_rate", 1.5, "flat_monthly_rate: must be a fraction a month from 0 to 0.1"),
        ("flat_monthly_rate", -0.01, "flat_monthly_rate: must be a fraction"),
        ("flat_monthly_rate", float("nan"), "flat_monthly_rate: must be a fraction"),
        ("application_date", "31/12/2025", "application_date: must be a date"),
    ],
)
def test_loan_request_errors_name_the_field(field: str, value: object, words: str) -> None:
    with pytest.raises(LoanRequestError) as caught:
        LoanRequest(**{**GOOD, field: value})
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_loan_request_words() -> None:
    assert parse_purpose("modal_usaha") == "business_expansion"
    assert parse_purpose("Modal Usaha") == "business_expansion"
    assert parse_purpose("modal kerja") == "raw_materials"  # as on import
    assert parse_purpose("Bahan baku") == "raw_materials"
    assert parse_purpose("Perahu dan alat tangkap") == "fishing_gear"
    assert parse_purpose("biaya sekolah") == "education"
    assert parse_product("modal usaha") == "working_capital"
    assert parse_product("Pinjaman kelompok tanggung renteng") == "group"
    assert parse_product("darurat") == "emergency"
    request = LoanRequest(
        amount=np.int64(3_000_000),
        tenor_months=6.0,  # type: ignore[arg-type]
        purpose="kesehatan",
        product="Darurat",
        flat_monthly_rate=0.0175,
        application_date="2025-08-01",  # type: ignore[arg-type]
    )
    assert (request.amount, request.tenor_months) == (3_000_000, 6)
    assert type(request.amount) is int and type(request.tenor_months) is int
    assert (request.purpose, request.product) == ("health", "emergency")
    assert request.application_date == date(2025, 8, 1)


def test_application_frame_refuses_bad_rows_naming_them() -> None:
    profiles = pd.DataFrame(
        {
            "member_id": ["M1", "M2"],
            "as_of": pd.to_datetime(["2025-07-01", "2025-07-01"]),
            "estimated_monthly_income": [1e6, 0.0],
            "sembako_spend_12m": [2e5, np.nan],
            "existing_debt_service": [0.0, 1e5],
        }
    )
    requests = pd.DataFrame(
        {
            "member_id": ["M2", "M1"],
            "amount": [1_000_000, 2_000_000],
            "tenor_months": [6, 12],
            "purpose": ["stok", "modal usaha"],
            "flat_monthly_rate": [0.02, 0.015],
            "application_date": ["2025-07-02", "2025-07-03"],
        }
    )
    got = application_frame(profiles, requests)
    assert list(got["member_id"]) == ["M2", "M1"]
    assert list(got["loan_purpose"].astype(str)) == ["stock", "business_expansion"]
    assert list(got["loan_product"].astype(str)) == ["working_capital"] * 2
    assert np.isnan(got["instalment_to_income"].iloc[0])
    assert got["instalment_to_income"].iloc[1] == pytest.approx((2e6 / 12 + 2e6 * 0.015) / 1e6)
    with pytest.raises(LoanRequestError, match=r"row 1: purpose: unknown loan purpose 'party'"):
        application_frame(profiles, requests.assign(purpose=["stok", "party"]))
    with pytest.raises(LoanRequestError, match=r"row 0: tenor_months: must be from 1 to 60"):
        application_frame(profiles, requests.assign(tenor_months=[0, 12]))
    with pytest.raises(LoanRequestError, match=r"member_id: no profile for 1 member\(s\): M9"):
        application_frame(profiles, requests.assign(member_id=["M9", "M1"]))
    with pytest.raises(LoanRequestError, match=r"row 1: application_date of a request"):
        application_frame(profiles, requests.assign(application_date=["2025-07-02", "2025-06-01"]))
    with pytest.raises(LoanRequestError, match=r"missing column\(s\) flat_monthly_rate"):
        application_frame(profiles, requests.drop(columns="flat_monthly_rate"))


# ----------------------------------------------------------------------------- the term's season
def _indexed_profile() -> dict[str, Any]:
    """A fetched-profile dict whose sector index reads 0.5 in December to February, 1.2 in
    March to November (mean about 1), and the ratios' inputs."""
    profile: dict[str, Any] = {
        "member_id": "M1",
        "as_of": "2025-01-01",
        "estimated_monthly_income": 1e6,
        "sembako_spend_12m": 2e5,
        "existing_debt_service": 0.0,
    }
    for month, name in enumerate(SALES_INDEX_COLUMNS, start=1):
        profile[name] = 0.5 if month in (12, 1, 2) else 1.2
    return profile


def _terms(tenor: int, applied: date) -> LoanRequest:
    return LoanRequest(
        amount=3_000_000,
        tenor_months=tenor,
        purpose="equipment",
        flat_monthly_rate=0.015,
        application_date=applied,
    )


@pytest.mark.parametrize(
    ("tenor", "applied", "expected"),
    [
        # applied in November: instalments due December, January, February
        (3, date(2025, 11, 20), 0.5),
        (1, date(2025, 8, 2), 1.2),  # due in September
        (6, date(2025, 10, 5), (1.2 + 0.5 * 3 + 1.2 * 2) / 6),  # November to April
        # the first 12 instalments only: a full year, whatever comes after
        (24, date(2025, 8, 2), (0.5 * 3 + 1.2 * 9) / 12),
    ],
)
def test_the_term_sales_index_reads_the_months_the_instalments_fall_due(
    tenor: int, applied: date, expected: float
) -> None:
    profile = _indexed_profile()
    record = application_record(profile, _terms(tenor, applied))
    assert record["term_sales_index"] == pytest.approx(expected, rel=1e-12)
    frame = application_frame(
        pd.DataFrame([profile]),
        pd.DataFrame(
            {
                "member_id": ["M1"],
                "amount": [3_000_000],
                "tenor_months": [tenor],
                "purpose": ["equipment"],
                "flat_monthly_rate": [0.015],
                "application_date": [applied],
            }
        ),
    )
    assert frame["term_sales_index"].iloc[0] == record["term_sales_index"]  # to the bit


def test_the_term_sales_index_is_missing_without_an_index() -> None:
    profile = _indexed_profile()
    profile[SALES_INDEX_COLUMNS[0]] = None  # no January in the sector's index
    assert application_record(profile, _terms(6, date(2025, 11, 1)))["term_sales_index"] is None
    # January is not among the months of this term
    assert application_record(profile, _terms(3, date(2025, 3, 10)))["term_sales_index"] == 1.2
    # a profile without the index columns (built before them, or by hand): missing
    for name in SALES_INDEX_COLUMNS:
        del profile[name]
    assert application_record(profile, _terms(6, date(2025, 11, 1)))["term_sales_index"] is None
