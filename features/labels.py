"""Outcome labels from the ledger: was a loan more than N days past due within its window.

Days past due on date x are x minus the due date of the oldest instalment not yet covered by
the payments dated on or before x (payments settle the oldest instalment first). A loan is
more than N days past due within the window iff, for some instalment k whose due date plus
N + 1 days falls within the window, the payments up to that day fall short of the total due
through k.
"""

from __future__ import annotations

import pandas as pd

from features.ledger.contracts import DATE_DTYPE

DEFAULT_WINDOW_DAYS = 365
DEFAULT_DPD = 90


def past_due_within(
    loans: pd.DataFrame,
    installments: pd.DataFrame,
    repayments: pd.DataFrame,
    dpd: int = DEFAULT_DPD,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.Series:
    """Per disbursed loan (indexed by loan_id): more than `dpd` days past due within
    `window_days` days of disbursement. Vectorised: one sort and one cumulative sum."""
    disbursed = loans.loc[loans["disbursement_date"].notna(), ["loan_id", "disbursement_date"]]
    inst = installments[["loan_id", "installment_no", "due_date", "amount_due"]].merge(
        disbursed, on="loan_id", how="inner"
    )
    inst = inst.sort_values(["loan_id", "installment_no"])
    inst["cum_due"] = inst.groupby("loan_id")["amount_due"].cumsum()
    inst["check"] = (inst["due_date"] + pd.Timedelta(days=dpd + 1)).astype(DATE_DTYPE)
    inst = inst[inst["check"] <= inst["disbursement_date"] + pd.Timedelta(days=window_days)]
    # payments and checks on one time line per loan; a payment on the check day counts
    pay = repayments[["loan_id", "date", "amount"]].rename(columns={"date": "when"})
    checks = inst[["loan_id", "check", "cum_due"]].rename(columns={"check": "when"})
    line = pd.concat(
        [pay.assign(is_check=False, cum_due=0), checks.assign(amount=0, is_check=True)],
        ignore_index=True,
    )
    line["when"] = line["when"].astype(DATE_DTYPE)
    line = line.sort_values(["loan_id", "when", "is_check"], kind="stable")
    line["cum_paid"] = line.groupby("loan_id")["amount"].cumsum()
    checked = line[line["is_check"]]
    short = checked["cum_paid"].fillna(0) < checked["cum_due"]
    flagged = set(checked.loc[short, "loan_id"])
    ids = disbursed["loan_id"]
    return pd.Series(
        ids.isin(flagged).to_numpy(), index=pd.Index(ids, name="loan_id"), name=f"dpd{dpd}"
    )


def window_closed(
    loans: pd.DataFrame, as_of: pd.Timestamp, window_days: int = DEFAULT_WINDOW_DAYS
) -> pd.Series:
    """Whether each loan's outcome window has ended by `as_of` (else it is not labelled)."""
    end = loans["disbursement_date"] + pd.Timedelta(days=window_days)
    return pd.Series((end < as_of).to_numpy(), index=pd.Index(loans["loan_id"], name="loan_id"))
