"""A slow, record-by-record reference for the point-in-time profile (docs/features.md).

Written from the spec alone, not from `features/profile_builder.py`: for one request
(member, as-of day T, application terms) it walks that member's ledger records in plain
Python and computes each feature straight from its definition. It is meant to be read next
to docs/features.md, not to be fast.

Days are whole days since 1970-01-01 (`d(x)` in the spec); a month is `year * 12 + month - 1`.
An instalment never covered has cover day `math.inf`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from features.application import SALES_INDEX_COLUMNS
from features.catalog import categorical_names, feature_names

EPOCH = date(1970, 1, 1)
DAYS_PER_MONTH = 30.4375
NAN = math.nan

__all__ = ["ReferenceLedger", "compare_profiles", "reference_profile"]


# ----------------------------------------------------------------------------- plain values


def is_missing(value: object) -> bool:
    """None, NaN, NaT and pandas NA are all 'missing'."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def day_of(value: object) -> int | None:
    """A date-like value as days since 1970-01-01 (None when missing)."""
    if is_missing(value):
        return None
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return (ts.date() - EPOCH).days


def month_of_day(day: int) -> int:
    d = EPOCH + timedelta(days=day)
    return d.year * 12 + d.month - 1


def day_of_month(day: int) -> int:
    return (EPOCH + timedelta(days=day)).day


def month_of_period(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def text_or_none(value: object) -> str | None:
    return None if is_missing(value) else str(value)


def divide(a: float, b: float) -> float:
    """a / b, missing when b is 0 (and NaN in, NaN out)."""
    if is_missing(a) or is_missing(b) or b == 0:
        return NAN
    return a / b


# ----------------------------------------------------------------------------- the ledger


@dataclass
class ReferenceLedger:
    """The 8 tables as lists of plain dicts with dates as int days (convert once, reuse)."""

    members: list[dict[str, Any]]
    savings: list[dict[str, Any]]
    loans: list[dict[str, Any]]
    installments: list[dict[str, Any]]
    repayments: list[dict[str, Any]]
    store_purchases: list[dict[str, Any]]
    produce_sales: list[dict[str, Any]]

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame]) -> ReferenceLedger:
        def records(name: str, date_columns: tuple[str, ...]) -> list[dict[str, Any]]:
            out = []
            for row in tables[name].to_dict("records"):
                plain = {k: (None if is_missing(v) else v) for k, v in row.items()}
                for c in date_columns:
                    plain[c] = day_of(row[c])
                out.append(plain)
            return out

        return cls(
            members=records("members", ("join_date",)),
            savings=records("savings", ("date",)),
            loans=records("loans", ("application_date", "disbursement_date")),
            installments=records("installments", ("due_date",)),
            repayments=records("repayments", ("date",)),
            store_purchases=records("store_purchases", ("date",)),
            produce_sales=records("produce_sales", ("date",)),
        )


@dataclass
class Instalment:
    loan_id: str
    number: int
    due: int
    amount: int
    cover: float  # a day, or math.inf if the loan's payments never reach it
    is_last: bool


def loan_instalments(ledger: ReferenceLedger, loan_id: str) -> list[Instalment]:
    """The loan's instalments in order, each with its cover day.

    Walk the loan's payments (all of them, any date) in date order, keeping the running
    total paid; instalment k is covered on the first payment date on which that total
    reaches the cumulative amount due through k.
    """
    schedule = sorted(
        (r for r in ledger.installments if r["loan_id"] == loan_id),
        key=lambda r: r["installment_no"],
    )
    payments = sorted(
        ((r["date"], r["amount"]) for r in ledger.repayments if r["loan_id"] == loan_id),
        key=lambda p: p[0],
    )
    out = []
    cumulative_due = 0
    for i, row in enumerate(schedule):
        cumulative_due += row["amount_due"]
        cover: float = math.inf
        paid = 0
        for pay_day, amount in payments:
            paid += amount
            if paid >= cumulative_due:
                cover = pay_day
                break
        out.append(
            Instalment(
                loan_id=loan_id,
                number=row["installment_no"],
                due=row["due_date"],
                amount=row["amount_due"],
                cover=cover,
                is_last=i == len(schedule) - 1,
            )
        )
    return out


def member_loans(ledger: ReferenceLedger, member_id: str) -> list[dict[str, Any]]:
    return [r for r in ledger.loans if r["member_id"] == member_id]


def member_instalments(ledger: ReferenceLedger, member_id: str) -> list[Instalment]:
    out: list[Instalment] = []
    for loan in member_loans(ledger, member_id):
        out.extend(loan_instalments(ledger, loan["loan_id"]))
    return out


def dpd_at_start_of(instalments: list[Instalment], x: int) -> int:
    """Days past due at the start of day x: for the oldest instalment with due < x and
    cover >= x, x - due; 0 if none."""
    open_ones = [i for i in instalments if i.due < x and i.cover >= x]
    if not open_ones:
        return 0
    oldest = min(open_ones, key=lambda i: i.due)
    return x - oldest.due


# ----------------------------------------------------------------------------- the profile


def reference_profile(
    tables: Mapping[str, pd.DataFrame] | ReferenceLedger,
    member_id: str,
    as_of: object,
    principal: float | None = None,
    tenor: float | None = None,
    rate: float | None = None,
    purpose: str | None = None,
    product: str | None = None,
) -> dict[str, object]:
    """Every catalog feature of `member_id` as of `as_of`, from records dated before it."""
    ledger = tables if isinstance(tables, ReferenceLedger) else ReferenceLedger.from_tables(tables)
    t = day_of(as_of)
    assert t is not None, "as_of is required"
    member = next(m for m in ledger.members if m["member_id"] == member_id)
    f: dict[str, object] = {}

    character(ledger, member, t, f)
    capacity_monthly(ledger, member, t, f)
    capital(ledger, member, t, f)
    instalment_capacity(ledger, member, t, principal, tenor, rate, f)
    collateral(ledger, member, t, f)
    condition(ledger, member, t, principal, tenor, rate, purpose, product, f)
    thin_file(ledger, member, t, f)
    seasonal_term(ledger, member, t, tenor, f)

    names = (*feature_names(), *SALES_INDEX_COLUMNS)
    assert set(f) == set(names), sorted(set(names) ^ set(f))
    return {name: f[name] for name in names}


def character(ledger: ReferenceLedger, member: dict[str, Any], t: int, f: dict[str, object]):
    instalments = member_instalments(ledger, member["member_id"])
    past = [i for i in instalments if i.due < t]

    def on_time(i: Instalment) -> bool:
        return i.cover <= i.due

    def late_days(i: Instalment) -> float:
        end = min(i.cover, t)
        return end - i.due

    for label, days in (("6m", 183), ("12m", 365)):
        recent = [i for i in past if i.due >= t - days]
        n_on_time = sum(1 for i in recent if on_time(i))
        n_late = sum(1 for i in recent if not on_time(i))
        f[f"share_instalments_on_time_{label}"] = divide(n_on_time, len(recent))
        f[f"late_instalments_{label}"] = float(n_late)

    max_dpd = 0.0
    for i in past:
        end = min(i.cover, t)
        if end > t - 365:
            max_dpd = max(max_dpd, late_days(i))
    f["max_dpd_365d"] = float(max(max_dpd, 0))

    current = 0
    for i in past:
        if i.cover >= t:
            current = max(current, t - i.due)
    f["current_dpd"] = float(current)

    late_dues = [i.due for i in past if not on_time(i)]
    if late_dues:
        f["months_since_last_late"] = (t - (max(late_dues) + 1)) / DAYS_PER_MONTH
    else:
        f["months_since_last_late"] = NAN

    completed = 0
    defaulted = 0
    for loan in member_loans(ledger, member["member_id"]):
        loan_inst = [i for i in instalments if i.loan_id == loan["loan_id"]]
        last = [i for i in loan_inst if i.is_last]
        if last and last[0].cover < t:
            completed += 1
        if any(i.due < t and late_days(i) > 90 for i in loan_inst):
            defaulted += 1
    f["prior_loans_completed"] = float(completed)
    f["prior_loans_defaulted"] = float(defaulted)

    # wajib: member months (strictly after the joining month) paid by a deposit dated before T
    join_month = month_of_day(member["join_date"])
    mt = month_of_day(t)
    paid_periods = set()
    for s in ledger.savings:
        if (
            s["member_id"] == member["member_id"]
            and s["kind"] == "wajib"
            and s["direction"] == "deposit"
            and s["period"] is not None
            and s["date"] < t
        ):
            paid_periods.add(month_of_period(s["period"]))

    def is_member_month(p: int) -> bool:
        return p > join_month

    window12 = [p for p in range(mt - 12, mt) if is_member_month(p)]
    paid12 = [p for p in window12 if p in paid_periods]
    f["wajib_months_paid_12m"] = float(len(paid12))
    f["share_wajib_months_paid_12m"] = divide(len(paid12), len(window12))

    longest = 0
    run = 0
    for p in range(mt - 24, mt):
        if is_member_month(p) and p in paid_periods:
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    f["longest_wajib_streak_24m"] = float(longest)

    for days, name in ((365, "wajib_typical_pay_day_12m"), (730, "wajib_typical_pay_day_24m")):
        pay_days = [
            day_of_month(s["date"])
            for s in ledger.savings
            if s["member_id"] == member["member_id"]
            and s["kind"] == "wajib"
            and s["direction"] == "deposit"
            and t - days <= s["date"] < t
        ]
        # the geometric mean of the paying days
        f[name] = math.exp(sum(map(math.log, pay_days)) / len(pay_days)) if pay_days else NAN

    owed = 0
    for p in range(join_month + 1, mt):
        if p not in paid_periods:
            owed += 1
    f["wajib_months_owed"] = float(owed)
    f["membership_months"] = max(t - member["join_date"], 0) / DAYS_PER_MONTH


def monthly_totals(
    records: list[dict[str, Any]], member: dict[str, Any], months: list[int], only=None
) -> dict[int, float]:
    """Sum of amounts of the member's records per month, for the given months."""
    totals = {p: 0.0 for p in months}
    for r in records:
        if r["member_id"] != member["member_id"]:
            continue
        if only is not None and not only(r):
            continue
        p = month_of_day(r["date"])
        if p in totals:
            totals[p] += r["amount"]
    return totals


def capacity_monthly(ledger: ReferenceLedger, member: dict[str, Any], t: int, f: dict[str, object]):
    join_month = month_of_day(member["join_date"])
    mt = month_of_day(t)

    def window(w: int) -> list[int]:
        """The member months among the w full months before T's month."""
        return [p for p in range(mt - w, mt) if p > join_month]

    sales = {w: monthly_totals(ledger.produce_sales, member, window(w)) for w in (3, 6, 12)}
    for w in (3, 6, 12):
        f[f"avg_monthly_sales_{w}m"] = divide(sum(sales[w].values()), len(window(w)))
    f["sales_trend_3m_vs_12m"] = divide(f["avg_monthly_sales_3m"], f["avg_monthly_sales_12m"])

    totals6 = list(sales[6].values())
    if totals6:
        mean6 = sum(totals6) / len(totals6)
        std6 = math.sqrt(sum((x - mean6) ** 2 for x in totals6) / len(totals6))
        f["sales_volatility_6m"] = divide(std6, mean6)
    else:
        f["sales_volatility_6m"] = NAN

    totals12 = list(sales[12].values())
    avg12 = f["avg_monthly_sales_12m"]
    if totals12:
        f["seasonal_dip_depth"] = 1 - divide(min(totals12), avg12)
    else:
        f["seasonal_dip_depth"] = NAN
    f["months_with_sales_12m"] = float(sum(1 for x in totals12 if x > 0))
    f["estimated_monthly_income"] = 0.0 if is_missing(avg12) else avg12

    spend3 = monthly_totals(ledger.store_purchases, member, window(3))
    f["sembako_spend_3m"] = divide(sum(spend3.values()), len(window(3)))
    spend6 = monthly_totals(ledger.store_purchases, member, window(6))
    credit6 = monthly_totals(
        ledger.store_purchases, member, window(6), only=lambda r: r["payment"] == "credit"
    )
    f["sembako_credit_share_6m"] = divide(sum(credit6.values()), sum(spend6.values()))
    spend12 = monthly_totals(ledger.store_purchases, member, window(12))
    f["sembako_spend_12m"] = divide(sum(spend12.values()), len(window(12)))
    months24 = set(window(24))
    purchases24 = [
        r
        for r in ledger.store_purchases
        if r["member_id"] == member["member_id"] and month_of_day(r["date"]) in months24
    ]
    on_credit24 = sum(1 for r in purchases24 if r["payment"] == "credit")
    f["sembako_credit_share_24m"] = divide(on_credit24, len(purchases24))


def sukarela_balance_before(ledger: ReferenceLedger, member_id: str, day: int) -> float:
    balance = 0.0
    for s in ledger.savings:
        if s["member_id"] == member_id and s["kind"] == "sukarela" and s["date"] < day:
            balance += s["amount"] if s["direction"] == "deposit" else -s["amount"]
    return balance


def capital(ledger: ReferenceLedger, member: dict[str, Any], t: int, f: dict[str, object]):
    mid = member["member_id"]
    balance = sukarela_balance_before(ledger, mid, t)
    f["sukarela_balance"] = balance
    f["sukarela_trend_3m"] = balance - sukarela_balance_before(ledger, mid, t - 90)

    withdrawals = [
        s
        for s in ledger.savings
        if s["member_id"] == mid and s["kind"] == "sukarela" and s["direction"] == "withdrawal"
    ]
    f["sukarela_withdrawals_6m"] = float(sum(1 for w in withdrawals if t - 183 <= w["date"] < t))

    due_days = [i.due for i in member_instalments(ledger, mid)]
    strained = 0
    for w in withdrawals:
        if not t - 365 <= w["date"] < t:
            continue
        following = [u for u in due_days if w["date"] < u <= w["date"] + 30]
        if following and min(following) < t:
            strained += 1
    f["withdrawals_before_due_12m"] = float(strained)

    total = 0.0
    for s in ledger.savings:
        if s["member_id"] == mid and s["date"] < t:
            total += s["amount"] if s["direction"] == "deposit" else -s["amount"]
    f["total_savings"] = total


def proposed_instalment(principal, tenor, rate) -> float:
    if is_missing(principal) or is_missing(tenor) or is_missing(rate):
        return NAN
    return principal / tenor + principal * rate


def capped_ratio(a: float, income: float) -> float:
    if income == 0:
        return NAN
    value = divide(a, income)
    return value if is_missing(value) else min(value, 20.0)


def instalment_capacity(
    ledger: ReferenceLedger,
    member: dict[str, Any],
    t: int,
    principal,
    tenor,
    rate,
    f: dict[str, object],
):
    existing = 0.0
    for loan in member_loans(ledger, member["member_id"]):
        disbursed = loan["disbursement_date"]
        if disbursed is None or not disbursed < t:
            continue
        for i in loan_instalments(ledger, loan["loan_id"]):
            if t <= i.due < t + 30 and i.cover >= t:
                existing += i.amount
    f["existing_debt_service"] = existing
    income = f["estimated_monthly_income"]
    proposed = proposed_instalment(principal, tenor, rate)
    f["instalment_to_income"] = capped_ratio(proposed, income)
    f["instalment_to_sembako_spend"] = capped_ratio(proposed, f["sembako_spend_12m"])
    f["debt_service_to_income"] = capped_ratio(proposed + existing, income)


def collateral(ledger: ReferenceLedger, member: dict[str, Any], t: int, f: dict[str, object]):
    group = member["group_id"]
    if group is None:
        f["in_group"] = 0.0
        f["group_size"] = 0.0
        f["group_members_in_arrears"] = 0.0
        f["group_share_in_arrears"] = 0.0
        f["group_past_defaults"] = 0.0
        return
    group_members = [m for m in ledger.members if m["group_id"] == group]
    others = [m for m in group_members if m["member_id"] != member["member_id"]]
    size = len(group_members)
    in_arrears = 0
    past_defaults = 0
    for other in others:
        if dpd_at_start_of(member_instalments(ledger, other["member_id"]), t) > 30:
            in_arrears += 1
        for loan in member_loans(ledger, other["member_id"]):
            instalments = loan_instalments(ledger, loan["loan_id"])
            if any(i.due + 91 <= t and i.cover >= i.due + 91 for i in instalments):
                past_defaults += 1
    f["in_group"] = 1.0
    f["group_size"] = float(size)
    f["group_members_in_arrears"] = float(in_arrears)
    f["group_share_in_arrears"] = in_arrears / max(size - 1, 1)
    f["group_past_defaults"] = float(past_defaults)


def coop_arrears_rate(ledger: ReferenceLedger, x: int) -> float:
    in_arrears = 0
    borrowing = 0
    for m in ledger.members:
        instalments = member_instalments(ledger, m["member_id"])
        if dpd_at_start_of(instalments, x) > 30:
            in_arrears += 1
        outstanding = False
        for loan in member_loans(ledger, m["member_id"]):
            disbursed = loan["disbursement_date"]
            if disbursed is None or disbursed > x:
                continue
            last = [i for i in loan_instalments(ledger, loan["loan_id"]) if i.is_last]
            if last and last[0].cover >= x:
                outstanding = True
        if outstanding:
            borrowing += 1
    if borrowing == 0:
        return 0.0
    return in_arrears / borrowing


def condition(
    ledger: ReferenceLedger,
    member: dict[str, Any],
    t: int,
    principal,
    tenor,
    rate,
    purpose,
    product,
    f: dict[str, object],
):
    rates = [coop_arrears_rate(ledger, t - back) for back in (0, 30, 60)]
    f["coop_arrears_rate_3m"] = sum(rates) / 3
    f["application_month"] = str((EPOCH + timedelta(days=t)).month)
    f["loan_amount"] = NAN if is_missing(principal) else float(principal)
    f["tenor_months"] = NAN if is_missing(tenor) else float(tenor)
    f["flat_monthly_rate"] = NAN if is_missing(rate) else float(rate)
    f["loan_purpose"] = text_or_none(purpose)
    f["loan_product"] = text_or_none(product)
    f["business_sector"] = member["sector"]


def thin_file(ledger: ReferenceLedger, member: dict[str, Any], t: int, f: dict[str, object]):
    mid = member["member_id"]
    days = [
        r["date"]
        for records in (ledger.savings, ledger.store_purchases, ledger.produce_sales)
        for r in records
        if r["member_id"] == mid and r["date"] < t
    ]
    f["months_of_history"] = (t - min(days)) / DAYS_PER_MONTH if days else 0.0
    f["ledger_events_6m"] = float(sum(1 for d in days if d >= t - 183))
    f["has_prior_loan"] = float(
        any(
            loan["disbursement_date"] is not None and loan["disbursement_date"] < t
            for loan in member_loans(ledger, mid)
        )
    )


def seasonal_term(
    ledger: ReferenceLedger, member: dict[str, Any], t: int, tenor, f: dict[str, object]
):
    """The sector's calendar-month sales index (not a feature) and `term_sales_index`."""
    mt = month_of_day(t)
    window = range(mt - 24, mt)
    peers = {
        m["member_id"]: month_of_day(m["join_date"])
        for m in ledger.members
        if member["sector"] is not None and m["sector"] == member["sector"]
    }
    member_months = [0] * 12  # by calendar month, 0 = January
    for p in window:
        for join_month in peers.values():
            if p > join_month:
                member_months[p % 12] += 1
    sold = [0.0] * 12
    for r in ledger.produce_sales:
        join_month = peers.get(r["member_id"])
        p = month_of_day(r["date"])
        if join_month is not None and p in window and p > join_month:
            sold[p % 12] += r["amount"]
    per_month = divide(sum(sold), sum(member_months))
    if all(n > 0 for n in member_months) and not is_missing(per_month) and per_month > 0:
        index = [divide(sold[c], member_months[c]) / per_month for c in range(12)]
    else:
        index = [NAN] * 12
    for c, name in enumerate(SALES_INDEX_COLUMNS):
        f[name] = index[c]
    if is_missing(tenor):
        f["term_sales_index"] = NAN
        return
    month = (EPOCH + timedelta(days=t)).month
    count = min(int(tenor), 12)
    due_months = [(month - 1 + k) % 12 for k in range(1, count + 1)]
    f["term_sales_index"] = sum(index[c] for c in due_months) / count


# ----------------------------------------------------------------------------- comparison


def compare_profiles(
    fast_row: Mapping[str, object],
    ref: Mapping[str, object],
    rtol: float = 1e-9,
    atol: float = 1e-9,
) -> list[str]:
    """Human-readable differences between two profiles over every catalog feature and
    the sector's sales index that travels beside them (when either profile holds it).

    Missing on both sides (None/NaN/NA) is equal; categories are compared as text; numbers
    are equal when within `rtol` relative or `atol` absolute difference (infinities must
    match exactly).
    """
    categorical = set(categorical_names())
    problems: list[str] = []
    index = [c for c in SALES_INDEX_COLUMNS if c in fast_row or c in ref]  # when either has it
    for name in (*feature_names(), *index):
        if name not in fast_row or name not in ref:
            side = "fast" if name not in fast_row else "reference"
            problems.append(f"{name}: missing from the {side} profile")
            continue
        a, b = fast_row[name], ref[name]
        a_missing, b_missing = is_missing(a), is_missing(b)
        if a_missing or b_missing:
            if a_missing != b_missing:
                problems.append(f"{name}: fast={a!r} reference={b!r}")
            continue
        if name in categorical:
            if str(a) != str(b):
                problems.append(f"{name}: fast={a!r} reference={b!r}")
            continue
        try:
            fa, fb = float(a), float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(f"{name}: not a number: fast={a!r} reference={b!r}")
            continue
        if math.isinf(fa) or math.isinf(fb):
            equal = fa == fb
        else:
            equal = math.isclose(fa, fb, rel_tol=rtol, abs_tol=atol)
        if not equal:
            problems.append(f"{name}: fast={fa!r} reference={fb!r}")
    return problems
