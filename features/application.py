"""A member's profile plus a loan request -> the model's input: one computation for both the
training table and serving.

The catalog's request-dependent features (`REQUEST_FEATURES`) describe the loan applied
for, not the member: the application month, the amount, tenor, flat rate, purpose and
product, and three affordability ratios of the proposed flat-rate instalment
(`principal / tenor + principal x rate`) to the profile's income, sembako spend and, with
the debt already serviced, income again (each capped at `RATIO_CAP`, missing where the
denominator is 0 or missing).

- `request_features` is the vectorised computation. `RepaymentProfileBuilder.transform`
  calls it for every application of the training table; nothing else computes them.
- `application_record(profile, request)` is the serving path: the profile dict that
  `ProfileStore.fetch` returns, with the request's features filled in by the same
  arithmetic in plain floats (one record through numpy and pandas costs milliseconds; a
  property test holds the two paths equal).
- `application_frame(profiles, requests)` is the batch version (batch scoring).

The seasonal load of the term, `term_sales_index`, is the mean over the calendar months of
the first `TERM_INDEX_MONTHS` instalments (the months after the application month, as
many as the tenor) of the profile's calendar-month sales index (`SALES_INDEX_COLUMNS`:
the sales of the member's business sector in her cooperative in that calendar month over
their monthly average, from the 24 full months before T; see docs/features.md). The index
travels in the profile beside the features, as the ratios' inputs do; it is not a model
feature. A profile without those columns (built before them, or made by hand) gives a
missing `term_sales_index`, as a member of a new sector does.

The member's declarations on the form (`DECLARED_COLUMNS`: declared monthly income and
household expenses in Rupiah, and whether an officer verified them) travel with the
application under the ledger's column names, as float64 (income_verified 1.0 / 0.0, NaN
where not given): `declared_inputs` turns the loans table's columns so for the training
table (`features.pipeline.training_table`) and a `LoanRequest`'s fields for
`application_record`; `application_frame` checks a batch's optional columns field by field
and gives the same floats. They are NOT model features (the catalog does not list them):
the decision policy reads them.

Point in time: a profile as of T describes the member before day T. The application month
is the month of the application date, which may be later than T (a current profile is as
of the ledger's as-of day; the application is made today); an application dated before
its profile's as-of day would be scored with events after it and is refused.

Words. Purpose and product accept the ledger's values (`raw_materials`), their Indonesian
and English labels (`Bahan baku`) and the importer's aliases (`features/ledger/headers.py`:
`stok`, `perahu`, `darurat`, `tanggung renteng`, ...), compared after the importer's
`normalise` (case, `_`, `-` and spaces alike). One word is added here: "modal usaha"
(business capital) as a *purpose* means `business_expansion`. In the ledger "modal usaha"
names the working-capital *product* (`Pinjaman modal usaha`; the importer maps it so, and
it stays so for `product`), and the generator gives a working-capital loan the purpose of
the member's trade (inputs, equipment, stock, gear or expansion). Officers who write
"modal usaha" as the purpose state no particular input: the trade-neutral business purpose
is `business_expansion` ("pengembangan usaha"), the one business purpose the generator
uses across processing, production, trade and services. The narrower "modal kerja"
(working capital: the operating cycle) keeps the importer's meaning, `raw_materials`, so a
word means the same on import and at scoring. The product defaults to `working_capital`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.ledger.contracts import MAX_RUPIAH, TABLES
from features.ledger.enums import LabelledEnum, LoanProduct, LoanPurpose
from features.ledger.headers import normalise, value_lookup
from features.ledger.parsing import ParseError, is_blank, parse_bool

Array = npt.NDArray[Any]

REQUEST_FEATURES: tuple[str, ...] = (
    "application_month",
    "loan_amount",
    "tenor_months",
    "flat_monthly_rate",
    "loan_purpose",
    "loan_product",
    "instalment_to_income",
    "instalment_to_sembako_spend",
    "debt_service_to_income",
    "term_sales_index",
)
# the profile's features the ratios are computed from
PROFILE_INPUTS: tuple[str, ...] = (
    "estimated_monthly_income",
    "sembako_spend_12m",
    "existing_debt_service",
)
# the profile's calendar-month sales index (January to December), not features: the
# seasonal load of the term is computed from it (module docstring)
SALES_INDEX_COLUMNS: tuple[str, ...] = tuple(f"sales_index_m{m:02d}" for m in range(1, 13))
# the instalments whose months the term's seasonal load averages: those of the first year
TERM_INDEX_MONTHS = 12
CATEGORICAL_REQUEST_FEATURES = frozenset({"application_month", "loan_purpose", "loan_product"})
# the profile columns each request feature is computed from, beyond the loan's own terms
_RATIOS = ("instalment_to_income", "instalment_to_sembako_spend", "debt_service_to_income")
REQUEST_FEATURE_INPUTS: dict[str, frozenset[str]] = {
    **{name: frozenset(PROFILE_INPUTS) for name in _RATIOS},
    "term_sales_index": frozenset(SALES_INDEX_COLUMNS),
}
RATIO_CAP = 20.0
# the bounds a ledger loan must satisfy (features/ledger/contracts.py): a request outside
# them has no training rows like it
_LOANS = TABLES["loans"]
MAX_TENOR_MONTHS = int(_LOANS.column("tenor_months").high or 60)
MAX_FLAT_MONTHLY_RATE = float(_LOANS.column("flat_monthly_rate").high or 0.10)
DEFAULT_PRODUCT = LoanProduct.WORKING_CAPITAL.value
# what the member declared on the form: not features, carried beside them (module docstring)
DECLARED_COLUMNS: tuple[str, ...] = (
    "declared_monthly_income",
    "declared_household_expenses",
    "income_verified",
)
REQUEST_COLUMNS: tuple[str, ...] = (
    "member_id",
    "amount",
    "tenor_months",
    "purpose",
    "product",
    "flat_monthly_rate",
    "application_date",
    *DECLARED_COLUMNS,
)
OPTIONAL_REQUEST_COLUMNS = frozenset({"product", "application_date", *DECLARED_COLUMNS})
# lowest declared figure: an income is > 0 Rupiah, household expenses may be 0
_DECLARED_LOW = {"declared_monthly_income": 1, "declared_household_expenses": 0}
# "modal usaha" as a purpose: see the module docstring
_PURPOSE_WORDS: dict[str, str] = {"modal usaha": LoanPurpose.BUSINESS_EXPANSION.value}
_MONTH_LABELS = np.array([None, *(str(m) for m in range(1, 13))], dtype=object)


class LoanRequestError(ValueError):
    """A loan request that cannot be scored; the message names the field."""


# ----------------------------------------------------------------------------- words
def _lookup(enum: type[LabelledEnum], extra: Mapping[str, str]) -> dict[str, str]:
    return {**value_lookup(enum), **{normalise(k): v for k, v in extra.items()}}


_PURPOSES = _lookup(LoanPurpose, _PURPOSE_WORDS)
_PRODUCTS = _lookup(LoanProduct, {})


def _word(name: str, value: object, lookup: Mapping[str, str], enum: type[LabelledEnum]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LoanRequestError(f"{name}: must be a {_what(enum)}; got {value!r}")
    found = lookup.get(normalise(value))
    if found is None:
        raise LoanRequestError(
            f"{name}: unknown {_what(enum)} {value!r}; expected one of "
            f"{', '.join(enum.values())} (or an Indonesian word such as "
            f"{enum(enum.values()[0]).label_id!r})"
        )
    return found


def _what(enum: type[LabelledEnum]) -> str:
    return "loan purpose" if enum is LoanPurpose else "loan product"


def parse_purpose(value: object, name: str = "purpose") -> str:
    """The `LoanPurpose` value for a value, label or Indonesian word (see module docstring)."""
    return _word(name, value, _PURPOSES, LoanPurpose)


def parse_product(value: object, name: str = "product") -> str:
    """The `LoanProduct` value for a value, label or Indonesian word."""
    return _word(name, value, _PRODUCTS, LoanProduct)


# ----------------------------------------------------------------------------- one request
def _shown(value: object) -> str:
    """repr of a value, numpy scalars as the plain Python value they hold."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _whole(name: str, value: object, low: int, high: int | None, unit: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise LoanRequestError(f"{name}: must be a whole number of {unit}; got {_shown(value)}")
    number = float(value)
    if not math.isfinite(number) or not number.is_integer():
        raise LoanRequestError(f"{name}: must be a whole number of {unit}; got {_shown(value)}")
    if number < low or (high is not None and number > high):
        bound = f"at least {low}" if high is None else f"from {low} to {high}"
        raise LoanRequestError(f"{name}: must be {bound} {unit}; got {_shown(value)}")
    return int(number)


def _absent(value: object) -> bool:
    """None, NaN, pandas' NA or an empty text: an optional field not given."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, str) and is_blank(value)


def _declared_amount(name: str, value: object) -> int | None:
    """A declared figure: whole Rupiah from its lowest value up to the ledger's MAX_RUPIAH."""
    if _absent(value):
        return None
    return _whole(name, value, _DECLARED_LOW[name], MAX_RUPIAH, "Rupiah")


def _yes_no(name: str, value: object) -> bool | None:
    """A yes/no answer: a bool, 1/0 or a word the ledger import reads (ya/tidak, true/false)."""
    if _absent(value):
        return None
    try:
        return parse_bool(value)
    except ParseError:
        raise LoanRequestError(
            f"{name}: must be yes or no (true/false, ya/tidak, 1/0); got {_shown(value)}"
        ) from None


def _rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise LoanRequestError(
            f"{name}: must be a number (a fraction a month); got {_shown(value)}"
        )
    rate = float(value)
    if not math.isfinite(rate) or rate < 0 or rate > MAX_FLAT_MONTHLY_RATE:
        raise LoanRequestError(
            f"{name}: must be a fraction a month from 0 to {MAX_FLAT_MONTHLY_RATE:g} "
            f"(0.015 = 1.5% flat a month); got {_shown(value)}"
        )
    return rate


def _date(name: str, value: object) -> date:
    if isinstance(value, datetime):  # also pd.Timestamp
        if pd.isna(value):
            raise LoanRequestError(f"{name}: must be a date; got {_shown(value)}")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise LoanRequestError(f"{name}: must be a date (YYYY-MM-DD); got {_shown(value)}")


@dataclass(frozen=True, kw_only=True)
class LoanRequest:
    """The loan a member applies for, validated; words are turned into ledger values.

    amount: principal in whole Rupiah, > 0. tenor_months: 1 to 60 monthly instalments.
    purpose: a `LoanPurpose` (value, label or Indonesian word; "modal usaha" means
    business_expansion). product: a `LoanProduct`, default working_capital.
    flat_monthly_rate: a fraction a month (0.015 = 1.5% flat), 0 to 0.10. application_date:
    default today (an ISO text is accepted too). What the member declared on the form, each
    optional (None: not given): declared_monthly_income in whole Rupiah, > 0;
    declared_household_expenses in whole Rupiah, >= 0 (both at most the ledger's
    MAX_RUPIAH); income_verified, whether an officer verified them (a bool; 1/0 and the
    import's words "ya"/"tidak", "true"/"false" are read too). Bad fields raise
    `LoanRequestError` naming the field.
    """

    amount: int
    tenor_months: int
    purpose: str
    product: str = DEFAULT_PRODUCT
    flat_monthly_rate: float
    application_date: date = field(default_factory=date.today)
    declared_monthly_income: int | None = None
    declared_household_expenses: int | None = None
    income_verified: bool | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "amount", _whole("amount", self.amount, 1, None, "Rupiah"))
        set_(
            self,
            "tenor_months",
            _whole("tenor_months", self.tenor_months, 1, MAX_TENOR_MONTHS, "months"),
        )
        set_(self, "purpose", parse_purpose(self.purpose))
        set_(self, "product", parse_product(self.product))
        set_(self, "flat_monthly_rate", _rate("flat_monthly_rate", self.flat_monthly_rate))
        set_(self, "application_date", _date("application_date", self.application_date))
        for name in ("declared_monthly_income", "declared_household_expenses"):
            set_(self, name, _declared_amount(name, getattr(self, name)))
        set_(self, "income_verified", _yes_no("income_verified", self.income_verified))

    @property
    def instalment(self) -> float:
        """The proposed flat-rate monthly instalment in Rupiah."""
        return float(proposed_instalment(self.amount, self.tenor_months, self.flat_monthly_rate))


# ----------------------------------------------------------------------------- the computation
def proposed_instalment(principal: Any, tenor: Any, rate: Any) -> Array:
    """Flat-rate monthly instalment: principal / tenor + principal x rate (NaN if missing)."""
    p = np.asarray(principal, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(p / np.asarray(tenor, dtype=float) + p * np.asarray(rate, dtype=float))


def _capped_ratio(num: Array, den: Array) -> Array:
    """num / den capped at RATIO_CAP; NaN where den is 0 or missing."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = np.isfinite(den) & (den > 0)
    return np.asarray(np.minimum(np.where(ok, num / np.where(ok, den, 1.0), np.nan), RATIO_CAP))


def _month_labels(dates: Any) -> Array:
    """'1'..'12' for each date's calendar month (None where missing), as object text."""
    months = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates).ravel())).month
    index = np.nan_to_num(np.asarray(months, dtype=float), nan=0.0).astype(np.int64)
    return np.asarray(_MONTH_LABELS[index])


def computable_request_features(profile_columns: Collection[str]) -> frozenset[str]:
    """The request features a profile with `profile_columns` lets the serving path compute:
    a profile built before the sales index (or without the ratios' inputs) would give a
    feature that is missing for every member, which a model trained with it must not be
    served on (`serving.model_holder.refusal`)."""
    held = frozenset(profile_columns)
    return frozenset(
        name for name in REQUEST_FEATURES if REQUEST_FEATURE_INPUTS.get(name, frozenset()) <= held
    )


def _calendar_months(dates: Any) -> Array:
    """1..12 for each date's calendar month, NaN where missing."""
    months = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates).ravel())).month
    return np.asarray(months, dtype=float)


def _term_sales_index(profile: Mapping[str, Any] | pd.DataFrame, tenor: Any, dates: Any) -> Array:
    """Mean of the profile's sales index over the calendar months of the first
    `TERM_INDEX_MONTHS` instalments (the months after the application month); NaN where the
    tenor, the date or an index month is missing."""
    tenor = np.asarray(tenor, dtype=float).ravel()
    month = _calendar_months(dates)
    n = len(tenor)
    index = np.column_stack(
        [
            np.asarray(profile[c], dtype=float).ravel() if c in profile else np.full(n, np.nan)
            for c in SALES_INDEX_COLUMNS
        ]
    ).reshape(n, len(SALES_INDEX_COLUMNS))
    ok = np.isfinite(tenor) & (tenor >= 1) & np.isfinite(month)
    count = np.where(ok, np.minimum(np.floor(np.where(ok, tenor, 1.0)), TERM_INDEX_MONTHS), 1.0)
    first = np.where(ok, month, 1.0).astype(np.int64) - 1  # 0 = January
    rows = np.arange(n)
    total = np.zeros(n)
    for k in range(1, TERM_INDEX_MONTHS + 1):
        total = np.where(k <= count, total + index[rows, (first + k) % 12], total)
    return np.asarray(np.where(ok, total / count, np.nan))


def request_features(
    profile: Mapping[str, Any] | pd.DataFrame,
    principal: Any,
    tenor: Any,
    rate: Any,
    purpose: Any,
    product: Any,
    application_date: Any,
) -> dict[str, Array]:
    """The `REQUEST_FEATURES`, one value per row, vectorised.

    `profile` holds the `PROFILE_INPUTS` columns (arrays or a DataFrame) of the members'
    profiles; the other arguments are aligned arrays of the request terms in ledger units
    (Rupiah, months, a fraction a month, ledger values for purpose and product, dates).
    Missing terms (NaN, None) give missing features: current profiles have no request.
    The `SALES_INDEX_COLUMNS` are read when `profile` holds them (`term_sales_index` is
    missing otherwise).
    """
    instalment = proposed_instalment(principal, tenor, rate)
    income = np.asarray(profile["estimated_monthly_income"], dtype=float)
    spend = np.asarray(profile["sembako_spend_12m"], dtype=float)
    existing = np.asarray(profile["existing_debt_service"], dtype=float)
    return {
        "application_month": _month_labels(application_date),
        "loan_amount": np.asarray(principal, dtype=float),
        "tenor_months": np.asarray(tenor, dtype=float),
        "flat_monthly_rate": np.asarray(rate, dtype=float),
        "loan_purpose": np.asarray(purpose, dtype=object),
        "loan_product": np.asarray(product, dtype=object),
        "instalment_to_income": _capped_ratio(instalment, income),
        "instalment_to_sembako_spend": _capped_ratio(instalment, spend),
        "debt_service_to_income": _capped_ratio(instalment + existing, income),
        "term_sales_index": _term_sales_index(profile, tenor, application_date),
    }


def declared_inputs(income: Any, expenses: Any, verified: Any) -> dict[str, Array]:
    """The `DECLARED_COLUMNS`, one float64 value per row: Rupiah as floats, income_verified
    1.0 (verified) or 0.0, NaN where not given. Accepts the loans table's nullable columns
    (`Int64`, `boolean`), arrays, or lists holding None."""

    def floats(values: Any) -> Array:
        series = pd.Series(values, dtype=object) if isinstance(values, list) else values
        return np.asarray(
            pd.Series(series).astype("Float64").to_numpy("float64", na_value=np.nan),
            dtype=np.float64,
        )

    columns = (floats(v) for v in (income, expenses, verified))
    return dict(zip(DECLARED_COLUMNS, columns, strict=True))


def _number(value: object) -> float:
    if value is None or value is pd.NA:
        return math.nan
    return float(value)  # type: ignore[arg-type]


def _plain(value: object) -> object:
    """A numpy scalar as the plain Python value a fetched profile holds (None for NaN)."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return str(value)


def _profile_date(as_of: object) -> date | None:
    """The profile's as-of day (a date, text or timestamp), None when it has none."""
    if as_of is None:
        return None
    try:
        stamp = pd.Timestamp(as_of)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise LoanRequestError(f"profile: as_of is not a date: {as_of!r}") from None
    return None if pd.isna(stamp) else stamp.date()


def _check_order(application_date: date, as_of: date | None, where: str = "") -> None:
    if as_of is not None and application_date < as_of:
        raise LoanRequestError(
            f"application_date{where}: {application_date.isoformat()} is before the profile's "
            f"as-of day {as_of.isoformat()}; the profile would include events after the "
            "application (build or fetch a profile as of the application date)"
        )


def _one_date(as_of: object) -> date | None:
    """`_profile_date` without pandas for the usual cases: a YYYY-MM-DD text (as
    `ProfileStore.fetch` gives) or a date; anything else goes through `_profile_date`."""
    if type(as_of) is date:
        return as_of
    if (
        isinstance(as_of, str)
        and len(as_of) == 10
        and as_of.isascii()
        and as_of[4] == as_of[7] == "-"
        and (as_of[:4] + as_of[5:7] + as_of[8:]).isdigit()
    ):
        try:
            return date.fromisoformat(as_of)
        except ValueError:
            pass  # the slow path says why
    return _profile_date(as_of)


def _one_ratio(num: float, den: float) -> float:
    """`_capped_ratio` for one value: num / den capped at RATIO_CAP; NaN where den is 0
    or missing (NaN stays NaN, as `np.minimum` keeps it)."""
    if not (math.isfinite(den) and den > 0):
        return math.nan
    ratio = num / den  # floats overflow to inf, as numpy does
    return ratio if math.isnan(ratio) else min(ratio, RATIO_CAP)


def _one_instalment(principal: float, tenor: float, rate: float) -> float:
    """`proposed_instalment` for one request, in plain floats (same IEEE operations)."""
    if tenor == 0:  # numpy's inf / NaN rather than ZeroDivisionError
        return float(proposed_instalment(principal, tenor, rate))
    return principal / tenor + principal * rate


def _one_term_index(profile: Mapping[str, Any], tenor: float, month: int) -> float:
    """`_term_sales_index` for one request, in plain floats (same additions, same order)."""
    count = min(math.floor(tenor), TERM_INDEX_MONTHS)
    total = 0.0
    for k in range(1, count + 1):
        total += _number(profile.get(SALES_INDEX_COLUMNS[(month - 1 + k) % 12]))
    return total / count


def _one_declared(value: object) -> object:
    """A `declared_inputs` value for one request: the figure (or income_verified 1.0 /
    0.0) as a float, None where not given."""
    return _plain(math.nan if value is None or value is pd.NA else float(value))  # type: ignore[arg-type]


def application_record(profile: Mapping[str, Any], request: LoanRequest) -> dict[str, Any]:
    """The profile (as `ProfileStore.fetch` returns it) with the request's features filled
    in: the model's input for one application. Missing values are None, as in the profile.

    Refused (`LoanRequestError`) when the application date is before the profile's as-of day.
    The serving path, so plain floats and `math` rather than `request_features` and
    `declared_inputs` on one row; it gives exactly their values (tests/test_profile_store_fast.py).
    """
    missing = [c for c in PROFILE_INPUTS if c not in profile]
    if missing:
        raise LoanRequestError(f"profile: missing {', '.join(missing)} (not a member profile?)")
    _check_order(request.application_date, _one_date(profile.get("as_of")))
    income = _number(profile["estimated_monthly_income"])
    spend = _number(profile["sembako_spend_12m"])
    existing = _number(profile["existing_debt_service"])
    principal = float(request.amount)
    tenor = float(request.tenor_months)
    rate = float(request.flat_monthly_rate)
    instalment = _one_instalment(principal, tenor, rate)
    record = dict(profile)
    record["application_month"] = str(request.application_date.month)
    record["loan_amount"] = _plain(principal)
    record["tenor_months"] = _plain(tenor)
    record["flat_monthly_rate"] = _plain(rate)
    record["loan_purpose"] = _plain(request.purpose)
    record["loan_product"] = _plain(request.product)
    record["instalment_to_income"] = _plain(_one_ratio(instalment, income))
    record["instalment_to_sembako_spend"] = _plain(_one_ratio(instalment, spend))
    record["debt_service_to_income"] = _plain(_one_ratio(instalment + existing, income))
    record["term_sales_index"] = _plain(
        _one_term_index(profile, tenor, request.application_date.month)
    )
    record["declared_monthly_income"] = _one_declared(request.declared_monthly_income)
    record["declared_household_expenses"] = _one_declared(request.declared_household_expenses)
    record["income_verified"] = _one_declared(request.income_verified)
    return record


# ----------------------------------------------------------------------------- batches
def _request_columns(requests: pd.DataFrame) -> pd.DataFrame:
    """The requests validated column by column (the first bad row is named), as ledger
    values: amount int, tenor int, rate float, purpose and product values, dates, and the
    declared figures (float64, NaN where not given) and income_verified (1.0 / 0.0 / NaN)."""
    required = [c for c in REQUEST_COLUMNS if c not in OPTIONAL_REQUEST_COLUMNS]
    absent = [c for c in required if c not in requests.columns]
    if absent:
        raise LoanRequestError(f"requests: missing column(s) {', '.join(absent)}")
    n = len(requests)
    out = pd.DataFrame(index=requests.index)
    out["member_id"] = requests["member_id"].astype("str")
    for name, low, high, unit in (
        ("amount", 1, None, "Rupiah"),
        ("tenor_months", 1, MAX_TENOR_MONTHS, "months"),
    ):
        values = pd.to_numeric(requests[name], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < low)
        if high is not None:
            bad |= values > high
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            try:
                _whole(name, requests[name].iloc[at], low, high, unit)
            except LoanRequestError as exc:
                raise LoanRequestError(f"row {requests.index[at]!r}: {exc}") from None
        out[name] = values.astype(np.int64)
    rate = pd.to_numeric(requests["flat_monthly_rate"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(rate) | (rate < 0) | (rate > MAX_FLAT_MONTHLY_RATE)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        try:
            _rate("flat_monthly_rate", requests["flat_monthly_rate"].iloc[at])
        except LoanRequestError as exc:
            raise LoanRequestError(f"row {requests.index[at]!r}: {exc}") from None
    out["flat_monthly_rate"] = rate
    for name, parse, default in (
        ("purpose", parse_purpose, None),
        ("product", parse_product, DEFAULT_PRODUCT),
    ):
        given = requests[name] if name in requests.columns else pd.Series(default, requests.index)
        words = given.astype(object).where(given.notna(), default)
        parsed: dict[object, str] = {}
        for at, word in enumerate(words):
            if word not in parsed:
                try:
                    parsed[word] = parse(word)
                except LoanRequestError as exc:
                    raise LoanRequestError(f"row {requests.index[at]!r}: {exc}") from None
        out[name] = words.map(parsed).astype("str")
    if "application_date" in requests.columns:
        when = pd.to_datetime(requests["application_date"], errors="coerce")
        if when.isna().any():
            at = int(np.flatnonzero(when.isna().to_numpy())[0])
            raise LoanRequestError(
                f"row {requests.index[at]!r}: application_date: must be a date (YYYY-MM-DD); "
                f"got {requests['application_date'].iloc[at]!r}"
            )
        out["application_date"] = when.dt.normalize().astype("datetime64[ms]")
    else:
        out["application_date"] = np.full(n, np.datetime64(date.today(), "ms"))
    for name in DECLARED_COLUMNS:
        out[name] = _declared_column(requests, name)
    return out


def _declared_column(requests: pd.DataFrame, name: str) -> Array:
    """One optional declared column of a batch as float64 (NaN where not given), each
    distinct value checked once; the first bad row is named."""
    result = np.full(len(requests), np.nan)
    if name not in requests.columns:
        return result
    values = requests[name].astype(object).to_numpy()
    checked: dict[tuple[type, object], float] = {}
    for at, value in enumerate(values):
        if _absent(value):
            continue
        key = (type(value), value)  # True is not the amount 1
        if key not in checked:
            try:
                if name == "income_verified":
                    parsed: float = float(bool(_yes_no(name, value)))
                else:
                    parsed = float(_declared_amount(name, value) or 0)
            except LoanRequestError as exc:
                raise LoanRequestError(f"row {requests.index[at]!r}: {exc}") from None
            checked[key] = parsed
        result[at] = checked[key]
    return result


def application_frame(profiles: pd.DataFrame, requests: pd.DataFrame) -> pd.DataFrame:
    """`application_record` for a batch: one row per request (index of `requests`, so its
    other columns join back), the member's profile row with the request's features filled
    in and an `application_date` column after `as_of`.

    `requests` has the `REQUEST_COLUMNS` (product and application_date optional: default
    working_capital and today; the `DECLARED_COLUMNS` optional too, each cell may be empty,
    and come out as float64 with NaN); `profiles` one row per member (`member_id`), as built by
    `current_profiles` or read from a features folder. Refused (`LoanRequestError`, the row
    named) for a bad field, a member without a profile, or an application dated before its
    profile's as-of day.
    """
    terms = _request_columns(requests)
    ids = profiles["member_id"].astype("str")
    if ids.duplicated().any():
        twice = sorted(set(ids[ids.duplicated()]))[:5]
        raise LoanRequestError(f"profiles: more than one profile for member(s) {twice}")
    at = pd.Index(ids).get_indexer(pd.Index(terms["member_id"]))
    if (at < 0).any():
        unknown = sorted(set(terms["member_id"][at < 0]))
        raise LoanRequestError(
            f"member_id: no profile for {len(unknown)} member(s): {', '.join(unknown[:5])}"
        )
    out = profiles.iloc[at].reset_index(drop=True)
    when = terms["application_date"].to_numpy()
    if "as_of" in out.columns:
        as_of = pd.to_datetime(out["as_of"]).to_numpy(dtype="datetime64[ms]")
        early = when < as_of
        if early.any():
            i = int(np.flatnonzero(early)[0])
            try:
                _check_order(
                    pd.Timestamp(when[i]).date(), pd.Timestamp(as_of[i]).date(), " of a request"
                )
            except LoanRequestError as exc:
                raise LoanRequestError(f"row {requests.index[i]!r}: {exc}") from None
    features = request_features(
        out,
        terms["amount"].to_numpy(),
        terms["tenor_months"].to_numpy(),
        terms["flat_monthly_rate"].to_numpy(),
        terms["purpose"].to_numpy(dtype=object),
        terms["product"].to_numpy(dtype=object),
        when,
    )
    for name, values in features.items():
        out[name] = pd.Categorical(values) if name in CATEGORICAL_REQUEST_FEATURES else values
    for name in DECLARED_COLUMNS:
        out[name] = terms[name].to_numpy(dtype=np.float64)
    columns = list(out.columns)
    place = columns.index("as_of") + 1 if "as_of" in columns else len(columns)
    out.insert(place, "application_date", when)
    out.index = requests.index
    return out
