"""When each instalment was covered: the one mechanism behind days past due.

Payments settle the oldest instalment first, so instalment k of a loan is covered on the
first payment date on which the loan's cumulative payments reach its cumulative amount due
through k. Days past due at the start of day x are x minus the due date of the oldest
instalment not covered by payments made before x. Features and labels both read this, so
they cannot disagree about what "late" means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from features.ledger.contracts import DATE_DTYPE

_AMOUNT_BITS = 41  # cumulative Rupiah per loan below 2^41 (2.2 trillion)
NEVER = np.int64(2**23)  # a day after every real day (days since 1970 stay below 2^23)


def days(s: pd.Series) -> np.ndarray:
    """Dates as int64 days since 1970; missing dates (never covered) become NEVER."""
    values = s.to_numpy("datetime64[D]")
    return np.where(np.isnat(values), NEVER, values.astype(np.int64))


def cover_dates(installments: pd.DataFrame, repayments: pd.DataFrame) -> pd.DataFrame:
    """The instalments (sorted by loan and number) with `cum_due` and `cover_date`
    (NaT when the payments so far never reach it). Vectorised: one factorize, two sorts and
    one searchsorted over loan-prefixed cumulative amounts."""
    inst = installments.sort_values(["loan_id", "installment_no"], kind="stable").reset_index(
        drop=True
    )
    n_inst = len(inst)
    codes = _loan_codes(inst["loan_id"], repayments["loan_id"])
    if len(codes) and codes.max() >= 2 ** (62 - _AMOUNT_BITS):
        raise ValueError("too many loans in one partition for the cover-date key")
    inst_code = codes[:n_inst].astype(np.int64)
    pay_code = codes[n_inst:].astype(np.int64)

    due = inst["amount_due"].to_numpy(np.int64)
    cum_due = _cumsum_by(inst_code, due)
    pay_days = repayments["date"].to_numpy("datetime64[D]").astype(np.int64)
    order = np.lexsort((pay_days, pay_code))
    pay_code, pay_days = pay_code[order], pay_days[order]
    cum_paid = _cumsum_by(pay_code, repayments["amount"].to_numpy(np.int64)[order])

    paid_key = (pay_code << _AMOUNT_BITS) + cum_paid
    need_key = (inst_code << _AMOUNT_BITS) + cum_due
    at = np.searchsorted(paid_key, need_key, side="left")
    found = at < len(paid_key)
    found[found] &= pay_code[at[found]] == inst_code[found]
    safe = np.minimum(at, len(pay_days) - 1) if len(pay_days) else np.zeros_like(at)
    cover = np.where(found, pay_days[safe] if len(pay_days) else 0, 0)
    out = inst.assign(cum_due=cum_due)
    out["cover_date"] = pd.Series(
        cover.astype("datetime64[D]").astype(DATE_DTYPE), index=out.index
    ).where(found)
    return out


def _loan_codes(a: pd.Series, b: pd.Series) -> np.ndarray:
    """One integer code per loan id across both series (categories: no string hashing)."""
    if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype):
        both = union_categoricals([a, b], ignore_order=True)
        return np.asarray(both.codes, dtype=np.int64)
    codes, _ = pd.factorize(pd.concat([a.astype(str), b.astype(str)], ignore_index=True))
    return np.asarray(codes, dtype=np.int64)


def _cumsum_by(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarting at each new code (codes already grouped)."""
    total = np.cumsum(values)
    if len(values) == 0:
        return total
    starts = np.r_[True, codes[1:] != codes[:-1]]
    offset = np.where(starts, total - values, 0)
    return total - np.maximum.accumulate(np.where(starts, offset, 0))
