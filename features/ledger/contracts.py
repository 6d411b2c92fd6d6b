"""The ledger's data contracts: every table and column declared once.

From these declarations come the pandera schemas that guard what is written, the Parquet
(pyarrow) schemas, the importer's parsing plan and the table reference in `docs/ledger.md`.
Amounts are integer Rupiah, dates are calendar dates (held in pandas as `datetime64[ms]` at
midnight), closed sets are the enums of `enums.py`, yes/no answers are booleans. An optional
integer column is held as pandas' nullable `Int64`, a boolean one as nullable `boolean`, so
an empty cell stays empty instead of becoming a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Literal

import pandas as pd
import pyarrow as pyarrow_types

if TYPE_CHECKING:  # pandera is imported when a schema is first built: readers never need it
    import pandera.pandas as pa

from features.ledger.enums import (
    CoopProfile,
    Direction,
    Gender,
    LabelledEnum,
    LoanProduct,
    LoanPurpose,
    LoanStatus,
    PaymentMethod,
    ProduceCategory,
    SavingsKind,
    Sector,
)
from features.ledger.rates import EFFECTIVE_RATE_TOLERANCE

ColumnKind = Literal[
    "id", "text", "hash", "money", "amount0", "int", "rate", "date", "enum", "period", "bool"
]
INTEGER_KINDS: frozenset[str] = frozenset({"money", "amount0", "int"})

DATE_DTYPE: Literal["datetime64[ms]"] = "datetime64[ms]"
PARTITION_KEY = "cooperative_id"

MAX_RUPIAH = 10**12
"""Largest amount a ledger cell may hold: Rp 1 triliun, far above any cooperative record (the
state financing of a whole cooperative is capped at Rp 3 miliar), so a pasted account or
phone number of 13 digits or more is quarantined, and sums over millions of rows stay
within int64."""


@dataclass(frozen=True)
class Column:
    """One column of a ledger table.

    `kind` decides the dtype and the base rule: money is a positive integer Rupiah amount,
    amount0 a non-negative one, rate a fraction, period a `YYYY-MM` month, bool a yes/no
    answer (read from ya/tidak, true/false, 1/0, y/n).
    """

    name: str
    kind: ColumnKind
    description: str
    required: bool = True
    enum: type[LabelledEnum] | None = None
    low: float | None = None
    high: float | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


SAFE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def _coop() -> Column:
    return Column(
        "cooperative_id",
        "id",
        "Cooperative that keeps the record (partition key; letters, digits, . _ -).",
        pattern=SAFE_ID_PATTERN,
    )


def _member() -> Column:
    return Column("member_id", "id", "Member the record belongs to; must exist in `members`.")


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "cooperatives",
            "One row per Koperasi Merah Putih.",
            ("cooperative_id",),
            (
                _coop(),
                Column("name", "text", "Registered name of the cooperative."),
                Column("kelurahan", "text", "Kelurahan or desa it serves."),
                Column("kecamatan", "text", "Kecamatan.", required=False),
                Column("city", "text", "Kota or kabupaten."),
                Column("profile", "enum", "Local economic character.", enum=CoopProfile),
                Column("established_date", "date", "Date the cooperative was founded."),
            ),
        ),
        Table(
            "members",
            "One row per member (anggota). NIK and phone are kept only as keyed HMAC-SHA256.",
            ("member_id",),
            (
                _member(),
                _coop(),
                Column("nik_hash", "hash", "HMAC-SHA256 of the 16-digit NIK (never the NIK)."),
                Column("phone_hash", "hash", "HMAC-SHA256 of the phone number.", required=False),
                Column("name", "text", "Member's name as the cooperative knows her."),
                Column(
                    "gender",
                    "enum",
                    "For fairness testing only; never a model feature.",
                    enum=Gender,
                ),
                Column("join_date", "date", "Date the member joined (simpanan pokok paid)."),
                Column("sector", "enum", "Main business of the member.", enum=Sector),
                Column(
                    "group_id",
                    "id",
                    "Tanggung renteng (joint liability) group, if any.",
                    required=False,
                ),
            ),
        ),
        Table(
            "savings",
            "Savings deposits and withdrawals: pokok once, wajib monthly, sukarela voluntary.",
            ("transaction_id",),
            (
                Column("transaction_id", "id", "Unique id of the savings transaction."),
                _member(),
                _coop(),
                Column("date", "date", "Transaction date; not in the future, not before joining."),
                Column("kind", "enum", "pokok, wajib or sukarela.", enum=SavingsKind),
                Column(
                    "direction",
                    "enum",
                    "deposit or withdrawal; only sukarela can be withdrawn.",
                    enum=Direction,
                ),
                Column("amount", "money", "Amount in Rupiah, > 0."),
                Column(
                    "period",
                    "period",
                    "Month (YYYY-MM) a wajib deposit pays for; late months are paid later.",
                    required=False,
                ),
            ),
        ),
        Table(
            "loans",
            "Loan applications (rejected ones kept) and their terms.",
            ("loan_id",),
            (
                Column("loan_id", "id", "Unique id of the loan application."),
                _member(),
                _coop(),
                Column(
                    "group_id",
                    "id",
                    "Tanggung renteng group that guarantees the loan, if any.",
                    required=False,
                ),
                Column("application_date", "date", "Date the member applied."),
                Column(
                    "disbursement_date",
                    "date",
                    "Date the money was paid out; empty when rejected; not before application.",
                    required=False,
                ),
                Column("status", "enum", "disbursed or rejected.", enum=LoanStatus),
                Column("principal", "money", "Principal in Rupiah, > 0."),
                Column("tenor_months", "int", "Number of monthly instalments.", low=1, high=60),
                Column(
                    "flat_monthly_rate",
                    "rate",
                    "Flat rate per month as quoted (0.015 = 1.5% flat).",
                    low=0.0,
                    high=0.10,
                ),
                Column(
                    "effective_annual_rate",
                    "rate",
                    "Effective annual rate of the flat schedule ((1+IRR)^12 - 1); derived from "
                    "the flat rate and tenor when empty, quarantined when more than "
                    f"{EFFECTIVE_RATE_TOLERANCE * 100:g} percentage point from that.",
                    low=0.0,
                    high=3.0,
                ),
                Column("product", "enum", "Loan product.", enum=LoanProduct),
                Column("purpose", "enum", "Stated purpose.", enum=LoanPurpose),
                Column(
                    "declared_monthly_income",
                    "money",
                    "Monthly business income the member declared on the application form "
                    "(penghasilan per bulan), in Rupiah; empty when the form did not ask.",
                    required=False,
                ),
                Column(
                    "declared_household_expenses",
                    "amount0",
                    "Monthly household expenses the member declared (pengeluaran rumah "
                    "tangga), in Rupiah; may be given without the income, and the income "
                    "without it.",
                    required=False,
                ),
                Column(
                    "income_verified",
                    "bool",
                    "Whether an officer verified the declared figures (true: checked, "
                    "false: taken as declared); empty when not recorded. True with no "
                    "declared figure is accepted as written: it is the officer's note.",
                    required=False,
                ),
            ),
        ),
        Table(
            "installments",
            "The repayment schedule of each disbursed loan (monthly, flat interest); a "
            "disbursed loan with no accepted instalment is quarantined.",
            ("loan_id", "installment_no"),
            (
                Column("loan_id", "id", "Loan the instalment belongs to; must be disbursed."),
                _member(),
                _coop(),
                Column("installment_no", "int", "1 for the first instalment.", low=1, high=60),
                Column("due_date", "date", "Due date; after disbursement (may be in the future)."),
                Column("principal_due", "amount0", "Principal part in Rupiah."),
                Column("interest_due", "amount0", "Interest part in Rupiah."),
                Column("amount_due", "money", "principal_due + interest_due."),
            ),
        ),
        Table(
            "repayments",
            "Money received against a loan.",
            ("repayment_id",),
            (
                Column("repayment_id", "id", "Unique id of the repayment."),
                Column("loan_id", "id", "Loan repaid; must be disbursed before `date`."),
                _member(),
                _coop(),
                Column(
                    "date", "date", "Date received; not before disbursement, not in the future."
                ),
                Column("amount", "money", "Amount in Rupiah, > 0."),
            ),
        ),
        Table(
            "store_purchases",
            "Purchases at the cooperative's sembako outlet.",
            ("purchase_id",),
            (
                Column("purchase_id", "id", "Unique id of the purchase."),
                _member(),
                _coop(),
                Column("date", "date", "Purchase date; not in the future."),
                Column("amount", "money", "Amount in Rupiah, > 0."),
                Column("payment", "enum", "cash or credit (bon).", enum=PaymentMethod),
            ),
        ),
        Table(
            "produce_sales",
            "Members' products sold through the cooperative's marketing channel (income proxy).",
            ("sale_id",),
            (
                Column("sale_id", "id", "Unique id of the sale."),
                _member(),
                _coop(),
                Column("date", "date", "Sale date; not in the future."),
                Column("product", "enum", "Product category.", enum=ProduceCategory),
                Column("amount", "money", "Gross sale in Rupiah paid to the member, > 0."),
            ),
        ),
    )
}

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
"""Tables in dependency order: a table refers only to tables before it."""


class Rule(StrEnum):
    """Why a row was quarantined. One code per rule; messages in `rules.py`."""

    MISSING_COLUMN = "missing_column"
    MISSING_FIELD = "missing_field"
    UNPARSEABLE = "unparseable"
    NOT_WHOLE_RUPIAH = "not_whole_rupiah"
    NOT_POSITIVE = "not_positive"
    NEGATIVE = "negative"
    OUT_OF_RANGE = "out_of_range"
    NOT_IN_SET = "not_in_set"
    INVALID_NIK = "invalid_nik"
    INVALID_PERIOD = "invalid_period"
    DUPLICATE_ID = "duplicate_id"
    FUTURE_DATE = "future_date"
    UNKNOWN_COOPERATIVE = "unknown_cooperative"
    UNKNOWN_MEMBER = "unknown_member"
    UNKNOWN_LOAN = "unknown_loan"
    MEMBER_MISMATCH = "member_mismatch"
    BEFORE_JOIN = "before_join"
    DISBURSED_BEFORE_APPLICATION = "disbursed_before_application"
    STATUS_MISMATCH = "status_mismatch"
    BEFORE_DISBURSEMENT = "before_disbursement"
    LOAN_NOT_DISBURSED = "loan_not_disbursed"
    AMOUNT_MISMATCH = "amount_mismatch"
    WITHDRAWAL_NOT_ALLOWED = "withdrawal_not_allowed"
    NO_SCHEDULE = "no_schedule"
    RATE_MISMATCH = "rate_mismatch"


def value_range(col: Column) -> tuple[float, float] | None:
    """The closed range a numeric column's values must lie in (amounts: up to MAX_RUPIAH)."""
    if col.kind == "money":
        return (1, MAX_RUPIAH)
    if col.kind == "amount0":
        return (0, MAX_RUPIAH)
    if col.low is not None and col.high is not None:
        return (col.low, col.high)
    return None


def range_text(col: Column) -> str:
    """`[low, high]` as a reason shows it: whole numbers in full, fractions as written."""
    bounds = value_range(col)
    if bounds is None:
        return ""
    low, high = (f"{b:d}" if isinstance(b, int) else f"{b:g}" for b in bounds)
    return f"[{low}, {high}]"


BOOL_DTYPE: Literal["boolean"] = "boolean"


def int_dtype(col: Column, nullable: bool = False) -> Literal["Int64", "int64"]:
    """pandas dtype of an integer column: `Int64` when optional (or `nullable`), else `int64`."""
    return "Int64" if nullable or not col.required else "int64"


_PERIOD_REGEX = r"^\d{4}-(0[1-9]|1[0-2])$"
_HASH_REGEX = r"^[0-9a-f]{64}$"


def _pandera_column(col: Column) -> pa.Column:
    import pandera.pandas as pa

    checks: list[pa.Check] = []
    dtype: object
    if col.kind in ("id", "text"):
        dtype = "str"
        checks.append(pa.Check.str_length(min_value=1, name=Rule.MISSING_FIELD.value))
        if col.pattern:
            checks.append(pa.Check.str_matches(col.pattern, name=Rule.UNPARSEABLE.value))
    elif col.kind == "hash":
        dtype = "str"
        checks.append(pa.Check.str_matches(_HASH_REGEX, name=Rule.UNPARSEABLE.value))
    elif col.kind == "money":
        dtype = int_dtype(col)
        checks.append(pa.Check.gt(0, name=Rule.NOT_POSITIVE.value))
        checks.append(pa.Check.le(MAX_RUPIAH, name=Rule.OUT_OF_RANGE.value))
    elif col.kind == "amount0":
        dtype = int_dtype(col)
        checks.append(pa.Check.ge(0, name=Rule.NEGATIVE.value))
        checks.append(pa.Check.le(MAX_RUPIAH, name=Rule.OUT_OF_RANGE.value))
    elif col.kind in ("int", "rate"):
        dtype = int_dtype(col) if col.kind == "int" else "float64"
        if col.low is not None and col.high is not None:
            checks.append(pa.Check.in_range(col.low, col.high, name=Rule.OUT_OF_RANGE.value))
    elif col.kind == "date":
        dtype = DATE_DTYPE
    elif col.kind == "enum":
        assert col.enum is not None
        dtype = "str"
        checks.append(pa.Check.isin(col.enum.values(), name=Rule.NOT_IN_SET.value))
    elif col.kind == "period":
        dtype = "str"
        checks.append(pa.Check.str_matches(_PERIOD_REGEX, name=Rule.INVALID_PERIOD.value))
    elif col.kind == "bool":
        dtype = BOOL_DTYPE
    else:  # pragma: no cover - ColumnKind is closed
        raise ValueError(f"unknown column kind {col.kind!r}")
    return pa.Column(dtype, checks=checks, nullable=not col.required, coerce=False)


@cache
def pandera_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of one table: exact columns, dtypes, closed sets, unique key."""
    import pandera.pandas as pa

    spec = TABLES[table]
    return pa.DataFrameSchema(
        {c.name: _pandera_column(c) for c in spec.columns},
        strict=True,
        ordered=True,
        unique=list(spec.key),
        name=table,
    )


def _arrow_type(col: Column) -> pyarrow_types.DataType:
    if col.kind in INTEGER_KINDS:
        return pyarrow_types.int64()
    if col.kind == "bool":
        return pyarrow_types.bool_()
    if col.kind == "rate":
        return pyarrow_types.float64()
    if col.kind == "date":
        return pyarrow_types.date32()
    return pyarrow_types.string()


@cache
def arrow_schema(table: str) -> pyarrow_types.Schema:
    """The Parquet schema of one table; dates are stored as `date32`."""
    spec = TABLES[table]
    return pyarrow_types.schema(
        [pyarrow_types.field(c.name, _arrow_type(c), nullable=not c.required) for c in spec.columns]
    )


def empty_frame(table: str) -> pd.DataFrame:
    """A zero-row frame with the table's exact columns and dtypes."""
    spec = TABLES[table]
    data: dict[str, pd.Series] = {}
    for c in spec.columns:
        if c.kind == "date":
            data[c.name] = pd.Series([], dtype=DATE_DTYPE)
        elif c.kind in INTEGER_KINDS:
            data[c.name] = pd.Series([], dtype=int_dtype(c))
        elif c.kind == "bool":
            data[c.name] = pd.Series([], dtype=BOOL_DTYPE)
        elif c.kind == "rate":
            data[c.name] = pd.Series([], dtype="float64")
        else:
            data[c.name] = pd.Series([], dtype="str")
    return pd.DataFrame(data)


def conform(table: str, frame: pd.DataFrame, nullable: bool = False) -> pd.DataFrame:
    """Order columns as the contract does and cast to its dtypes (no value is changed).

    `nullable` keeps integer columns as pandas `Int64` so rows still missing a value (the
    importer's, before quarantine) can be held; the index is kept. An optional column the
    frame does not have (a ledger written before the column existed) comes back empty; a
    required one missing is a KeyError.
    """
    spec = TABLES[table]
    out = pd.DataFrame(index=frame.index)
    for c in spec.columns:
        if c.name not in frame.columns and not c.required:
            s = pd.Series(None, index=frame.index, dtype=object)
        else:
            s = frame[c.name]
        if c.kind == "date":
            out[c.name] = pd.to_datetime(s).astype(DATE_DTYPE)
        elif c.kind in INTEGER_KINDS:
            out[c.name] = s.astype(int_dtype(c, nullable))
        elif c.kind == "bool":
            out[c.name] = s.astype(BOOL_DTYPE)
        elif c.kind == "rate":
            out[c.name] = pd.to_numeric(s).astype("float64")
        else:
            out[c.name] = s.astype(str)
    return out


def validate(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a frame against its contract; pandera's SchemaErrors lists every failure."""
    return pandera_schema(table).validate(frame, lazy=True)
