"""`amanah import`: cooperative exports -> a validated ledger, bad rows quarantined.

Every data row read ends in exactly one place: the ledger, or `quarantine/<table>.parquet`
with the rule it broke, the column, a reason in Indonesian and English, the source file and
its row number. Blank rows are counted and reported, never silently dropped.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.identity import keyed_hash, normalise_nik, normalise_phone
from features.ledger.contracts import (
    TABLE_ORDER,
    TABLES,
    Column,
    Rule,
    conform,
    empty_frame,
    range_text,
    value_range,
)
from features.ledger.enums import Direction, LoanStatus, SavingsKind
from features.ledger.headers import HASHED_INPUTS, normalise, value_lookup
from features.ledger.parsing import (
    ParseError,
    clean_text,
    is_blank,
    parse_bool,
    parse_date,
    parse_rate,
    parse_rupiah,
)
from features.ledger.rates import effective_annual_rate, rate_contradicts
from features.ledger.rules import message
from features.ledger.sources import RawTable, read_source
from features.ledger.store import QUARANTINE_DIR, write_ledger

SOURCE_FILE, SOURCE_ROW = "_source_file", "_source_row"
# A quarantine column `_given_nik` says whether the clear cell held anything (the cell itself
# is never kept), and `quarantine/<table>.headers.json` maps, per source file, each contract
# column to the header as typed: together they let the quarantine workbook speak her words.
GIVEN_PREFIX = "_given_"
HEADERS_SUFFIX = ".headers.json"


class LedgerImportError(ValueError):
    """The import cannot proceed (output folder in use, key missing); nothing was written."""


@dataclass
class TableReport:
    table: str
    sources: list[str] = field(default_factory=list)
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    blank: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)


@dataclass
class ImportReport:
    tables: dict[str, TableReport]
    unrecognised: list[str]

    @property
    def reconciles(self) -> bool:
        return all(t.read == t.accepted + t.quarantined for t in self.tables.values())


class _Rejections:
    """First broken rule per row; later rules never overwrite an earlier one."""

    def __init__(self, index: pd.Index) -> None:
        self.rule = pd.Series(None, index=index, dtype="str")
        self.column = pd.Series(None, index=index, dtype="str")
        self.value = pd.Series(None, index=index, dtype="str")
        self.detail = pd.Series(None, index=index, dtype="str")

    @property
    def ok(self) -> pd.Series:
        return self.rule.isna()

    def flag(
        self, mask: pd.Series, rule: Rule, column: str, value: Any = "", detail: Any = ""
    ) -> None:
        new = mask.fillna(False).astype(bool) & self.ok
        if not new.any():
            return
        self.rule[new] = rule.value
        self.column[new] = column
        for target, src in ((self.value, value), (self.detail, detail)):
            if isinstance(src, pd.Series):
                target[new] = src[new].astype("str").fillna("")
            else:
                target[new] = str(src)


# ---------------------------------------------------------------- cell parsing


def _parse_int(value: object) -> int:
    text = clean_text(value)
    if text is None:
        raise ParseError("unparseable", "kosong", "empty")
    m = re.fullmatch(r"(\d+)(?:[.,]0+)?\s*(?:bulan|bln|kali|x|months?)?", text.lower())
    if not m:
        raise ParseError(
            "unparseable", f"'{text}' bukan bilangan bulat", f"'{text}' is not a whole number"
        )
    return int(m.group(1))


_PERIOD_PATTERNS = (
    (re.compile(r"(\d{4})[-/.](\d{1,2})"), (1, 2)),
    (re.compile(r"(\d{1,2})[-/.](\d{4})"), (2, 1)),
)


def _parse_period(value: object) -> str:
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    text = clean_text(value)
    if text is None:
        raise ParseError("unparseable", "kosong", "empty")
    for pattern, (y, m) in _PERIOD_PATTERNS:
        match = pattern.fullmatch(text)
        if match and 1 <= int(match.group(m)) <= 12:
            return f"{int(match.group(y)):04d}-{int(match.group(m)):02d}"
    d = parse_date(f"1 {text}") if not text[0].isdigit() else parse_date(text)
    return f"{d.year:04d}-{d.month:02d}"


def _cell_parser(col: Column) -> Callable[[object], object]:
    if col.kind in ("money", "amount0"):
        return parse_rupiah
    if col.kind == "int":
        return _parse_int
    if col.kind == "rate":
        return parse_rate
    if col.kind == "date":
        return lambda v: pd.Timestamp(parse_date(v))
    if col.kind == "period":
        return _parse_period
    if col.kind == "bool":
        return parse_bool
    if col.kind == "hash":

        def parse_hash(v: object) -> str:
            text = (clean_text(v) or "").lower()
            if not re.fullmatch(r"[0-9a-f]{64}", text):
                raise ParseError("unparseable", "bukan hash 64 heksadesimal", "not a 64-hex hash")
            return text

        return parse_hash
    if col.kind == "enum":
        assert col.enum is not None
        lookup = value_lookup(col.enum)
        allowed = ", ".join(col.enum.values())

        def parse_enum(v: object) -> str:
            found = lookup.get(normalise(clean_text(v) or ""))
            if found is None:
                raise _NotInSetError(allowed)
            return found

        return parse_enum
    return lambda v: clean_text(v)


class _NotInSetError(ValueError):
    pass


class _OutOfRangeError(ValueError):
    pass


_INT64 = np.iinfo(np.int64)


def _storable(col: Column, parser: Callable[[object], object]) -> Callable[[object], object]:
    """`parser`, refusing numbers no int64 or finite float holds (a pasted account number,
    `1e400`): they would end the import in the cast, so their row is out of range instead."""
    if col.kind not in ("money", "amount0", "int", "rate"):
        return parser

    def parse(value: object) -> object:
        number = parser(value)
        if isinstance(number, int) and not _INT64.min <= number <= _INT64.max:
            raise _OutOfRangeError(range_text(col))
        if isinstance(number, float) and not math.isfinite(number):
            raise _OutOfRangeError(range_text(col))
        return number

    return parse


def _parse_column(
    raw: pd.Series, col: Column, rej: _Rejections, check_blank: bool = True
) -> pd.Series:
    """Parse one column (each distinct cell once); failures are flagged on their rows.

    A derived column is not checked for blanks: a later rule (unknown loan) says why.
    """
    parser = _storable(col, _cell_parser(col))
    blank = raw.map(is_blank).astype(bool)
    if col.required and check_blank:
        rej.flag(blank, Rule.MISSING_FIELD, col.name)
    cache: dict[Any, Any] = {}
    errors: dict[Any, tuple[Rule, str]] = {}
    for v in raw[~blank].unique():
        try:
            cache[v] = parser(v)
        except _NotInSetError as exc:
            errors[v] = (Rule.NOT_IN_SET, str(exc))
        except _OutOfRangeError as exc:
            errors[v] = (Rule.OUT_OF_RANGE, str(exc))
        except ParseError as exc:
            rule = Rule.NOT_WHOLE_RUPIAH if exc.rule == "not_whole_rupiah" else Rule.UNPARSEABLE
            errors[v] = (rule, exc.message_en)
    for rule in (Rule.NOT_IN_SET, Rule.OUT_OF_RANGE, Rule.NOT_WHOLE_RUPIAH, Rule.UNPARSEABLE):
        bad = {v: d for v, (r, d) in errors.items() if r == rule}
        if bad:
            mask = raw.isin(list(bad)) & ~blank
            rej.flag(mask, rule, col.name, raw.astype("str"), raw.map(bad))
    return raw.map(lambda v: cache.get(v) if not is_blank(v) else None)


# ---------------------------------------------------------------- per-table rules


@dataclass
class _Context:
    """Accepted rows of tables earlier in dependency order, and the import settings."""

    today: pd.Timestamp
    key: bytes | None
    accepted: dict[str, pd.DataFrame] = field(default_factory=dict)


def _hash_inputs(table: str, frame: pd.DataFrame, rej: _Rejections, ctx: _Context) -> pd.DataFrame:
    """NIK and phone in clear become keyed hashes here and nowhere else."""
    for clear, hashed in HASHED_INPUTS.get(table, {}).items():
        if clear not in frame:
            continue
        if ctx.key is None:
            raise LedgerImportError(
                f"The {table} file has a '{clear}' column in clear: set AMANAH_PII_KEY (a secret "
                "of at least 32 characters) so it can be stored as a keyed hash. "
                f"File {table} berisi '{clear}': setel AMANAH_PII_KEY."
            )
        norm = normalise_nik if clear == "nik" else normalise_phone
        texts = frame[clear].map(lambda v: clean_text(v) or "")
        digits = texts.map(lambda t, norm=norm: norm(t) if t else None)
        blank = texts.eq("")
        if clear == "nik":
            n_digits = texts.map(lambda t: len(re.sub(r"\D", "", t)))
            rej.flag(blank & (hashed not in frame), Rule.MISSING_FIELD, "nik")
            rej.flag(~blank & digits.isna(), Rule.INVALID_NIK, "nik", "", n_digits)
        else:
            rej.flag(
                ~blank & digits.isna(), Rule.UNPARSEABLE, "phone", "(hidden)", "not a phone number"
            )
        hashed_values = digits.map(
            lambda d, key=ctx.key: keyed_hash(d, key) if isinstance(d, str) else None
        )
        if hashed in frame:
            frame[hashed] = frame[hashed].where(
                frame[hashed].map(lambda v: not is_blank(v)), hashed_values
            )
        else:
            frame[hashed] = hashed_values
        frame[GIVEN_PREFIX + clear] = ~blank
        frame = frame.drop(columns=[clear])
    return frame


def _derive(table: str, frame: pd.DataFrame, ctx: _Context) -> tuple[pd.DataFrame, set[str]]:
    """Fill columns an export may leave out, from what it does have; returns their names."""
    before = set(frame.columns)
    coops = ctx.accepted.get("cooperatives")
    if (
        table != "cooperatives"
        and "cooperative_id" not in frame
        and coops is not None
        and len(coops) == 1
    ):
        frame["cooperative_id"] = coops["cooperative_id"].iloc[0]
    loans = ctx.accepted.get("loans")
    if (
        table in ("installments", "repayments")
        and "member_id" not in frame
        and "loan_id" in frame
        and loans is not None
    ):
        frame["member_id"] = _lookup(frame["loan_id"], loans, "loan_id", "member_id").astype(object)
    if table == "loans" and "status" not in frame and "disbursement_date" in frame:
        frame["status"] = np.where(
            frame["disbursement_date"].map(is_blank), LoanStatus.REJECTED, LoanStatus.DISBURSED
        )
    return frame, set(frame.columns) - before


def _lookup(keys: pd.Series, frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    """`frame[value]` for each of `keys` (missing -> NA), keeping the dtype and the index."""
    mapping = frame.drop_duplicates(key).set_index(key)[value]
    return pd.Series(
        mapping.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=mapping.dtype
    )


def _expected_effective(loans: pd.DataFrame) -> pd.Series:
    """The effective annual rate of each loan's flat rate and tenor; NaN where either is
    missing or outside its contract range (that row is quarantined for it)."""
    spec = TABLES["loans"]
    ok = pd.Series(True, index=loans.index)
    for name in ("flat_monthly_rate", "tenor_months"):
        bounds = value_range(spec.column(name))
        assert bounds is not None
        ok &= loans[name].between(*bounds).fillna(False).astype(bool)
    expected = pd.Series(np.nan, index=loans.index, dtype="float64")
    expected[ok] = effective_annual_rate(
        loans.loc[ok, "flat_monthly_rate"].to_numpy(float),
        loans.loc[ok, "tenor_months"].to_numpy(int),
    )
    return expected


def _percent_text(rate: float) -> str:
    """A fraction as the percent a treasurer writes (0.3676 -> '36.76%')."""
    return "" if pd.isna(rate) else f"{round(rate * 100, 4):g}%"


def _typed_rules(table: str, df: pd.DataFrame, rej: _Rejections, ctx: _Context) -> None:
    """Range, date, reference and business rules on parsed values, in a fixed order."""
    spec = TABLES[table]
    for col in spec.columns:
        s = df[col.name]
        if col.kind == "money":
            rej.flag(s.notna() & (s.fillna(1) <= 0), Rule.NOT_POSITIVE, col.name, s)
        elif col.kind == "amount0":
            rej.flag(s.notna() & (s.fillna(0) < 0), Rule.NEGATIVE, col.name, s)
        bounds = value_range(col)
        if bounds is not None:
            out = s.notna() & ~s.between(*bounds)
            rej.flag(out, Rule.OUT_OF_RANGE, col.name, s, range_text(col))
        elif col.kind == "id" and col.pattern:
            bad = s.notna() & ~s.astype("str").str.fullmatch(col.pattern).fillna(False)
            rej.flag(bad, Rule.UNPARSEABLE, col.name, s, "letters, digits, . _ - only")
        elif col.kind == "date" and col.name != "due_date":
            rej.flag(s.notna() & (s > ctx.today), Rule.FUTURE_DATE, col.name, s.dt.date)

    acc = ctx.accepted
    if table != "cooperatives":
        known = set(acc["cooperatives"]["cooperative_id"]) if "cooperatives" in acc else set()
        rej.flag(
            ~df["cooperative_id"].isin(known),
            Rule.UNKNOWN_COOPERATIVE,
            "cooperative_id",
            df["cooperative_id"],
        )
    if table in ("installments", "repayments"):
        loans = acc["loans"]
        owner = _lookup(df["loan_id"], loans, "loan_id", "member_id")
        rej.flag(owner.isna(), Rule.UNKNOWN_LOAN, "loan_id", df["loan_id"])
        rej.flag(
            owner != df["member_id"], Rule.MEMBER_MISMATCH, "member_id", df["member_id"], owner
        )
        disbursed = _lookup(df["loan_id"], loans, "loan_id", "disbursement_date")
        rej.flag(disbursed.isna(), Rule.LOAN_NOT_DISBURSED, "loan_id", df["loan_id"])
        when = "due_date" if table == "installments" else "date"
        rej.flag(
            df[when] <= disbursed if table == "installments" else df[when] < disbursed,
            Rule.BEFORE_DISBURSEMENT,
            when,
            df[when].dt.date,
            disbursed.dt.date,
        )
    if "member_id" in df and table != "members":
        members = acc["members"]
        coop_of = _lookup(df["member_id"], members, "member_id", "cooperative_id")
        rej.flag(
            coop_of.isna() | (coop_of != df["cooperative_id"]),
            Rule.UNKNOWN_MEMBER,
            "member_id",
            df["member_id"],
        )
        joined = _lookup(df["member_id"], members, "member_id", "join_date")
        for date_col in ("date", "application_date"):
            if date_col in df:
                rej.flag(
                    df[date_col] < joined,
                    Rule.BEFORE_JOIN,
                    date_col,
                    df[date_col].dt.date,
                    joined.dt.date,
                )
    if table == "installments":
        total = df["principal_due"] + df["interest_due"]
        rej.flag(
            df["amount_due"] != total, Rule.AMOUNT_MISMATCH, "amount_due", df["amount_due"], total
        )
    if table == "loans":
        early = df["disbursement_date"] < df["application_date"]
        rej.flag(
            early,
            Rule.DISBURSED_BEFORE_APPLICATION,
            "disbursement_date",
            df["disbursement_date"].dt.date,
            df["application_date"].dt.date,
        )
        has_date = df["disbursement_date"].notna()
        mismatch = (df["status"] == LoanStatus.DISBURSED) != has_date
        rej.flag(
            mismatch,
            Rule.STATUS_MISMATCH,
            "status",
            df["status"],
            has_date.map({True: "dated", False: "no date"}),
        )
        stated, expected = df["effective_annual_rate"], _expected_effective(df)
        rej.flag(stated.isna(), Rule.MISSING_FIELD, "effective_annual_rate")
        rej.flag(
            pd.Series(rate_contradicts(stated.to_numpy(float), expected.to_numpy(float)), df.index),
            Rule.RATE_MISMATCH,
            "effective_annual_rate",
            stated.map(_percent_text),
            expected.map(_percent_text),
        )
    if table == "savings":
        locked = (df["direction"] == Direction.WITHDRAWAL) & df["kind"].isin(
            [SavingsKind.POKOK, SavingsKind.WAJIB]
        )
        rej.flag(locked, Rule.WITHDRAWAL_NOT_ALLOWED, "direction", df["kind"])
    key = list(spec.key)
    candidates = rej.ok & df[key].notna().all(axis=1)
    ok_rows = df[candidates]
    first_row = ok_rows.groupby(key)[SOURCE_ROW].transform("first")
    dup = (ok_rows[SOURCE_ROW] != first_row).reindex(df.index, fill_value=False)
    value = ok_rows[key].astype("str").agg(" / ".join, axis=1).reindex(df.index)
    rej.flag(dup, Rule.DUPLICATE_ID, key[0], value, first_row.reindex(df.index).astype("Int64"))


# Cells left blank that are filled from the row itself, as when the whole column is absent.
_DERIVED_CELLS = {("loans", "effective_annual_rate")}


@dataclass
class _Checked:
    """One table's rows after every rule of its own, before the split into ledger and
    quarantine (a later table may still quarantine some: loans wait for their schedule)."""

    table: str
    raw: pd.DataFrame  # the cells as read, kept for the quarantine file
    typed: pd.DataFrame
    rej: _Rejections


def _raw_frame(raws: list[RawTable], report: TableReport) -> pd.DataFrame:
    """All files' rows of one table as text-or-cell objects, blank rows counted and left out."""
    frames = []
    for raw in raws:
        report.sources.append(f"{raw.source} (header row {raw.header_row})")
        report.ignored_columns.extend(c for c in raw.ignored if c not in report.ignored_columns)
        cols = {
            name: [r[i] if i < len(r) else None for r in raw.rows]
            for i, name in raw.mapping.items()
        }
        frame = pd.DataFrame(cols, index=range(len(raw.rows)), dtype=object)
        frame[SOURCE_FILE] = raw.source
        frame[SOURCE_ROW] = raw.row_numbers
        full_blank = pd.Series([all(is_blank(c) for c in r) for r in raw.rows], dtype=bool)
        report.blank += int(full_blank.sum())
        frames.append(frame[~full_blank.to_numpy()])
    return pd.concat(frames, ignore_index=True)


def _check_table(
    raws: list[RawTable], table: str, ctx: _Context, report: TableReport
) -> _Checked | None:
    """Parse one table's rows and apply its own rules (None: no file had this table)."""
    spec = TABLES[table]
    if not raws:
        ctx.accepted[table] = empty_frame(table)
        return None
    frame = _raw_frame(raws, report)
    report.read = len(frame)
    rej = _Rejections(frame.index)
    frame = _hash_inputs(table, frame, rej, ctx)
    frame, derived = _derive(table, frame, ctx)
    raw_view = frame.copy()
    typed = pd.DataFrame(index=frame.index)
    for col in spec.columns:
        if col.name not in frame:
            if col.required and (table, col.name) not in _DERIVED_CELLS:
                rej.flag(pd.Series(True, index=frame.index), Rule.MISSING_COLUMN, col.name)
            typed[col.name] = None
            continue
        check_blank = col.name not in derived and (table, col.name) not in _DERIVED_CELLS
        typed[col.name] = _parse_column(frame[col.name], col, rej, check_blank)
    typed = conform(table, typed, nullable=True)
    if table == "loans":
        eff = typed["effective_annual_rate"]
        typed["effective_annual_rate"] = eff.fillna(_expected_effective(typed))
    if table == "savings":
        wajib = typed["kind"].eq(SavingsKind.WAJIB) & typed["period"].isna() & typed["date"].notna()
        typed.loc[wajib, "period"] = typed.loc[wajib, "date"].dt.strftime("%Y-%m")
    typed[SOURCE_ROW] = frame[SOURCE_ROW]
    _typed_rules(table, typed, rej, ctx)
    return _Checked(table, raw_view, typed, rej)


def _flag_unscheduled_loans(loans: _Checked, installments: pd.DataFrame) -> None:
    """A disbursed loan none of whose instalments was accepted can never be late, so every
    repayment feature would call its member spotless: the loan is quarantined instead (its
    repayments, read next, then refer to an unknown loan). Its schedule is not derived from
    its terms: the cooperative's own schedule (seasonal, rescheduled) may differ from them."""
    typed = loans.typed
    disbursed = typed["status"].eq(LoanStatus.DISBURSED).fillna(False)
    scheduled = typed["loan_id"].isin(set(installments["loan_id"]))
    loans.rej.flag(disbursed & ~scheduled, Rule.NO_SCHEDULE, "loan_id", typed["loan_id"])


def _split(checked: _Checked, ctx: _Context, report: TableReport) -> pd.DataFrame:
    """Accepted rows become the table's ledger rows; returns the quarantined ones."""
    table, rej, typed, frame = checked.table, checked.rej, checked.typed, checked.raw
    accepted = typed[rej.ok].drop(columns=[SOURCE_ROW])
    ctx.accepted[table] = conform(table, accepted)
    report.accepted = len(accepted)
    bad = ~rej.ok
    report.quarantined = int(bad.sum())
    report.rules.update(rej.rule[bad].tolist())
    quarantine = frame[bad].map(lambda v: None if is_blank(v) else str(v))
    for given in (c for c in frame.columns if c.startswith(GIVEN_PREFIX)):
        quarantine[given] = frame.loc[bad, given].astype(bool)
    reasons = [
        message(Rule(r), c, v, d)
        for r, c, v, d in zip(
            rej.rule[bad],
            rej.column[bad],
            rej.value[bad].fillna(""),
            rej.detail[bad].fillna(""),
            strict=True,
        )
    ]
    quarantine["_rule"] = rej.rule[bad]
    quarantine["_column"] = rej.column[bad]
    quarantine["_reason_id"] = [r[0] for r in reasons]
    quarantine["_reason_en"] = [r[1] for r in reasons]
    quarantine[SOURCE_ROW] = frame.loc[bad, SOURCE_ROW].astype("int64")
    return quarantine.reset_index(drop=True)


def typed_headers(raws: list[RawTable]) -> dict[str, dict[str, str]]:
    """source file -> {contract column (or clear input): header as typed}, in source order."""
    return {
        raw.source: {
            raw.mapping[i]: raw.headers.get(i, raw.mapping[i]) for i in sorted(raw.mapping)
        }
        for raw in raws
    }


# Tables whose split waits for a later table's accepted rows, and the rule that needs them.
_WAITS_FOR: dict[str, tuple[str, Callable[[_Checked, pd.DataFrame], None]]] = {
    "loans": ("installments", _flag_unscheduled_loans),
}


def import_ledger(
    source: Path,
    out: Path,
    key: bytes | None,
    replace: bool = False,
    today: date | None = None,
) -> ImportReport:
    """Import a cooperative export into a new ledger folder; returns the per-table report."""
    if out.exists() and any(out.iterdir()):
        if not replace:
            raise LedgerImportError(f"{out} is not empty; choose a new folder or pass --replace")
        shutil.rmtree(out)
    raws, unrecognised = read_source(source)
    ctx = _Context(today=pd.Timestamp(today or date.today()), key=key)
    reports: dict[str, TableReport] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    waiting: dict[str, _Checked] = {}
    for table in TABLE_ORDER:
        reports[table] = TableReport(table)
        mine = [r for r in raws if r.table == table]
        if not mine and table == "cooperatives":
            raise LedgerImportError(
                "No cooperatives table (koperasi) found: every ledger row belongs to a "
                "cooperative, so the import needs it. Tabel koperasi tidak ditemukan."
            )
        checked = _check_table(mine, table, ctx, reports[table])
        if checked is not None and table in _WAITS_FOR:
            # its rows that pass so far are what the tables in between refer to
            ctx.accepted[table] = conform(table, checked.typed[checked.rej.ok])
            waiting[table] = checked
            continue
        if checked is not None:
            quarantine[table] = _split(checked, ctx, reports[table])
        for earlier, (later, rule) in _WAITS_FOR.items():
            if later == table and earlier in waiting:
                rule(waiting[earlier], ctx.accepted[table])
                quarantine[earlier] = _split(waiting.pop(earlier), ctx, reports[earlier])
    out.mkdir(parents=True, exist_ok=True)
    # an export holds what happened up to the day of import (future dates are quarantined)
    as_of = (ctx.today + pd.Timedelta(days=1)).date()
    write_ledger(out, ctx.accepted, source=f"import:{source.name}", as_of=as_of)
    quarantine = {t: q for t, q in quarantine.items() if len(q)}
    if quarantine:
        (out / QUARANTINE_DIR).mkdir(exist_ok=True)
        for table, q in quarantine.items():
            q.to_parquet(out / QUARANTINE_DIR / f"{table}.parquet", index=False)
            headers = typed_headers([r for r in raws if r.table == table])
            (out / QUARANTINE_DIR / f"{table}{HEADERS_SUFFIX}").write_text(
                json.dumps(headers, ensure_ascii=False, indent=1), encoding="utf-8"
            )
    report = ImportReport(reports, unrecognised)
    if not report.reconciles:  # pragma: no cover - a bug, never a user error
        raise AssertionError("import counts do not reconcile")
    return report
