"""Outcome labels from the ledger: was a loan more than N days past due within its window.

Days past due at the start of day x are x minus the due date of the oldest instalment not
covered by payments made before x (`repayment_status`). A loan is more than N days past due
within the window iff some instalment k is still uncovered on day due_k + N + 1 and that day
falls within the window (day 365 after disbursement is in, day 366 is out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.repayment_status import NEVER, cover_dates, days

DEFAULT_WINDOW_DAYS = 365
DEFAULT_DPD = 90
EARLY_WARNING_DPD = (30, 60)


def past_due_within(
    loans: pd.DataFrame,
    installments: pd.DataFrame,
    repayments: pd.DataFrame,
    dpd: int = DEFAULT_DPD,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.Series:
    """Per disbursed loan (indexed by loan_id): more than `dpd` days past due within
    `window_days` days of disbursement."""
    covered = cover_dates(installments, repayments)
    return past_due_flags(loans, covered, (dpd,), window_days)[dpd].rename(f"dpd{dpd}")


def past_due_flags(
    loans: pd.DataFrame,
    covered: pd.DataFrame,
    thresholds: tuple[int, ...],
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> pd.DataFrame:
    """`past_due_within` for several thresholds at once, from `cover_dates` output:
    one column per threshold, one row per disbursed loan. Integer days, no joins."""
    disbursed = loans.loc[loans["disbursement_date"].notna(), ["loan_id", "disbursement_date"]]
    ids = pd.Index(disbursed["loan_id"].astype(str), name="loan_id")
    codes, uniques = pd.factorize(covered["loan_id"])
    where = ids.get_indexer(pd.Index(uniques).astype(str))  # -1: loan not disbursed
    disb_days = days(disbursed["disbursement_date"])
    # an instalment of a loan that was not disbursed can never fall in a window
    inst_disb = np.where(where[codes] >= 0, disb_days[np.maximum(where[codes], 0)], -NEVER)
    due = days(covered["due_date"])
    cover = days(covered["cover_date"])
    out: dict[int, np.ndarray] = {}
    for dpd in thresholds:
        check = due + dpd + 1
        hit = (check <= inst_disb + window_days) & (cover >= check) & (where[codes] >= 0)
        flagged = np.zeros(len(ids), dtype=bool)
        flagged[where[codes[hit]]] = True
        out[dpd] = flagged
    return pd.DataFrame(out, index=ids)


def window_closed(
    loans: pd.DataFrame, as_of: pd.Timestamp, window_days: int = DEFAULT_WINDOW_DAYS
) -> pd.Series:
    """Whether each loan's outcome window has ended by `as_of` (else it is not labelled)."""
    end = loans["disbursement_date"] + pd.Timedelta(days=window_days)
    return pd.Series((end < as_of).to_numpy(), index=pd.Index(loans["loan_id"], name="loan_id"))
