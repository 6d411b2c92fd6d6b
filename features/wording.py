"""Numbers, Rupiah, percentages, months and dates the way an officer reads them.

The one place for Indonesian (and English) formatting; the catalog's reason texts, the
decision policy and the ledger tools all write values through these functions:

* Indonesian groups thousands with ``.`` and marks decimals with ``,`` ("1.234,5");
  English the other way round ("1,234.5").
* Rupiah is whole and written "Rp 1.250.000" in both languages (DOMAIN.md), "-Rp 5.000"
  when negative.
* Rounding is people's rounding, half up from the number as written: 0.345 -> 0.35 and
  2.5 -> 3, never banker's rounding and never the binary 0.34499... A result that rounds to
  zero is written "0", not "-0".
* Dates read "31 Desember 2025" / "31 December 2025".

Every function is pure and refuses what it cannot write (NaN, infinities, month 13) with a
``ValueError`` naming the value; saying "no data" is the caller's wording, not a number's.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, SupportsIndex

__all__ = [
    "LANGS",
    "MONTHS_EN",
    "MONTHS_ID",
    "Lang",
    "Number",
    "format_date",
    "format_number",
    "format_percent",
    "format_rupiah",
    "month_name",
    "month_number",
    "round_half_up",
]

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")


def languages(lang: Lang | None = None) -> tuple[Lang, ...]:
    """The languages to write: the one asked for, or both."""
    return LANGS if lang is None else (lang,)


# Python and numpy numbers alike; Decimal for values already exact (a share times 100)
Number = float | Decimal | SupportsIndex

MONTHS_ID: tuple[str, ...] = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
MONTHS_EN: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NUMBER: dict[str, int] = {
    **{m.casefold(): i for i, m in enumerate(MONTHS_ID, start=1)},
    **{m.casefold(): i for i, m in enumerate(MONTHS_EN, start=1)},
}

_ID_SEPARATORS = str.maketrans(",.", ".,")


# ----------------------------------------------------------------------------- numbers


def _as_decimal(x: Number) -> Decimal:
    """The number as written: integers exactly, floats by their shortest repr, so 0.345 stays
    0.345 and not 0.34499999999999997558..."""
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, float):  # numpy's float64 too; float() first, its repr is "np.float64(..)"
        d = Decimal(repr(float(x)))
    elif isinstance(x, bool):
        raise TypeError(f"a number is needed, got the flag {x!r}")
    else:
        try:
            d = Decimal(operator.index(x))  # int and numpy integers, exactly
        except TypeError:
            d = Decimal(repr(float(x)))  # other float types, such as numpy's float32
    if not d.is_finite():
        raise ValueError(f"cannot write {x!r} as a number")
    return d


def round_half_up(x: Number, places: int = 0) -> Decimal:
    """``x`` rounded to ``places`` decimals the way people round: 0.345 -> 0.35 (from the
    shortest repr, not the binary value), 2.5 -> 3, -2.5 -> -3; negative zero becomes zero.

    ``places`` may be negative (-3 rounds to thousands). Raises ValueError for NaN and
    infinities.
    """
    r = _as_decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return abs(r) if r == 0 else r


# within this of a tie (x.5) a float's binary value may differ from its written value: such
# numbers take the exact Decimal path
_TIE = 1e-6


def round_half_up_int(x: float) -> int:
    """``int(round_half_up(x))`` for a finite float, without Decimal where no tie is near:
    a batch of reasons rounds tens of thousands of values (tested equal to the exact path)."""
    floor = math.floor(x)
    if abs(x - floor - 0.5) < _TIE or abs(x) >= 2**52:
        return int(round_half_up(x))
    return floor + 1 if x - floor > 0.5 else floor


def format_int(n: int, lang: Lang) -> str:
    """A whole number with thousands grouping: "1.234" (id) / "1,234" (en)."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "id" else text


def counted(n: int, one: str, many: str, lang: Lang) -> str:
    """A count and its noun: "1 month", "1,500 members" (en), "3 bulan" (id: pass the same
    word twice, the noun does not inflect)."""
    return f"{format_int(n, lang)} {one if n == 1 else many}"


def _grouped(d: Decimal, decimals: int, lang: Lang, trailing_zeros: bool) -> str:
    """An already rounded ``d`` with thousands grouping and the language's separators."""
    text = f"{d:,.{decimals}f}"
    if not trailing_zeros and decimals > 0:
        text = text.rstrip("0").rstrip(".")
    return text.translate(_ID_SEPARATORS) if lang == "id" else text


def format_number(x: Number, lang: Lang, decimals: int = 2, *, trailing_zeros: bool = False) -> str:
    """``x`` rounded half up to ``decimals`` places, with thousands grouping.

    1234.5 -> "1.234,5" (id) / "1,234.5" (en); 3 -> "3". Trailing zeros of the decimals are
    dropped unless ``trailing_zeros`` is set (a ratio reads "1,50" next to "0,35"). Raises
    ValueError for NaN and infinities.
    """
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals!r}")
    return _grouped(round_half_up(x, decimals), decimals, lang, trailing_zeros)


def format_percent(share: Number, lang: Lang, decimals: int = 2) -> str:
    """A share (0..1) as a percentage rounded half up, trailing zeros dropped:
    0.35 -> "35%"; 0.335 -> "33,5%" (id) / "33.5%" (en); 0.0125 -> "1,25%"."""
    return f"{format_number(_as_decimal(share) * 100, lang, decimals)}%"


def format_rupiah(amount: int) -> str:
    """Whole Rupiah as Indonesian users write it, in either language: "Rp 1.250.000",
    "Rp 0", "-Rp 5.000".

    Integer formatting only, as it runs for every row of a table. A float is refused
    (TypeError): round it first, e.g. ``int(round_half_up(x))``.
    """
    if type(amount) is not int:  # the common case costs one type check
        if isinstance(amount, bool):
            raise TypeError(f"a Rupiah amount is needed, got the flag {amount!r}")
        amount = operator.index(amount)  # numpy integers; floats raise TypeError
    if amount < 0:
        return f"-Rp {-amount:,}".replace(",", ".")
    return f"Rp {amount:,}".replace(",", ".")


# ----------------------------------------------------------------------------- months


def month_number(value: float | str) -> int:
    """The month of the year (1..12) from a number (3, 3.0, "3") or a month name in Bahasa
    Indonesia or English, any case ("Maret", "march"). ValueError naming the value otherwise."""
    if isinstance(value, str):
        key = value.strip()
        if key.casefold() in _MONTH_NUMBER:
            number = _MONTH_NUMBER[key.casefold()]
        elif key.isdigit():
            number = int(key)
        else:
            raise ValueError(f"not a month of the year: {value!r}")
    else:
        x = float(value)
        if not x.is_integer():  # NaN and infinities too
            raise ValueError(f"not a month of the year: {value!r}")
        number = int(x)
    if not 1 <= number <= 12:
        raise ValueError(f"month of the year must be 1..12, got {value!r}")
    return number


def month_name(value: float | str, lang: Lang) -> str:
    """The month's name: 12 -> "Desember" (id) / "December" (en); "maret" -> "March" (en)."""
    return (MONTHS_ID if lang == "id" else MONTHS_EN)[month_number(value) - 1]


# ----------------------------------------------------------------------------- dates


def format_date(d: dt.date | str, lang: Lang = "id") -> str:
    """A calendar date: "31 Desember 2025" (id) / "31 December 2025" (en).

    ``d`` is a date, a datetime or pandas Timestamp (its own calendar date; the time is
    dropped), or an ISO text ("2025-12-31", "2025-12-31T08:00:00"). Raises ValueError for
    other text and for NaT.
    """
    if isinstance(d, str):
        try:
            d = dt.datetime.fromisoformat(d.strip())
        except ValueError:
            raise ValueError(f"not an ISO date: {d!r}") from None
    if not isinstance(d, dt.date):
        raise TypeError(f"a date is needed, got {type(d).__name__}: {d!r}")
    # pandas' NaT is a datetime whose fields are NaN
    if not isinstance(d.year, int):
        raise ValueError(f"no date to write: {d!r}")
    months = MONTHS_ID if lang == "id" else MONTHS_EN
    return f"{d.day} {months[d.month - 1]} {d.year}"
