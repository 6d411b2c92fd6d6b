"""Point-in-time repayment-behaviour profiles of one cooperative's members.

`RepaymentProfileBuilder.fit` reads one cooperative's ledger once and prepares sorted,
cumulative views of it; `transform` answers any number of requests (member, as-of date T,
optional loan application) with the catalog's features computed from events dated strictly
before T. Everything is vectorised: windowed sums are two searchsorted calls on
member-prefixed day keys over cumulative sums; monthly statistics are a gather from a
member x month matrix; instalment history is one join of requests with the member's
instalments; group and cooperative arrears are interval-stabbing counts.

Months in "monthly" features are the full calendar months before T's month, so no part of
T's own month leaks in. Days past due follow `repayment_status`: at the start of day T,
only payments made before T count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.application import SALES_INDEX_COLUMNS, request_features
from features.catalog import categorical_names, feature_names
from features.labels import DEFAULT_DPD
from features.ledger.enums import Direction, PaymentMethod, SavingsKind
from features.repayment_status import NEVER, cover_dates
from features.repayment_status import days as _days

Array = npt.NDArray[Any]

DAY_BITS = 24  # day keys: member << 24 | day (NEVER = 2^23 fits)
DAYS_PER_MONTH = 30.4375
W6, W12, W24 = 183, 365, 730
ARREARS_DPD = 30
SALES_INDEX_MONTHS = 24  # the full months before T's month the sector's sales index reads


def _months(days: Array) -> Array:
    """Calendar month index (months since 1970-01) of each day."""
    return np.asarray(days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64))


def _day_of_month(days: Array) -> Array:
    """1 for the first of the month, up to 31."""
    d = days.astype("datetime64[D]")
    return np.asarray((d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1)


def _sum_at(shape: tuple[int, int], row: Array, col: Array, values: Array) -> Array:
    """Sum of `values` into a rows x cols matrix; `np.add.at` in one bincount, ~10x faster."""
    flat = row.astype(np.int64) * shape[1] + col
    return np.bincount(flat, weights=values, minlength=shape[0] * shape[1]).reshape(shape)


def _member_day_order(member: Array, day: Array) -> Array:
    """Sort order by (member, day) as two stable sorts: by day (timsort, near linear on the
    date-ordered runs ledgers are stored in), then a radix sort on the small member codes.
    Three times faster than a two-key sort."""
    if member.max(initial=0) >= 2**15:
        return np.lexsort((day, member))
    if len(day) and bool(np.all(day[1:] >= day[:-1])):  # stored in date order: skip a sort
        return np.argsort(member.astype(np.int16), kind="stable")
    by_day = np.argsort(day, kind="stable")
    return by_day[np.argsort(member[by_day].astype(np.int16), kind="stable")]


class _Prefix:
    """Cumulative sums of event values keyed by (member, day), for window sums by search."""

    def __init__(self, member: Array, day: Array, **values: Array) -> None:
        order = _member_day_order(member, day)
        self.key = (member[order].astype(np.int64) << DAY_BITS) + day[order]
        self.cum = {
            n: np.r_[0.0, np.cumsum(v[order].astype(np.float64))] for n, v in values.items()
        }

    def positions(self, member: Array, day: Array) -> Array:
        """Number of events of `member` dated before `day` plus those of earlier members."""
        return np.searchsorted(self.key, (member.astype(np.int64) << DAY_BITS) + day, "left")

    def first_day(self, member: Array) -> Array:
        """Each member's earliest event day (NEVER without events)."""
        if len(self.key) == 0:
            return np.full(len(member), NEVER, dtype=np.int64)
        at = np.searchsorted(self.key, member.astype(np.int64) << DAY_BITS, "left")
        safe = np.minimum(at, len(self.key) - 1)
        found = (at < len(self.key)) & ((self.key[safe] >> DAY_BITS) == member)
        return np.where(found, self.key[safe] & ((1 << DAY_BITS) - 1), NEVER)

    def between(self, name: str, lo: Array, hi: Array) -> Array:
        """Sum of `name` over events at positions [lo, hi)."""
        return np.asarray(self.cum[name][hi] - self.cum[name][lo])


class _Stabbing:
    """How many disjoint intervals [start, end] of a bucket contain day x."""

    def __init__(self, bucket: Array, start: Array, end: Array) -> None:
        keys = np.r_[
            (bucket << DAY_BITS) + start, (bucket << DAY_BITS) + np.minimum(end + 1, NEVER)
        ]
        delta = np.r_[np.ones(len(start)), -np.ones(len(start))]
        order = np.argsort(keys, kind="stable")
        self.key = keys[order]
        self.cum = np.r_[0.0, np.cumsum(delta[order])]

    def count(self, bucket: Array, day: Array) -> Array:
        hi = np.searchsorted(self.key, (bucket << DAY_BITS) + day, "right")
        lo = np.searchsorted(self.key, bucket << DAY_BITS, "left")
        return np.asarray(self.cum[hi] - self.cum[lo])


def _union_intervals(member: Array, start: Array, end: Array) -> tuple[Array, Array, Array]:
    """Merge each member's overlapping intervals so a member is counted once per day."""
    if len(member) == 0:
        return member, start, end
    order = np.lexsort((start, member))
    member, start, end = member[order], start[order], end[order]
    new_member = np.r_[True, member[1:] != member[:-1]]
    # running max of end within each member, via offsetting by member rank
    rank = np.cumsum(new_member) - 1
    shifted = end + rank * (NEVER * 4)
    run_max = np.maximum.accumulate(shifted) - rank * (NEVER * 4)
    prev_max = np.r_[-1, run_max[:-1]]
    new_block = new_member | (start > prev_max + 1)
    block = np.cumsum(new_block) - 1
    n_blocks = int(block[-1]) + 1
    b_member = member[new_block]
    b_start = start[new_block]
    b_end = np.full(n_blocks, -1, dtype=np.int64)
    np.maximum.at(b_end, block, end)
    return b_member, b_start, b_end


@dataclass
class ProfileRequests:
    """Who to profile and when: one row per (member, as-of date), with the loan applied for.

    Columns: request_id, member_id, as_of, and for applications principal, tenor_months,
    flat_monthly_rate, purpose, product (missing for current profiles).
    """

    frame: pd.DataFrame

    @classmethod
    def from_applications(cls, loans: pd.DataFrame) -> ProfileRequests:
        f = loans[
            ["loan_id", "member_id", "application_date", "principal", "tenor_months",
             "flat_monthly_rate", "purpose", "product"]
        ].rename(columns={"loan_id": "request_id", "application_date": "as_of"})  # fmt: skip
        return cls(f.reset_index(drop=True))

    @classmethod
    def current(cls, members: pd.DataFrame, as_of: pd.Timestamp) -> ProfileRequests:
        f = pd.DataFrame(
            {
                "request_id": members["member_id"].to_numpy(),
                "member_id": members["member_id"].to_numpy(),
                "as_of": pd.Series(as_of, index=range(len(members))).astype("datetime64[ms]"),
                "principal": np.nan,
                "tenor_months": np.nan,
                "flat_monthly_rate": np.nan,
                "purpose": pd.Series(None, index=range(len(members)), dtype="str"),
                "product": pd.Series(None, index=range(len(members)), dtype="str"),
            }
        )
        return cls(f)


# The columns `fit` reads: leaving out the other string ids halves the read time. Event
# tables are read as categories (see `LedgerPartition.table`); loans and members as text.
CATEGORICAL_TABLES = ("savings", "installments", "repayments", "store_purchases", "produce_sales")
FIT_COLUMNS: dict[str, list[str]] = {
    "members": ["member_id", "cooperative_id", "join_date", "sector", "group_id", "gender"],
    "savings": ["member_id", "date", "kind", "direction", "amount", "period"],
    "loans": [
        "loan_id", "member_id", "cooperative_id", "application_date", "disbursement_date",
        "principal", "tenor_months", "flat_monthly_rate", "purpose", "product",
        # carried to the training table beside the features, never one (features.application)
        "declared_monthly_income", "declared_household_expenses", "income_verified",
    ],
    "installments": ["loan_id", "member_id", "installment_no", "due_date", "amount_due"],
    "repayments": ["loan_id", "date", "amount"],
    "store_purchases": ["member_id", "date", "amount", "payment"],
    "produce_sales": ["member_id", "date", "amount"],
}  # fmt: skip


class RepaymentProfileBuilder:
    """scikit-learn style: `fit` on one cooperative's ledger tables, `transform` requests.

    Learned state ends in `_`. The tables are those of `features.ledger.store.LedgerPartition`.
    """

    def fit(self, tables: dict[str, pd.DataFrame]) -> RepaymentProfileBuilder:
        members = tables["members"].reset_index(drop=True)
        self.member_values_ = pa.array(members["member_id"]).cast(pa.large_string())
        code = self._codes
        self.join_day_ = _days(members["join_date"])
        self.sector_ = members["sector"].to_numpy(dtype=object)
        group_codes, _ = pd.factorize(members["group_id"])  # -1 without a group
        self.group_ = group_codes.astype(np.int64)
        self.group_size_ = np.bincount(self.group_[self.group_ >= 0], minlength=1)

        sv = tables["savings"]
        s_mem = code(sv["member_id"])
        s_day = _days(sv["date"])
        s_amount = sv["amount"].to_numpy(np.float64)
        withdrawal = (sv["direction"] == Direction.WITHDRAWAL).to_numpy()
        sukarela = (sv["kind"] == SavingsKind.SUKARELA).to_numpy()
        signed = np.where(withdrawal, -s_amount, s_amount)
        wajib_paid = (sv["kind"] == SavingsKind.WAJIB).to_numpy() & ~withdrawal
        self.savings_ = _Prefix(
            s_mem,
            s_day,
            sukarela_net=np.where(sukarela, signed, 0.0),
            withdrawal=(withdrawal & sukarela).astype(np.float64),
            total_net=signed,
            n=np.ones(len(s_mem)),
            wajib=wajib_paid.astype(np.float64),
            # the log of the paying day: its mean is the log of the geometric mean
            wajib_log_day=np.where(wajib_paid, np.log(_day_of_month(s_day)), 0.0),
        )

        pu, sa = tables["store_purchases"], tables["produce_sales"]
        p_mem, p_day = code(pu["member_id"]), _days(pu["date"])
        j_mem, j_day = code(sa["member_id"]), _days(sa["date"])
        # one prefix per table: each is stored in date order, so each sorts in one pass
        self.purchases_ = _Prefix(p_mem, p_day, n=np.ones(len(p_mem)))
        self.sales_events_ = _Prefix(j_mem, j_day, n=np.ones(len(j_mem)))
        everyone = np.arange(len(members))
        self.first_event_day_ = np.minimum.reduce(
            [p.first_day(everyone) for p in (self.savings_, self.purchases_, self.sales_events_)]
        )

        # member x month matrices, months counted from base_month_
        ends = [d for d in (s_day, p_day, j_day, self.join_day_) if len(d)]
        span = (
            _months(np.array([min(d.min() for d in ends), max(d.max() for d in ends)]))
            if ends
            else np.array([0, 0])
        )
        self.base_month_ = int(span[0]) - 25
        last_month = int(span[1]) + 2
        n_months = last_month - self.base_month_ + 1
        shape = (len(members), n_months)
        self.sales_ = _sum_at(
            shape, j_mem, _months(j_day) - self.base_month_, sa["amount"].to_numpy(float)
        )
        # per business sector and month: sales in members' member months, and those months
        sector_codes, _ = pd.factorize(members["sector"])  # -1 without a sector
        self.sector_code_ = sector_codes.astype(np.int64)
        n_sectors = int(self.sector_code_.max(initial=-1)) + 2  # the last row: no sector
        row = np.where(self.sector_code_ >= 0, self.sector_code_, n_sectors - 1)
        join_month = _months(self.join_day_) - self.base_month_
        in_member_month = np.arange(n_months)[None, :] > join_month[:, None]
        self.sector_sales_ = np.zeros((n_sectors, n_months))
        np.add.at(self.sector_sales_, row, np.where(in_member_month, self.sales_, 0.0))
        self.sector_member_months_ = np.zeros((n_sectors, n_months))
        np.add.at(self.sector_member_months_, row, in_member_month.astype(float))
        self.sector_sales_[-1] = self.sector_member_months_[-1] = 0.0
        # purchases: amounts and counts per member x month, all from one flat index
        p_flat = p_mem.astype(np.int64) * shape[1] + (_months(p_day) - self.base_month_)
        size = shape[0] * shape[1]
        p_amount = pu["amount"].to_numpy(float)
        on_credit = (pu["payment"] == PaymentMethod.CREDIT).to_numpy()
        self.spend_ = np.bincount(p_flat, p_amount, size).reshape(shape)
        self.credit_spend_ = np.bincount(p_flat[on_credit], p_amount[on_credit], size).reshape(
            shape
        )
        self.purchases_n_ = np.bincount(p_flat, minlength=size).reshape(shape).astype(float)
        credit_n = np.bincount(p_flat[on_credit], minlength=size)
        self.credit_n_ = credit_n.reshape(shape).astype(float)
        # earliest payment day of each wajib period
        wajib = (
            (sv["kind"] == SavingsKind.WAJIB).to_numpy()
            & ~withdrawal
            & sv["period"].notna().to_numpy()
        )
        w_period = _period_months(sv["period"])[wajib] - self.base_month_
        self.wajib_paid_day_ = np.full(shape, NEVER, dtype=np.int64)
        ok = (w_period >= 0) & (w_period < n_months)
        np.minimum.at(self.wajib_paid_day_, (s_mem[wajib][ok], w_period[ok]), s_day[wajib][ok])

        # instalment history with the day each was covered
        loans = tables["loans"]
        self.covered_ = cover_dates(tables["installments"], tables["repayments"])
        inst = self.covered_
        self.inst_member_ = code(inst["member_id"])
        loan_codes, loan_ids = pd.factorize(inst["loan_id"])
        self.inst_loan_ = loan_codes.astype(np.int64)
        self.inst_due_ = _days(inst["due_date"])
        self.inst_cover_ = _days(inst["cover_date"])
        disbursed = pd.Index(loans["loan_id"].astype(str)).get_indexer(
            pd.Index(loan_ids).astype(str)
        )
        loan_disb = np.r_[_days(loans["disbursement_date"]), NEVER]
        self.inst_disbursed_ = loan_disb[disbursed][self.inst_loan_]
        self.inst_amount_ = inst["amount_due"].to_numpy(np.float64)
        n_no = inst.groupby("loan_id")["installment_no"].transform("max").to_numpy()
        self.inst_is_last_ = inst["installment_no"].to_numpy() == n_no
        self.inst_order_ = np.argsort(self.inst_member_, kind="stable")
        self.inst_member_sorted_ = self.inst_member_[self.inst_order_]

        # in arrears (> 30 DPD) at the start of day x: an instalment due before x - 30 is not
        # covered by payments made before x, i.e. x in [due + 31, cover]
        start = self.inst_due_ + ARREARS_DPD + 1
        overdue = self.inst_cover_ >= start
        m_a, s_a, e_a = _union_intervals(
            self.inst_member_[overdue], start[overdue], self.inst_cover_[overdue]
        )
        self.member_arrears_ = _Stabbing(m_a, s_a, e_a)
        grouped = self.group_[m_a] >= 0
        self.group_arrears_ = _Stabbing(self.group_[m_a][grouped], s_a[grouped], e_a[grouped])
        self.coop_arrears_ = _Stabbing(np.zeros(len(m_a), dtype=np.int64), s_a, e_a)
        # borrowing: from disbursement to the day the last instalment is covered
        last = self.inst_is_last_
        m_b, s_b, e_b = _union_intervals(
            self.inst_member_[last], self.inst_disbursed_[last], self.inst_cover_[last]
        )
        self.coop_borrowers_ = _Stabbing(np.zeros(len(m_b), dtype=np.int64), s_b, e_b)
        # the day each loan first went more than 90 days past due (start of day due + 91)
        d_start = self.inst_due_ + DEFAULT_DPD + 1
        hit = self.inst_cover_ >= d_start
        n_loans = int(self.inst_loan_.max()) + 1 if len(inst) else 0
        loan_default = np.full(n_loans, NEVER, dtype=np.int64)
        np.minimum.at(loan_default, self.inst_loan_[hit], d_start[hit])
        loan_member = np.full(n_loans, -1, dtype=np.int64)
        loan_member[self.inst_loan_] = self.inst_member_
        defaulted = (loan_default < NEVER) & (self.group_[loan_member] >= 0)
        self.group_defaults_ = _Prefix(
            self.group_[loan_member[defaulted]],
            loan_default[defaulted],
            n=np.ones(int(defaulted.sum())),
        )
        # sukarela withdrawals made in the 30 days before one of the member's due dates
        wd = withdrawal & sukarela
        self.strained_ = self._withdrawals_before_due(s_mem[wd], s_day[wd])
        return self

    # ------------------------------------------------------------------ helpers
    def _codes(self, ids: pd.Series) -> Array:
        """Position of each member id in `members` (a hash lookup in Arrow, not Python;
        for categories only the categories are looked up)."""
        if isinstance(ids.dtype, pd.CategoricalDtype):
            per_category = self._codes(pd.Series(ids.cat.categories.astype(str)))
            codes = np.where(ids.cat.codes < 0, -1, per_category[ids.cat.codes])
        else:
            found = pc.index_in(
                pa.array(ids).cast(pa.large_string()), value_set=self.member_values_
            )
            codes = found.to_numpy(zero_copy_only=False)
            codes = np.where(pd.isna(codes), -1, codes).astype(np.int64)
        if (codes < 0).any():
            raise KeyError(
                f"{int((codes < 0).sum())} records refer to members not in this partition"
            )
        return np.asarray(codes, dtype=np.int64)

    def _withdrawals_before_due(self, w_mem: Array, w_day: Array) -> tuple[_Prefix, _Prefix]:
        """Prefix views of withdrawals followed within 30 days by a due date of the member:
        keyed by the withdrawal day and by that (earliest) due day."""
        due_key = (self.inst_member_.astype(np.int64) << DAY_BITS) + self.inst_due_
        due_sorted = np.sort(due_key)
        at = np.searchsorted(due_sorted, (w_mem << DAY_BITS) + w_day + 1, "left")
        nxt = (
            due_sorted[np.minimum(at, max(len(due_sorted) - 1, 0))]
            if len(due_sorted)
            else np.zeros(0, np.int64)
        )
        has = (at < len(due_sorted)) & (len(due_sorted) > 0)
        has &= (nxt >> DAY_BITS) == w_mem
        due_day = nxt & ((1 << DAY_BITS) - 1)
        has &= due_day - w_day <= 30
        ones = np.ones(int(has.sum()))
        return (
            _Prefix(w_mem[has], w_day[has], n=ones),
            _Prefix(w_mem[has], due_day[has], n=ones),
        )

    # ------------------------------------------------------------------ transform
    def transform(self, requests: ProfileRequests) -> pd.DataFrame:
        """One row per request: request_id, member_id, as_of and every catalog feature."""
        req = requests.frame.reset_index(drop=True)
        mem = self._codes(req["member_id"])
        t = _days(req["as_of"])
        f: dict[str, Array] = {}
        self._history(mem, t, f)
        self._monthly(mem, t, f)
        self._savings(mem, t, f)
        self._instalments(mem, t, f)
        self._social(mem, t, f)
        self._sales_index(mem, t, f)
        # the loan applied for (missing for current profiles): computed in one place, the
        # one serving uses too; the application month is the month of T
        f.update(
            request_features(
                f,
                req["principal"].to_numpy(float),
                req["tenor_months"].to_numpy(float),
                req["flat_monthly_rate"].to_numpy(float),
                req["purpose"].to_numpy(dtype=object),
                req["product"].to_numpy(dtype=object),
                req["as_of"].to_numpy(),
            )
        )
        f["business_sector"] = self.sector_[mem]
        names = feature_names()
        missing = set(names) - set(f)
        if missing:  # pragma: no cover - a catalog entry without a computation is a bug
            raise AssertionError(f"features declared but not computed: {sorted(missing)}")
        categorical = set(categorical_names())
        # one frame built at once: inserting 48 columns one by one costs a third of transform
        columns = {
            n: pd.Categorical(f[n]) if n in categorical else np.asarray(f[n], dtype=float)
            for n in names
        }
        # the sector's calendar-month sales index travels beside them (not features)
        for n in SALES_INDEX_COLUMNS:
            columns[n] = np.asarray(f[n], dtype=float)
        out = pd.concat(
            [req[["request_id", "member_id", "as_of"]], pd.DataFrame(columns, index=req.index)],
            axis=1,
        )
        return out

    def _history(self, mem: Array, t: Array, f: dict[str, Array]) -> None:
        joined = self.join_day_[mem]
        f["membership_months"] = np.maximum(t - joined, 0) / DAYS_PER_MONTH
        first = self.first_event_day_[mem]
        f["months_of_history"] = np.where(first < t, (t - first) / DAYS_PER_MONTH, 0.0)
        f["ledger_events_6m"] = np.sum(
            [
                p.between("n", p.positions(mem, t - W6), p.positions(mem, t))
                for p in (self.savings_, self.purchases_, self.sales_events_)
            ],
            axis=0,
        )

    def _monthly(self, mem: Array, t: Array, f: dict[str, Array]) -> None:
        mt = _months(t) - self.base_month_  # T's month; windows end before it
        # a profile asked for after the ledger's last month still counts the months between
        width = max(self.sales_.shape[1], int(mt.max(initial=0)) + 1)
        sales = _widen(self.sales_, width, 0.0)
        spend = _widen(self.spend_, width, 0.0)
        credit_spend = _widen(self.credit_spend_, width, 0.0)
        purchases_n = _widen(self.purchases_n_, width, 0.0)
        credit_n = _widen(self.credit_n_, width, 0.0)
        wajib_paid_day = _widen(self.wajib_paid_day_, width, NEVER)
        cols = np.arange(width)[None, :]
        ago = mt[:, None] - cols  # 1 = last full month before T's month

        join_month = _months(self.join_day_[mem]) - self.base_month_
        # months before joining are not months without sales; the joining month is partial
        member = cols > join_month[:, None]

        def window(m: Array, months: int) -> Array:
            return np.where((ago >= 1) & (ago <= months) & member, m[mem], 0.0)

        def n_months(months: int) -> Array:
            span = np.clip(mt - np.maximum(join_month + 1, mt - months), 0, months)
            return np.asarray(span, dtype=float)

        for w in (3, 6, 12):
            f[f"avg_monthly_sales_{w}m"] = _ratio(window(sales, w).sum(1), n_months(w))
        f["sales_trend_3m_vs_12m"] = _ratio(f["avg_monthly_sales_3m"], f["avg_monthly_sales_12m"])
        s6 = window(sales, 6)
        mean6 = _ratio(s6.sum(1), n_months(6))
        var6 = _ratio((s6**2).sum(1), n_months(6)) - mean6**2
        f["sales_volatility_6m"] = _ratio(np.sqrt(np.maximum(var6, 0)), mean6)
        in12 = (ago >= 1) & (ago <= 12) & member
        low = np.where(in12, sales[mem], np.inf).min(1)
        mean12 = f["avg_monthly_sales_12m"]
        f["seasonal_dip_depth"] = 1 - _ratio(low, mean12)
        sales12 = window(sales, 12)
        f["months_with_sales_12m"] = (sales12 > 0).sum(1).astype(float)
        f["estimated_monthly_income"] = np.nan_to_num(mean12)
        f["sembako_spend_3m"] = _ratio(window(spend, 3).sum(1), n_months(3))
        f["sembako_spend_12m"] = _ratio(window(spend, 12).sum(1), n_months(12))
        spend6 = window(spend, 6).sum(1)
        f["sembako_credit_share_6m"] = _ratio(window(credit_spend, 6).sum(1), spend6)
        # a habit, so counted by purchases: one large purchase on bon should not outweigh many
        f["sembako_credit_share_24m"] = _ratio(
            window(credit_n, 24).sum(1), window(purchases_n, 24).sum(1)
        )

        # wajib: months since joining, paid by a payment made before T
        eligible = member & (ago >= 1)
        paid = eligible & (wajib_paid_day[mem] < t[:, None])
        last12 = eligible & (ago <= 12)
        f["wajib_months_paid_12m"] = (paid & last12).sum(1).astype(float)
        f["share_wajib_months_paid_12m"] = _ratio(f["wajib_months_paid_12m"], last12.sum(1))
        f["wajib_months_owed"] = (eligible & ~paid).sum(1).astype(float)
        streak = np.zeros(len(mem))
        best = np.zeros(len(mem))
        for k in range(24, 0, -1):  # oldest to newest month of the 24
            col = np.clip(mt - k, 0, sales.shape[1] - 1)
            is_paid = paid[np.arange(len(mem)), col] & (mt - k >= 0)
            streak = np.where(is_paid, streak + 1, 0)
            best = np.maximum(best, streak)
        f["longest_wajib_streak_24m"] = best

    def _sales_index(self, mem: Array, t: Array, f: dict[str, Array]) -> None:
        """The calendar-month sales index of each member's business sector in the
        cooperative, from the `SALES_INDEX_MONTHS` full months before T's month: per
        calendar month, sales per member month over sales per member month of the whole
        window; missing (all 12) when a calendar month has no member month or nothing sold."""
        mt = _months(t) - self.base_month_
        width = max(self.sales_.shape[1], int(mt.max(initial=0)) + 1)
        sales = _widen(self.sector_sales_, width, 0.0)
        # months after the ledger's last are member months of everyone who had joined (no
        # sales then): the last column, where every member has joined, repeated
        member_months = self.sector_member_months_
        if width > member_months.shape[1]:
            extra = np.repeat(member_months[:, -1:], width - member_months.shape[1], axis=1)
            member_months = np.concatenate([member_months, extra], axis=1)
        calendar = (self.base_month_ + np.arange(width)) % 12  # 0 = January
        by_calendar = (calendar[:, None] == np.arange(12)[None, :]).astype(float)
        ago = mt[:, None] - np.arange(width)[None, :]
        window = ((ago >= 1) & (ago <= SALES_INDEX_MONTHS)).astype(float)
        # members without a sector read the empty last row: no index
        row = np.where(self.sector_code_ >= 0, self.sector_code_, len(sales) - 1)[mem]
        sold = (window * sales[row]) @ by_calendar
        months = (window * member_months[row]) @ by_calendar
        per_month = _ratio(sold.sum(1), months.sum(1))
        ok = (months > 0).all(1) & (per_month > 0)
        index = _ratio(sold, months) / np.where(ok, per_month, 1.0)[:, None]
        index = np.where(ok[:, None], index, np.nan)
        for c, name in enumerate(SALES_INDEX_COLUMNS):
            f[name] = index[:, c]

    def _savings(self, mem: Array, t: Array, f: dict[str, Array]) -> None:
        sv = self.savings_
        start = sv.positions(mem, np.zeros_like(t))
        now = sv.positions(mem, t)
        f["sukarela_balance"] = sv.between("sukarela_net", start, now)
        before = sv.positions(mem, t - 90)
        f["sukarela_trend_3m"] = f["sukarela_balance"] - sv.between("sukarela_net", start, before)
        f["sukarela_withdrawals_6m"] = sv.between("withdrawal", sv.positions(mem, t - W6), now)
        f["total_savings"] = sv.between("total_net", start, now)
        year_ago = sv.positions(mem, t - W12)
        # the geometric mean of the paying days: a late month (or the month she joined, paid
        # on the day she joined) moves it less than the plain mean, day 2 against day 4 counts
        # as much as day 10 against day 20, and it stays a day an officer can read
        two_years_ago = sv.positions(mem, t - W24)
        for name, since in (("wajib_typical_pay_day_12m", year_ago),
                            ("wajib_typical_pay_day_24m", two_years_ago)):  # fmt: skip
            f[name] = np.exp(
                _ratio(sv.between("wajib_log_day", since, now), sv.between("wajib", since, now))
            )
        by_day, by_due = self.strained_
        # withdrawals in the last 12 months whose following due date has already passed
        f["withdrawals_before_due_12m"] = by_due.between(
            "n", by_due.positions(mem, np.zeros_like(t)), by_due.positions(mem, t)
        ) - by_day.between(
            "n", by_day.positions(mem, np.zeros_like(t)), by_day.positions(mem, t - W12)
        )

    def _instalments(self, mem: Array, t: Array, f: dict[str, Array]) -> None:
        n = len(mem)
        # pair each request with its member's instalments (one join, no loop)
        lo = np.searchsorted(self.inst_member_sorted_, mem, "left")
        hi = np.searchsorted(self.inst_member_sorted_, mem, "right")
        counts = hi - lo
        r = np.repeat(np.arange(n), counts)
        offsets = np.arange(len(r)) - np.repeat(np.cumsum(counts) - counts, counts)
        i = self.inst_order_[np.repeat(lo, counts) + offsets]
        tr = t[r]
        due, cover = self.inst_due_[i], self.inst_cover_[i]
        past = due < tr
        end = np.minimum(cover, tr)
        late_days = end - due  # > 0: paid late, or still unpaid at T
        late = past & (cover > due)
        on_time = past & (cover <= due)

        def per_request(mask: Array, values: Array | None = None) -> Array:
            w = mask.astype(float) if values is None else np.where(mask, values, 0.0)
            return np.bincount(r, w, n)

        def per_request_max(mask: Array, values: Array, empty: float) -> Array:
            out = np.full(n, -np.inf)
            np.maximum.at(out, r[mask], values[mask])
            return np.where(np.isinf(out), empty, out)

        for label, days in (("6m", W6), ("12m", W12)):
            recent = past & (due >= tr - days)
            f[f"late_instalments_{label}"] = per_request(recent & late)
            f[f"share_instalments_on_time_{label}"] = _ratio(
                per_request(recent & on_time), per_request(recent)
            )
        f["max_dpd_365d"] = per_request_max(past & (end > tr - W12), np.maximum(late_days, 0), 0.0)
        f["current_dpd"] = per_request_max(past & (cover >= tr), (tr - due).astype(float), 0.0)
        f["months_since_last_late"] = (
            t - per_request_max(late, due + 1.0, np.nan)
        ) / DAYS_PER_MONTH
        loan = self.inst_loan_[i]
        is_last = self.inst_is_last_[i]
        f["prior_loans_completed"] = per_request(is_last & (cover < tr))
        # a loan counts once: on the instalment that first took it past 90 DPD before T
        first_default = np.zeros(len(i), dtype=bool)
        hit = past & (late_days > DEFAULT_DPD)
        if hit.any():
            pair_key = r.astype(np.int64) * (int(loan.max()) + 1) + loan
            _, first_idx = np.unique(pair_key[hit], return_index=True)
            first_default[np.flatnonzero(hit)[first_idx]] = True
        f["prior_loans_defaulted"] = per_request(first_default)
        disbursed_before = self.inst_disbursed_[i] < tr
        f["has_prior_loan"] = (per_request(disbursed_before) > 0).astype(float)
        upcoming = disbursed_before & (due >= tr) & (due < tr + 30) & (cover >= tr)
        f["existing_debt_service"] = per_request(upcoming, self.inst_amount_[i])

    def _social(self, mem: Array, t: Array, f: dict[str, Array]) -> None:
        g = self.group_[mem]
        grouped = g >= 0
        size = np.where(grouped, self.group_size_[np.maximum(g, 0)], 0)
        f["in_group"] = grouped.astype(float)
        f["group_size"] = size.astype(float)
        self_in_arrears = self.member_arrears_.count(mem, t) > 0
        in_arrears = np.where(grouped, self.group_arrears_.count(np.maximum(g, 0), t), 0.0)
        others = np.where(grouped, in_arrears - self_in_arrears, 0.0)
        f["group_members_in_arrears"] = others
        f["group_share_in_arrears"] = np.where(grouped, others / np.maximum(size - 1, 1), 0.0)
        gd = self.group_defaults_
        bucket = np.maximum(g, 0)
        all_group = gd.between(
            "n", gd.positions(bucket, np.zeros_like(t)), gd.positions(bucket, t + 1)
        )
        f["group_past_defaults"] = np.where(grouped, all_group - f["prior_loans_defaulted"], 0.0)
        zero = np.zeros(len(mem), dtype=np.int64)
        rates = []
        for back in (0, 30, 60):
            arrears = self.coop_arrears_.count(zero, t - back)
            borrowers = self.coop_borrowers_.count(zero, t - back)
            rates.append(_ratio(arrears, borrowers, empty=0.0))
        f["coop_arrears_rate_3m"] = np.mean(rates, axis=0)


def _period_months(period: pd.Series) -> Array:
    """Month index of `YYYY-MM` periods (-2**40 where missing); categories parse once."""
    if isinstance(period.dtype, pd.CategoricalDtype):
        cats = _period_months(pd.Series(period.cat.categories.astype(str)))
        codes = period.cat.codes.to_numpy()
        return np.where(codes < 0, -(2**40), np.r_[cats, 0][codes])
    parsed = pd.to_datetime(period, format="%Y-%m").to_numpy("datetime64[M]")
    return np.where(np.isnat(parsed), -(2**40), parsed.astype(np.int64))


def _widen(matrix: Array, width: int, fill: float | np.int64) -> Array:
    """The member x month matrix with months appended up to `width`, filled with `fill`."""
    if matrix.shape[1] >= width:
        return matrix
    extra = np.full((matrix.shape[0], width - matrix.shape[1]), fill, dtype=matrix.dtype)
    return np.concatenate([matrix, extra], axis=1)


def _ratio(num: Array, den: Array, cap: float | None = None, empty: float = np.nan) -> Array:
    """num / den, `empty` where den is 0 or missing, optionally capped."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = np.isfinite(den) & (den > 0)
    out = np.where(ok, num / np.where(ok, den, 1.0), empty)
    if cap is not None:
        out = np.minimum(out, cap)
    return np.asarray(out)
