"""Hand-built label cases at the boundaries: 90 vs 91 days past due, day 365 vs 366,
paid back then late again, and loans whose window is still open."""

from __future__ import annotations

import pandas as pd
import pytest

from features.labels import past_due_within, window_closed
from features.repayment_status import cover_dates

DISB = pd.Timestamp("2025-01-10")


def _loan(
    dues: list[str], payments: list[tuple[str, int]], amount: int = 100_000
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    loans = pd.DataFrame({"loan_id": ["L1"], "disbursement_date": [DISB]})
    inst = pd.DataFrame(
        {
            "loan_id": "L1",
            "member_id": "A1",
            "installment_no": range(1, len(dues) + 1),
            "due_date": pd.to_datetime(dues).astype("datetime64[ms]"),
            "amount_due": amount,
        }
    )
    pay = pd.DataFrame(
        {
            "loan_id": ["L1"] * len(payments),
            "date": pd.to_datetime([d for d, _ in payments]).astype("datetime64[ms]"),
            "amount": [a for _, a in payments],
        }
    )
    return loans, inst, pay


def _default(dues: list[str], payments: list[tuple[str, int]], dpd: int = 90) -> bool:
    loans, inst, pay = _loan(dues, payments)
    return bool(past_due_within(loans, inst, pay, dpd=dpd).loc["L1"])


def _days_after(base: str, n: int) -> str:
    return str((pd.Timestamp(base) + pd.Timedelta(days=n)).date())


def test_paid_90_days_late_is_not_default_91_is() -> None:
    due = "2025-02-10"
    assert not _default([due], [(_days_after(due, 90), 100_000)])
    assert _default([due], [(_days_after(due, 91), 100_000)])
    assert _default([due], [])  # never paid


def test_early_warning_thresholds() -> None:
    due = "2025-02-10"
    paid_45_late = [(_days_after(due, 45), 100_000)]
    assert _default([due], paid_45_late, dpd=30)
    assert not _default([due], paid_45_late, dpd=60)
    assert not _default([due], [(_days_after(due, 30), 100_000)], dpd=30)


def test_window_day_365_is_in_day_366_is_out() -> None:
    # the 91st day past due falls exactly on day 365 after disbursement: counted
    due_in = str((DISB + pd.Timedelta(days=365 - 91)).date())
    assert _default([due_in], [])
    # one day later it falls on day 366: outside the 12-month window
    due_out = str((DISB + pd.Timedelta(days=366 - 91)).date())
    assert not _default([due_out], [])


def test_paid_back_then_late_again() -> None:
    dues = ["2025-02-10", "2025-03-10", "2025-04-10"]
    # instalment 1 paid 40 days late, 2 on time, 3 never: default through instalment 3
    payments = [("2025-03-22", 100_000), ("2025-03-25", 100_000)]
    assert _default(dues, payments)
    covered = cover_dates(*_loan(dues, payments)[1:])
    assert covered["cover_date"].tolist()[:2] == [
        pd.Timestamp("2025-03-22"),
        pd.Timestamp("2025-03-25"),
    ]
    assert pd.isna(covered["cover_date"].iloc[2])
    # the same history with instalment 3 paid 60 days late: late, but never past 90
    assert not _default(dues, [*payments, ("2025-06-09", 100_000)])


def test_partial_payments_cover_in_order() -> None:
    dues = ["2025-02-10", "2025-03-10"]
    payments = [("2025-02-10", 60_000), ("2025-02-20", 60_000), ("2025-03-10", 80_000)]
    covered = cover_dates(*_loan(dues, payments)[1:])
    # 60k + 60k reaches instalment 1 on 20 Feb; 200k reaches instalment 2 on 10 Mar
    assert covered["cover_date"].tolist() == [
        pd.Timestamp("2025-02-20"),
        pd.Timestamp("2025-03-10"),
    ]


@pytest.mark.parametrize(("as_of", "closed"), [("2026-01-10", False), ("2026-01-11", True)])
def test_window_closes_the_day_after_day_365(as_of: str, closed: bool) -> None:
    loans = pd.DataFrame({"loan_id": ["L1"], "disbursement_date": [DISB]})
    assert bool(window_closed(loans, pd.Timestamp(as_of)).loc["L1"]) is closed
