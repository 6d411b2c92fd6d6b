"""Read-only views of one cooperative's ledger as of a day, for the officer console.

"As of" is the ledger's as-of day D (the manifest's `as_of`): only events dated before D
count, and every figure is the one at the start of D. Days past due follow
`repayment_status` exactly: payments settle the oldest instalment first, and a loan's days
past due are D minus the due date of its oldest instalment not covered by payments made
before D (0 when that instalment is not yet due). A member's worst loan is the profile
builder's `current_dpd` as of D. Instalments falling due on or after D are the schedule ahead: they
count in what is owed (`outstanding`) but not in arrears.

Everything here is a pure function over the five tables of `CooperativeBook`; `load_book`
is the one reader. Per-loan figures come from one vectorised pass (`loan_positions`). The
member page and the collection list reach a member's rows through an index the book builds
on first use (rows sorted by member), so neither loops over the cooperative in Python.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.kolektibilitas import NPL_FROM, kolektibilitas
from features.ledger.contracts import DATE_DTYPE
from features.ledger.enums import Direction, SavingsKind
from features.ledger.store import Ledger
from features.repayment_status import NEVER, cover_dates, days

__all__ = [
    "BOOK_COLUMNS",
    "CollectionItem",
    "CooperativeBook",
    "GroupMate",
    "InstalmentLine",
    "KolBand",
    "LoanLine",
    "MemberHit",
    "MemberView",
    "PortfolioBook",
    "SavingsMonth",
    "book_as_of",
    "collection_list",
    "defaults_after",
    "load_book",
    "loan_positions",
    "member_number",
    "member_view",
    "portfolio_book",
    "search_members",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

HISTORY_MONTHS = 24  # savings months on the member page
HISTORY_INSTALMENTS = 24  # instalments already due on the member page
WAJIB_WINDOW_MONTHS = 12
_DAY_BITS = 24  # (loan << 24) | day keys; NEVER = 2^23 fits

# The columns the views read: NIK and phone hashes are never loaded.
BOOK_COLUMNS: dict[str, list[str]] = {
    "members": ["member_id", "cooperative_id", "name", "join_date", "sector", "group_id"],
    "savings": ["member_id", "date", "kind", "direction", "amount", "period"],
    "loans": [
        "loan_id", "member_id", "group_id", "application_date", "disbursement_date", "status",
        "principal", "tenor_months", "flat_monthly_rate", "product", "purpose",
    ],
    "installments": [
        "loan_id", "member_id", "installment_no", "due_date", "principal_due", "interest_due",
        "amount_due",
    ],
    "repayments": ["loan_id", "member_id", "date", "amount"],
}  # fmt: skip


def _codes(index: pd.Index, values: pd.Series) -> IntArray:
    """Position of each value in `index` (-1 when absent), compared as text."""
    return np.asarray(index.get_indexer(pd.Index(values.astype(str))), dtype=np.int64)


class _MemberRows:
    """Row numbers of one table grouped by member (members' positions in `members`)."""

    def __init__(self, member_codes: IntArray, n_members: int) -> None:
        self.order = np.argsort(member_codes, kind="stable")
        # rows of unknown members (code -1) sort first and belong to nobody
        self.bounds = np.searchsorted(member_codes[self.order], np.arange(n_members + 1))

    def of(self, members: IntArray) -> IntArray:
        parts = [self.order[self.bounds[m] : self.bounds[m + 1]] for m in members]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class _BookIndex:
    """Lookups built once per book: members by id and by group, each table's rows by
    member, and the schedules as cumulative amounts keyed by (loan, due day)."""

    def __init__(self, book: CooperativeBook) -> None:
        m = book.members
        self.ids = pd.Index(m["member_id"].astype(str))
        n = len(self.ids)
        self.id_values: list[str] = self.ids.tolist()
        self.names: list[str] = m["name"].fillna("").astype(str).tolist()
        self.name_sort = np.array([s.casefold() for s in self.names], dtype=object)
        self.group_values: list[str | None] = [_text_or_none(g) for g in m["group_id"]]
        codes, self.group_ids = pd.factorize(m["group_id"])  # -1: no group
        self.group_code = codes.astype(np.int64)
        self.join_days = days(m["join_date"])
        self.sectors: list[str] = m["sector"].astype(str).tolist()
        self.rows = {
            name: _MemberRows(self.member_codes(getattr(book, name)["member_id"]), n)
            for name in ("savings", "loans", "installments", "repayments")
        }
        # group members in name order, for the collection list's contacts
        by_name = np.lexsort((np.asarray(self.id_values, dtype=object), self.name_sort))
        grouped = by_name[self.group_code[by_name] >= 0]
        self.group_members: dict[int, IntArray] = {
            int(g): grouped[self.group_code[grouped] == g]
            for g in np.unique(self.group_code[grouped])
        }
        inst = book.installments
        loan_codes, loan_ids = pd.factorize(inst["loan_id"].astype(str))
        self.schedule_loans = pd.Index(loan_ids)
        due = days(inst["due_date"])
        key = (loan_codes.astype(np.int64) << _DAY_BITS) + due
        order = np.argsort(key, kind="stable")
        self.schedule_key = key[order]
        self.schedule_cum = np.r_[0, np.cumsum(inst["amount_due"].to_numpy(np.int64)[order])]

    def member_codes(self, member_ids: pd.Series) -> IntArray:
        return _codes(self.ids, member_ids)

    def position(self, member_id: str) -> int:
        """The member's row in `members`, -1 when unknown."""
        return int(self.ids.get_indexer(pd.Index([member_id]))[0])

    def due_before(self, loan_ids: pd.Series, day: int) -> IntArray:
        """Per loan, the scheduled amount due before `day` (0 for a loan without schedule)."""
        code = _codes(self.schedule_loans, loan_ids)
        known = code >= 0
        code = np.where(known, code, 0) << _DAY_BITS
        lo = np.searchsorted(self.schedule_key, code, "left")
        hi = np.searchsorted(self.schedule_key, code + day, "left")
        return np.where(known, self.schedule_cum[hi] - self.schedule_cum[lo], 0)


@dataclass(frozen=True, eq=False)
class CooperativeBook:
    """The tables of one cooperative, read once (columns as in `BOOK_COLUMNS`).

    `as_of` is the ledger's as-of day: events are dated before it. Compared by identity:
    the frames are not values. The lookups the views need are built on first use."""

    cooperative_id: str
    as_of: date
    members: pd.DataFrame
    savings: pd.DataFrame
    loans: pd.DataFrame
    installments: pd.DataFrame
    repayments: pd.DataFrame

    @cached_property
    def _index(self) -> _BookIndex:
        return _BookIndex(self)

    @cached_property
    def _search_keys(self) -> pd.DataFrame:
        """Number (upper case) and folded name per member, in `members` order."""
        prefix = f"{self.cooperative_id}-"
        ids = self.members["member_id"].astype(str)
        return pd.DataFrame(
            {
                "number": ids.str.removeprefix(prefix).str.upper().to_numpy(),
                "name_key": [_fold(str(n)) for n in self.members["name"].fillna("")],
            }
        )


def load_book(ledger_root: Path, cooperative_id: str) -> CooperativeBook:
    """One cooperative's tables from a ledger folder. Raises KeyError for a cooperative the
    ledger does not hold (and `LedgerNotFoundError` for a folder that is no ledger)."""
    ledger = Ledger(ledger_root)
    part = ledger.partition(cooperative_id)
    tables = {name: part.table(name, columns=cols) for name, cols in BOOK_COLUMNS.items()}
    return CooperativeBook(
        cooperative_id=cooperative_id,
        as_of=ledger.as_of.date(),
        members=tables["members"],
        savings=tables["savings"],
        loans=tables["loans"],
        installments=tables["installments"],
        repayments=tables["repayments"],
    )


def member_number(member_id: str, cooperative_id: str) -> str:
    """The member number within the cooperative: ("KMP-0026-A00006", "KMP-0026") ->
    "A00006". The ledger forms member ids as `<cooperative_id>-<number>`; an id of another
    cooperative is a ValueError (the message does not repeat it)."""
    prefix = f"{cooperative_id}-"
    if not member_id.startswith(prefix) or len(member_id) == len(prefix):
        raise ValueError(f"not a member id of cooperative {cooperative_id!r}")
    return member_id[len(prefix) :]


# ---------------------------------------------------------------------------- search


@dataclass(frozen=True)
class MemberHit:
    member_id: str
    number: str
    name: str
    group_id: str | None
    join_date: date
    sector: str


def _fold(text: str) -> str:
    """Case, accents, spaces and punctuation removed: "José  Ramírez" -> "joseramirez"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


def _text_or_none(value: object) -> str | None:
    return None if value is None or value is pd.NA or value != value else str(value)


def _hit(book: CooperativeBook, j: int) -> MemberHit:
    idx = book._index
    return MemberHit(
        member_id=idx.id_values[j],
        number=member_number(idx.id_values[j], book.cooperative_id),
        name=idx.names[j],
        group_id=idx.group_values[j],
        join_date=_to_date(int(idx.join_days[j])),
        sector=idx.sectors[j],
    )


def search_members(book: CooperativeBook, query: str, limit: int = 20) -> list[MemberHit]:
    """Members whose name contains the query (ignoring case, accents, spaces and
    punctuation) or whose number is or starts with it (the number "A00006" or the whole
    member id). Exact number matches first, then by name; at most `limit`; [] for a blank
    query."""
    q = query.strip()
    if not q or limit <= 0:
        return []
    keys = book._search_keys
    number_q = q.upper().removeprefix(f"{book.cooperative_id.upper()}-")
    exact = (keys["number"] == number_q).to_numpy()
    found = exact | keys["number"].str.startswith(number_q).to_numpy()
    folded = _fold(q)
    if folded:
        found |= keys["name_key"].str.contains(folded, regex=False).to_numpy()
    at = np.flatnonzero(found)
    numbers = keys["number"].to_numpy()
    order = np.lexsort((numbers[at], book._index.name_sort[at], ~exact[at]))
    return [_hit(book, int(j)) for j in at[order][:limit]]


# ---------------------------------------------------------------------------- positions


def _day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _to_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day)


def _sum_by(codes: IntArray, values: npt.ArrayLike, n: int) -> IntArray:
    """Integer sums per code 0..n-1 (bincount's float sums are exact below 2^53 Rupiah)."""
    sums = np.bincount(codes, weights=np.asarray(values, dtype=np.float64), minlength=n)
    return np.rint(sums).astype(np.int64)


def _dates(day_values: IntArray, present: BoolArray) -> pd.Series:
    """Days since 1970 as a date column (`DATE_DTYPE`), NaT where not `present`."""
    values = np.where(present, day_values, 0).astype("datetime64[D]").astype(DATE_DTYPE)
    return pd.Series(values).where(present)


def loan_positions(book: CooperativeBook) -> pd.DataFrame:
    """One row per loan disbursed before `as_of`, as of the start of `as_of`.

    Columns (amounts int Rupiah): loan_id, member_id, group_id (the member's tanggung
    renteng group, as the profile builder counts group arrears), principal, tenor_months,
    disbursement_date, purpose, amount_due_total (the whole schedule), paid_total (payments
    before as_of), outstanding (amount_due_total - paid_total, >= 0), outstanding_principal
    (payments settle the oldest instalment first and, within one, interest before principal;
    the schedule's principal parts not yet settled), arrears_amount (due before as_of and not
    yet paid), days_past_due and kolektibilitas (`repayment_status`, `kolektibilitas`),
    next_due_date and next_amount_due (the oldest uncovered instalment's due date and what is
    still unpaid of it; NaT/NA when every instalment is covered) and closed (every instalment
    covered). Rows in `loans` order."""
    return _positions(book, book.loans, book.installments, book.repayments)


def _positions(
    book: CooperativeBook, loans: pd.DataFrame, inst: pd.DataFrame, pays: pd.DataFrame
) -> pd.DataFrame:
    """`loan_positions` of the given rows of loans with (at least) their instalments and
    repayments."""
    t = _day(book.as_of)
    ln = loans.loc[days(loans["disbursement_date"]) < t]
    ids = pd.Index(ln["loan_id"].astype(str))
    n = len(ids)
    inst = inst.loc[_codes(ids, inst["loan_id"]) >= 0]
    pay_code = _codes(ids, pays["loan_id"])
    before = (pay_code >= 0) & (days(pays["date"]) < t)
    pays, pay_code = pays.loc[before], pay_code[before]
    cov = cover_dates(inst, pays)  # sorted by loan and instalment number

    code = _codes(ids, cov["loan_id"])
    amount = cov["amount_due"].to_numpy(np.int64)
    cum_due = cov["cum_due"].to_numpy(np.int64)
    due = days(cov["due_date"])
    paid = _sum_by(pay_code, pays["amount"], n)
    total_due = _sum_by(code, amount, n)
    due_before = _sum_by(code, np.where(due < t, amount, 0), n)

    # the oldest uncovered instalment of each loan: the rows are in loan and number order
    uncovered = np.flatnonzero(cov["cover_date"].isna().to_numpy())
    open_loans, first = np.unique(code[uncovered], return_index=True)
    first_row = uncovered[first]
    next_due = np.full(n, NEVER, dtype=np.int64)
    next_due[open_loans] = due[first_row]
    has_next = next_due < NEVER
    next_amount = np.zeros(n, dtype=np.int64)
    next_amount[open_loans] = cum_due[first_row] - paid[open_loans]
    dpd = np.where(next_due < t, t - next_due, 0).astype(np.int64)

    # principal settled: each instalment takes what the payments reach of it, interest first
    reached = np.clip(paid[code] - (cum_due - amount), 0, amount)
    principal_due = cov["principal_due"].to_numpy(np.int64)
    settled = np.clip(reached - cov["interest_due"].to_numpy(np.int64), 0, principal_due)
    outstanding_principal = _sum_by(code, principal_due - settled, n)

    idx = book._index
    member = idx.member_codes(ln["member_id"])
    groups = [idx.group_values[m] if m >= 0 else None for m in member]
    return pd.DataFrame(
        {
            "loan_id": ln["loan_id"].to_numpy(),
            "member_id": ln["member_id"].to_numpy(),
            "group_id": pd.Series(groups, dtype="str"),
            "principal": ln["principal"].to_numpy(np.int64),
            "tenor_months": ln["tenor_months"].to_numpy(np.int64),
            "disbursement_date": ln["disbursement_date"].astype(DATE_DTYPE).to_numpy(),
            "purpose": ln["purpose"].to_numpy(),
            "amount_due_total": total_due,
            "paid_total": paid,
            "outstanding": np.maximum(total_due - paid, 0),
            "outstanding_principal": np.maximum(outstanding_principal, 0),
            "arrears_amount": np.maximum(due_before - paid, 0),
            "days_past_due": dpd,
            "kolektibilitas": kolektibilitas(dpd),
            "next_due_date": _dates(next_due, has_next),
            "next_amount_due": pd.Series(next_amount, dtype="Int64").where(has_next),
            "closed": ~has_next,
        }
    )


def _worst(book: CooperativeBook, positions: pd.DataFrame) -> tuple[IntArray, IntArray]:
    """Per member (in `members` order): worst days past due over her loans and her total
    arrears, 0 without loans."""
    idx = book._index
    n = len(idx.ids)
    member = idx.member_codes(positions["member_id"])
    known = member >= 0
    worst = np.zeros(n, dtype=np.int64)
    np.maximum.at(worst, member[known], positions["days_past_due"].to_numpy(np.int64)[known])
    arrears = _sum_by(member[known], positions["arrears_amount"].to_numpy(np.int64)[known], n)
    return worst, arrears


# ---------------------------------------------------------------------------- member page


@dataclass(frozen=True)
class SavingsMonth:
    """One calendar month of a member's savings: the net flow of each kind in the month
    (deposits minus withdrawals; only sukarela can be withdrawn, so only it can be
    negative) and the balance of all her savings at the month's end."""

    month: str
    pokok: int
    wajib: int
    sukarela: int
    balance: int


@dataclass(frozen=True)
class InstalmentLine:
    """One scheduled instalment. `covered_on` is the day payments first reached it;
    `days_late` the days from due date to that day (0 when on time or early), the days late
    so far for one past due and uncovered, None for one not covered and not yet due."""

    loan_id: str
    installment_no: int
    due_date: date
    amount_due: int
    covered_on: date | None
    days_late: int | None


@dataclass(frozen=True)
class LoanLine:
    loan_id: str
    principal: int
    tenor_months: int
    disbursement_date: date
    outstanding: int
    days_past_due: int
    kolektibilitas: int
    next_due_date: date | None
    next_amount_due: int | None
    closed: bool
    purpose: str


@dataclass(frozen=True)
class GroupMate:
    """A member of the same tanggung renteng group: worst days past due over her loans,
    its class and her total arrears (all 0 without a loan in arrears)."""

    member_id: str
    number: str
    name: str
    days_past_due: int
    kolektibilitas: int
    arrears_amount: int


@dataclass(frozen=True)
class MemberView:
    """What the member page shows.

    `savings_months`: the 24 calendar months up to the month of the day before as_of,
    oldest first, every month present. `wajib_months_missed_12m`: of the 12 full months
    before as_of's month (months after the joining month only, as the profile builder
    counts them), those whose simpanan wajib was not paid before as_of. `instalments`: the
    last 24 instalments due before as_of and, for each loan still open, the next one falling
    due, oldest first. `loans`: every disbursed loan, newest first. `group`: the other
    members of the member's group, worst days past due first."""

    hit: MemberHit
    savings_months: list[SavingsMonth]
    wajib_months_missed_12m: int
    instalments: list[InstalmentLine]
    loans: list[LoanLine]
    group_id: str | None
    group: list[GroupMate]
    group_in_arrears: int


def _month_index(day_values: IntArray) -> IntArray:
    """Months since 1970-01 of days since 1970."""
    months = day_values.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.asarray(months, dtype=np.int64)


def _savings_months(sv: pd.DataFrame, as_of: date) -> list[SavingsMonth]:
    t = _day(as_of)
    last = int(_month_index(np.array([t - 1]))[0])
    first = last - HISTORY_MONTHS + 1
    d = days(sv["date"])
    before = d < t
    sv, d = sv.loc[before], d[before]
    withdrawal = (sv["direction"] == Direction.WITHDRAWAL).to_numpy()
    signed = np.where(withdrawal, -1, 1) * sv["amount"].to_numpy(np.int64)
    month = _month_index(d)
    opening = int(signed[month < first].sum())
    inside = month >= first
    col, signed_in = month[inside] - first, signed[inside]
    kind = sv["kind"].to_numpy(dtype=object)[inside]
    flow = {
        k: _sum_by(col[kind == k], signed_in[kind == k], HISTORY_MONTHS).tolist()
        for k in (SavingsKind.POKOK, SavingsKind.WAJIB, SavingsKind.SUKARELA)
    }
    balance = (opening + np.cumsum(_sum_by(col, signed_in, HISTORY_MONTHS))).tolist()
    labels = np.arange(first, last + 1).astype("datetime64[M]").astype(str).tolist()
    return [
        SavingsMonth(
            labels[i],
            flow[SavingsKind.POKOK][i],
            flow[SavingsKind.WAJIB][i],
            flow[SavingsKind.SUKARELA][i],
            balance[i],
        )
        for i in range(HISTORY_MONTHS)
    ]


def _wajib_missed(sv: pd.DataFrame, join_day: int, as_of: date) -> int:
    """Months of the 12 before as_of's month, after the joining month, with no wajib
    deposit for that period dated before as_of (the profile builder's months)."""
    t = _day(as_of)
    mt = int(_month_index(np.array([t]))[0])
    join_month = int(_month_index(np.array([join_day]))[0])
    window = np.arange(max(mt - WAJIB_WINDOW_MONTHS, join_month + 1), mt)
    paid_rows = (
        (sv["kind"] == SavingsKind.WAJIB).to_numpy()
        & (sv["direction"] != Direction.WITHDRAWAL).to_numpy()
        & sv["period"].notna().to_numpy()
        & (days(sv["date"]) < t)
    )
    periods = sv.loc[paid_rows, "period"].to_numpy(dtype=str).astype("datetime64[M]")
    paid = np.isin(window, periods.astype(np.int64))
    return int((~paid).sum())


def _instalment_lines(
    inst: pd.DataFrame, pays: pd.DataFrame, open_loans: set[str], as_of: date
) -> list[InstalmentLine]:
    t = _day(as_of)
    cov = cover_dates(inst, pays.loc[days(pays["date"]) < t])
    due = days(cov["due_date"])
    cover = days(cov["cover_date"])
    loan = cov["loan_id"].astype(str).to_numpy(dtype=object)
    number = cov["installment_no"].to_numpy(np.int64)
    past = np.flatnonzero(due < t)
    past = past[np.lexsort((number[past], loan[past], due[past]))][-HISTORY_INSTALMENTS:]
    ahead = np.flatnonzero((due >= t) & np.isin(loan, list(open_loans)))
    _, first = np.unique(loan[ahead], return_index=True)  # rows by number: the next one
    shown = np.r_[past, ahead[first]]
    shown = shown[np.lexsort((number[shown], loan[shown], due[shown]))]
    amounts = cov["amount_due"].to_numpy(np.int64)
    lines = []
    for i in shown.tolist():
        covered = bool(cover[i] < NEVER)
        if covered:
            late: int | None = max(int(cover[i] - due[i]), 0)
        elif due[i] < t:
            late = t - int(due[i])
        else:
            late = None
        lines.append(
            InstalmentLine(
                loan_id=str(loan[i]),
                installment_no=int(number[i]),
                due_date=_to_date(int(due[i])),
                amount_due=int(amounts[i]),
                covered_on=_to_date(int(cover[i])) if covered else None,
                days_late=late,
            )
        )
    return lines


def _loan_lines(own: pd.DataFrame) -> list[LoanLine]:
    has_next = own["next_due_date"].notna().tolist()
    columns = zip(
        own["loan_id"].astype(str).tolist(),
        own["principal"].tolist(),
        own["tenor_months"].tolist(),
        days(own["disbursement_date"]).tolist(),
        own["outstanding"].tolist(),
        own["days_past_due"].tolist(),
        own["kolektibilitas"].tolist(),
        days(own["next_due_date"]).tolist(),
        own["next_amount_due"].fillna(0).astype(np.int64).tolist(),
        has_next,
        own["closed"].tolist(),
        own["purpose"].astype(str).tolist(),
        strict=True,
    )
    return [
        LoanLine(
            loan_id=loan,
            principal=int(principal),
            tenor_months=int(tenor),
            disbursement_date=_to_date(int(disbursed)),
            outstanding=int(outstanding),
            days_past_due=int(dpd),
            kolektibilitas=int(kol),
            next_due_date=_to_date(int(next_due)) if nxt else None,
            next_amount_due=int(next_amount) if nxt else None,
            closed=bool(closed),
            purpose=purpose,
        )
        for (
            loan, principal, tenor, disbursed, outstanding, dpd, kol, next_due, next_amount,
            nxt, closed, purpose,
        ) in columns
    ]  # fmt: skip


def member_view(
    book: CooperativeBook, member_id: str, positions: pd.DataFrame | None = None
) -> MemberView | None:
    """The member page of `member_id` (the whole member id), or None when she is not a
    member of this cooperative. `positions` (from `loan_positions`) saves recomputing;
    without it only the loans of the member and her group are computed."""
    mid = member_id.strip()
    if not mid.startswith(f"{book.cooperative_id}-"):
        return None
    idx = book._index
    me = idx.position(mid)
    if me < 0:
        return None
    hit = _hit(book, me)
    g = int(idx.group_code[me])
    mates = np.flatnonzero(idx.group_code == g) if g >= 0 else np.zeros(0, dtype=np.int64)
    mates = mates[mates != me]
    people = np.r_[me, mates].astype(np.int64)

    rows = idx.rows
    inst = book.installments.iloc[rows["installments"].of(people)]
    pays = book.repayments.iloc[rows["repayments"].of(people)]
    if positions is None:
        positions = _positions(book, book.loans.iloc[rows["loans"].of(people)], inst, pays)
    else:
        positions = positions.loc[positions["member_id"].isin([idx.id_values[j] for j in people])]

    is_me = (positions["member_id"] == mid).to_numpy()
    own = positions.loc[is_me].sort_values(["disbursement_date", "loan_id"], ascending=False)
    own_loans = set(own["loan_id"].astype(str))
    open_loans = set(own.loc[~own["closed"].to_numpy(), "loan_id"].astype(str))
    own_inst = inst.loc[inst["loan_id"].isin(own_loans).to_numpy()]
    own_pays = pays.loc[pays["loan_id"].isin(own_loans).to_numpy()]

    worst, arrears = _worst(book, positions.loc[~is_me])
    order = np.lexsort(
        (
            np.asarray([idx.id_values[j] for j in mates], dtype=object),
            idx.name_sort[mates],
            -arrears[mates],
            -worst[mates],
        )
    )
    group = [
        GroupMate(
            member_id=idx.id_values[j],
            number=member_number(idx.id_values[j], book.cooperative_id),
            name=idx.names[j],
            days_past_due=int(worst[j]),
            kolektibilitas=int(kolektibilitas(int(worst[j]))),
            arrears_amount=int(arrears[j]),
        )
        for j in mates[order].tolist()
    ]
    sv = book.savings.iloc[rows["savings"].of(np.array([me]))]
    return MemberView(
        hit=hit,
        savings_months=_savings_months(sv, book.as_of),
        wajib_months_missed_12m=_wajib_missed(sv, int(idx.join_days[me]), book.as_of),
        instalments=_instalment_lines(own_inst, own_pays, open_loans, book.as_of),
        loans=_loan_lines(own),
        group_id=hit.group_id,
        group=group,
        group_in_arrears=sum(1 for m in group if m.days_past_due > 0),
    )


# ---------------------------------------------------------------------------- collection


@dataclass(frozen=True)
class CollectionItem:
    """One loan to collect on. `due_date` is its oldest uncovered instalment's due date,
    `days_late` its days past due (0 when not yet due), `amount_due` what is unpaid of the
    instalments falling due before the end of the horizon (the arrears plus the instalment
    coming due), `group_contacts` the names of group mates not in arrears (no loan more
    than 0 days past due), whom to call on, in name order."""

    member_id: str
    number: str
    name: str
    loan_id: str
    due_date: date
    amount_due: int
    days_late: int
    kolektibilitas: int
    group_id: str | None
    group_contacts: list[str]


def collection_list(
    book: CooperativeBook, positions: pd.DataFrame | None = None, horizon_days: int = 7
) -> list[CollectionItem]:
    """The daftar tagihan: every open loan whose oldest uncovered instalment is late (due
    before as_of) or falls due in [as_of, as_of + horizon_days); one line per loan, most
    days late first, then by due date (then loan id)."""
    if positions is None:
        positions = loan_positions(book)
    t = _day(book.as_of)
    end = t + horizon_days
    next_due = days(positions["next_due_date"])
    chosen = np.flatnonzero(~positions["closed"].to_numpy(dtype=bool) & (next_due < end))
    if len(chosen) == 0:
        return []
    dpd = positions["days_past_due"].to_numpy(np.int64)
    loan_ids = positions["loan_id"].astype(str).to_numpy(dtype=object)
    chosen = chosen[np.lexsort((loan_ids[chosen], next_due[chosen], -dpd[chosen]))]
    picked = positions.iloc[chosen]

    idx = book._index
    owed = idx.due_before(picked["loan_id"], end) - picked["paid_total"].to_numpy(np.int64)
    worst, _ = _worst(book, positions)
    member = idx.member_codes(picked["member_id"])
    calm: dict[int, list[tuple[int, str]]] = {}
    for g in np.unique(idx.group_code[member[member >= 0]]).tolist():
        if g >= 0:
            calm[g] = [(j, idx.names[j]) for j in idx.group_members[g].tolist() if worst[j] == 0]

    items = []
    for m, loan, due, amount, late, kol in zip(
        member.tolist(),
        picked["loan_id"].astype(str).tolist(),
        next_due[chosen].tolist(),
        owed.tolist(),
        dpd[chosen].tolist(),
        picked["kolektibilitas"].tolist(),
        strict=True,
    ):
        g = int(idx.group_code[m]) if m >= 0 else -1
        member_id = idx.id_values[m] if m >= 0 else ""
        items.append(
            CollectionItem(
                member_id=member_id,
                number=member_number(member_id, book.cooperative_id) if m >= 0 else "",
                name=idx.names[m] if m >= 0 else "",
                loan_id=loan,
                due_date=_to_date(int(due)),
                amount_due=max(int(amount), 0),
                days_late=int(late),
                kolektibilitas=int(kol),
                group_id=idx.group_values[m] if m >= 0 else None,
                group_contacts=[name for j, name in calm.get(g, []) if j != m],
            )
        )
    return items


# ---------------------------------------------------------------------------- portfolio


@dataclass(frozen=True)
class KolBand:
    kolektibilitas: int
    loans: int
    outstanding: int
    arrears: int


@dataclass(frozen=True)
class PortfolioBook:
    """The open loans of the book: counts and amounts in total and per class 1..5 (always
    five bands); NPL are classes NPL_FROM and worse, as a share of what is outstanding."""

    active_loans: int
    outstanding: int
    arrears: int
    bands: list[KolBand]
    npl_outstanding: int
    npl_ratio: float


def portfolio_book(positions: pd.DataFrame) -> PortfolioBook:
    """Portfolio figures from `loan_positions` (open loans only: a closed loan owes nothing)."""
    active = positions.loc[~positions["closed"].to_numpy(dtype=bool)]
    kol = active["kolektibilitas"].to_numpy(np.int64) - 1
    outstanding = active["outstanding"].to_numpy(np.int64)
    arrears = active["arrears_amount"].to_numpy(np.int64)
    counts = np.bincount(kol, minlength=5)
    band_out = _sum_by(kol, outstanding, 5)
    band_arrears = _sum_by(kol, arrears, 5)
    bands = [
        KolBand(k + 1, int(counts[k]), int(band_out[k]), int(band_arrears[k])) for k in range(5)
    ]
    total = int(outstanding.sum())
    npl = int(band_out[NPL_FROM - 1 :].sum())
    return PortfolioBook(
        active_loans=len(active),
        outstanding=total,
        arrears=int(arrears.sum()),
        bands=bands,
        npl_outstanding=npl,
        npl_ratio=npl / total if total else 0.0,
    )


def book_as_of(book: CooperativeBook, day: date) -> CooperativeBook:
    """The book as it stood at the start of an earlier `day`: positions count only the
    loans disbursed and the payments made before it (`loan_positions`)."""
    return replace(book, as_of=day)


def defaults_after(book: CooperativeBook, day: date, months: int = 12) -> tuple[int, int]:
    """The loans performing (open, kolektibilitas 1-2) at the start of `day`, and how many
    of them were non-performing `months` later: what the ledger says a book's expected
    defaults should have been (the ledger must reach that far)."""
    at = loan_positions(book_as_of(book, day))
    performing = at.loc[~at["closed"].to_numpy(dtype=bool) & (at["kolektibilitas"] < NPL_FROM)]
    later_day = (pd.Timestamp(day) + pd.DateOffset(months=months)).date()
    later = loan_positions(book_as_of(book, later_day)).set_index("loan_id")
    kol = later.loc[performing["loan_id"], "kolektibilitas"].to_numpy()
    return len(performing), int((kol >= NPL_FROM).sum())
