"""Parse single cell values from Indonesian cooperative spreadsheet exports.

Exports arrive as CSV (every cell a string) or as XLSX read by openpyxl (cells may be
``str``, ``int``, ``float``, ``datetime.datetime``, ``datetime.date`` or ``None``).
Indonesian conventions differ from the English defaults most libraries assume: ``.``
groups thousands, ``,`` marks decimals, dates are day-first, month names are in Bahasa
Indonesia and a yes is "ya". These functions are pure and work on one value at a time so
that callers can report every bad cell with its row and column. Writing values the Indonesian
way (Rupiah, dates, month names) is :mod:`features.wording`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from decimal import Decimal
from typing import Literal

import numpy as np

__all__ = [
    "ParseError",
    "ParseRule",
    "clean_text",
    "is_blank",
    "parse_bool",
    "parse_date",
    "parse_rate",
    "parse_rupiah",
]

ParseRule = Literal["unparseable", "not_whole_rupiah"]

_CACHE_SIZE = 1 << 16

# Characters that spreadsheets leave behind but that carry no content.
_INVISIBLE = str.maketrans({"\ufeff": None, "\u200b": None, "\u2060": None})


class ParseError(ValueError):
    """A cell could not be read; carries a machine rule and messages for both languages."""

    def __init__(self, rule: ParseRule, message_id: str, message_en: str) -> None:
        super().__init__(message_en)
        self.rule: ParseRule = rule
        self.message_id = message_id
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message_en

    def __reduce__(self) -> tuple[type[ParseError], tuple[ParseRule, str, str]]:
        # Keeps the error picklable (e.g. across multiprocessing) despite the custom __init__.
        return (type(self), (self.rule, self.message_id, self.message_en))


# --------------------------------------------------------------------------- text


def _normalise_text(text: str) -> str:
    """Drop invisible characters and collapse all Unicode whitespace (incl. NBSP) to one space."""
    return " ".join(text.translate(_INVISIBLE).split())


def is_blank(value: object) -> bool:
    """True for cells that hold nothing: None, NaN, or only whitespace/BOM/NBSP."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, str):
        return not _normalise_text(value)
    return False


def clean_text(value: object) -> str | None:
    """Cell as tidy text, or None when blank; whole floats from Excel lose their ``.0``."""
    if is_blank(value):
        return None
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return _normalise_text(text) or None


def _quote(value: object) -> str:
    """Short, readable rendering of a bad value for error messages."""
    text = clean_text(value) if not isinstance(value, str) else _normalise_text(value)
    if text is None:
        text = ""
    if len(text) > 60:
        text = text[:57] + "..."
    return f'"{text}"'


# -------------------------------------------------------------------------- numbers


def _ungroup(text: str, sep: str) -> str | None:
    """Digits of a thousands-grouped integer, or None when the grouping is malformed."""
    groups = text.split(sep)
    if not all(g.isascii() and g.isdigit() for g in groups):
        return None
    if len(groups) == 1:
        return groups[0]
    first, rest = groups[0], groups[1:]
    # A real grouped number never starts with a zero group ("0.250") or a group over 3 digits.
    if not 1 <= len(first) <= 3 or first.startswith("0"):
        return None
    if any(len(g) != 3 for g in rest):
        return None
    return "".join(groups)


def _to_decimal(num: str, *, single_sep_is_decimal: bool) -> Decimal | None:
    """Read digits with '.'/',' separators using the Indonesian/English disambiguation rules.

    Both separators present: the last one is the decimal separator. One kind only: several
    occurrences are thousands separators; a single one is a decimal separator when
    ``single_sep_is_decimal`` is set, otherwise thousands when followed by exactly 3 digits
    and decimal when followed by 1-2 digits.
    """
    if not num or not num[0].isdigit():
        return None
    has_dot, has_comma = "." in num, "," in num
    if has_dot and has_comma:
        dec = "." if num.rfind(".") > num.rfind(",") else ","
        thou = "," if dec == "." else "."
        int_part, _, frac = num.rpartition(dec)
        if dec in int_part or not (frac.isascii() and frac.isdigit()):
            return None
        digits = _ungroup(int_part, thou)
        return None if digits is None else Decimal(f"{digits}.{frac}")
    if not (has_dot or has_comma):
        return Decimal(num) if num.isascii() and num.isdigit() else None
    sep = "." if has_dot else ","
    parts = num.split(sep)
    if len(parts) > 2:
        digits = _ungroup(num, sep)
        return None if digits is None else Decimal(digits)
    int_part, frac = parts
    if not (int_part.isascii() and int_part.isdigit() and frac.isascii() and frac.isdigit()):
        return None
    if single_sep_is_decimal or len(frac) in (1, 2):
        return Decimal(f"{int_part}.{frac}")
    if len(frac) == 3:
        digits = _ungroup(num, sep)
        return None if digits is None else Decimal(digits)
    return None


_MULTIPLIERS: dict[str, int] = {
    "ribu": 1_000,
    "rb": 1_000,
    "k": 1_000,
    "juta": 1_000_000,
    "jt": 1_000_000,
    "miliar": 1_000_000_000,
    "milyar": 1_000_000_000,
}

_RUPIAH_RE = re.compile(
    r"""
    (?P<sign1>[-+])?\s*
    (?P<open1>\()?\s*
    (?:(?:rp|idr)\.?\s*)?
    (?P<sign2>[-+])?\s*
    (?P<open2>\()?\s*
    (?P<num>[0-9][0-9.,]*)\s*
    (?:(?P<mult>ribu|rb|k|juta|jt|miliar|milyar)\.?)?\s*
    (?P<close2>\))?\s*
    (?:(?:rp|idr|rupiah)\.?)?\s*
    (?P<close1>\))?
    """,
    re.VERBOSE | re.ASCII,
)

# "Rp 1.250.000,-" / "Rp 1.250.000.--": the dash says "no cents", not "negative".
_NO_CENTS_SUFFIX_RE = re.compile(r"(?<=[0-9])[.,]-+\s*(?=\)?$)")

_RUPIAH_EXAMPLES_ID = 'Contoh yang diterima: "Rp 1.250.000", "1.250.000,00", "1,5 juta".'
_RUPIAH_EXAMPLES_EN = 'Accepted examples: "Rp 1.250.000", "1.250.000,00", "1,5 juta".'


def _rupiah_unparseable(value: object) -> ParseError:
    if is_blank(value):
        return ParseError(
            "unparseable",
            "Nilai kosong; jumlah Rupiah wajib diisi.",
            "Value is empty; a Rupiah amount is required.",
        )
    q = _quote(value)
    return ParseError(
        "unparseable",
        f"Nilai {q} bukan jumlah Rupiah yang valid. {_RUPIAH_EXAMPLES_ID}",
        f"{q} is not a valid Rupiah amount. {_RUPIAH_EXAMPLES_EN}",
    )


def _not_whole(value: object) -> ParseError:
    q = _quote(value)
    return ParseError(
        "not_whole_rupiah",
        f"Jumlah {q} mengandung pecahan (sen); gunakan Rupiah bulat.",
        f"Amount {q} has a fractional part; whole Rupiah expected.",
    )


def _decimal_to_rupiah(amount: Decimal, value: object) -> int:
    if not amount.is_finite():
        raise _rupiah_unparseable(value)
    if amount != amount.to_integral_value():
        raise _not_whole(value)
    return int(amount)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_rupiah_text(raw: str) -> int:
    text = _normalise_text(raw).lower().replace("\u2212", "-")
    text = _NO_CENTS_SUFFIX_RE.sub("", text)
    m = _RUPIAH_RE.fullmatch(text)
    if m is None:
        raise _rupiah_unparseable(raw)
    opens = [g for g in ("open1", "open2") if m.group(g)]
    closes = [g for g in ("close1", "close2") if m.group(g)]
    signs = [m.group(g) for g in ("sign1", "sign2") if m.group(g)]
    # Accounting parentheses are the sign; allow exactly one sign indicator in total.
    if len(opens) != len(closes) or len(opens) + len(signs) > 1:
        raise _rupiah_unparseable(raw)
    negative = bool(opens) or signs == ["-"]
    mult = m.group("mult")
    # With "juta"/"ribu" the number is a small quantity, so "1,125 juta" means 1.125 million.
    amount = _to_decimal(m.group("num"), single_sep_is_decimal=mult is not None)
    if amount is None:
        raise _rupiah_unparseable(raw)
    if mult is not None:
        amount *= _MULTIPLIERS[mult]
    return _decimal_to_rupiah(-amount if negative else amount, raw)


# Excel formula results carry binary noise (0.1 + 0.2); no real amount has micro-Rupiah.
_FLOAT_WHOLE_TOLERANCE = 1e-6


def parse_rupiah(value: object) -> int:
    """Integer Rupiah from a cell; the sign is kept so business rules can reject negatives.

    Raises ParseError(rule="not_whole_rupiah") for a non-zero fractional part and
    ParseError(rule="unparseable") for anything else that is not an amount (blank included).
    """
    if isinstance(value, bool):
        raise _rupiah_unparseable(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _rupiah_unparseable(value)
        nearest = round(value)
        if abs(value - nearest) > _FLOAT_WHOLE_TOLERANCE:
            raise _not_whole(value)
        return int(nearest)
    if isinstance(value, Decimal):
        return _decimal_to_rupiah(value, value)
    if isinstance(value, str):
        return _parse_rupiah_text(value)
    raise _rupiah_unparseable(value)


# ----------------------------------------------------------------------------- rates

_RATE_RE = re.compile(
    r"(?P<sign>[-+])?\s*(?P<num>[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)\s*(?P<pct>%|persen)?",
    re.ASCII,
)


def _rate_unparseable(value: object) -> ParseError:
    q = _quote(value)
    return ParseError(
        "unparseable",
        f'Nilai {q} bukan suku bunga yang valid. Contoh: "1,5%", "18%", "0,015".',
        f'{q} is not a valid interest rate. Examples: "1,5%", "18%", "0,015".',
    )


def _rate_from_decimal(number: Decimal, *, percent: bool) -> float:
    if percent or abs(number) >= 1:
        number /= 100
    return round(float(number), 10)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_rate_text(raw: str) -> float:
    text = _normalise_text(raw).lower().replace("\u2212", "-")
    m = _RATE_RE.fullmatch(text)
    if m is None:
        raise _rate_unparseable(raw)
    number = Decimal(m.group("num").replace(",", "."))
    if m.group("sign") == "-":
        number = -number
    return _rate_from_decimal(number, percent=m.group("pct") is not None)


def parse_rate(value: object) -> float:
    """Interest rate as a fraction: '%' means percent, otherwise |x| >= 1 is read as percent."""
    if isinstance(value, bool):
        raise _rate_unparseable(value)
    if isinstance(value, int):
        return _rate_from_decimal(Decimal(value), percent=False)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _rate_unparseable(value)
        # repr() gives the shortest decimal that round-trips, so 1.5 stays exactly 1.5.
        return _rate_from_decimal(Decimal(repr(value)), percent=False)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _rate_unparseable(value)
        return _rate_from_decimal(value, percent=False)
    if isinstance(value, str):
        return _parse_rate_text(value)
    raise _rate_unparseable(value)


# ----------------------------------------------------------------------------- dates

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000  # 1954-10-03 .. 2119-01-10

_MONTH_ALIASES: dict[int, tuple[str, ...]] = {
    1: ("jan", "januari", "january"),
    2: ("feb", "peb", "februari", "pebruari", "february"),
    3: ("mar", "maret", "march"),
    4: ("apr", "april"),
    5: ("mei", "may"),
    6: ("jun", "juni", "june"),
    7: ("jul", "juli", "july"),
    8: ("agu", "agt", "ags", "agus", "agustus", "aug", "august"),
    9: ("sep", "sept", "september"),
    10: ("okt", "oktober", "oct", "october"),
    11: ("nov", "nop", "november", "nopember"),
    12: ("des", "desember", "dec", "december"),
}
_MONTHS: dict[str, int] = {
    alias: month for month, aliases in _MONTH_ALIASES.items() for alias in aliases
}

_DAY_NAMES = (
    "senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun"
)
_DAY_PREFIX = rf"(?:(?:{_DAY_NAMES})\.?\s*,?\s*)?"
# Optional time of day (validated, then dropped) with an optional UTC offset.
_TIME = (
    r"(?:[ t](?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.[0-9]{1,9})?)?"
    r"(?:z|[+-][0-9]{2}:?[0-9]{2})?)?"
)

_YEAR_FIRST_RE = re.compile(
    rf"(?P<y>[0-9]{{4}})(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}}){_TIME}",
    re.ASCII,
)
_DAY_FIRST_RE = re.compile(
    rf"{_DAY_PREFIX}(?P<d>[0-9]{{1,2}})(?P<sep>[-/.])(?P<m>[0-9]{{1,2}})(?P=sep)"
    rf"(?P<y>[0-9]{{4}}|[0-9]{{2}}){_TIME}",
    re.ASCII,
)
_DAY_MONTH_NAME_RE = re.compile(
    rf"{_DAY_PREFIX}(?P<d>[0-9]{{1,2}})\s*[-/.]?\s*(?P<mon>[a-z]+)\.?\s*[-/]?\s*"
    rf"(?P<y>[0-9]{{4}}|[0-9]{{2}}){_TIME}",
    re.ASCII,
)
_MONTH_NAME_DAY_RE = re.compile(
    rf"{_DAY_PREFIX}(?P<mon>[a-z]+)\.?\s*(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s*,?\s*"
    rf"(?P<y>[0-9]{{4}}){_TIME}",
    re.ASCII,
)
_SERIAL_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)

_DATE_FORMATS_ID = (
    "Format yang diterima: 31/12/2025, 31-12-2025, 31.12.2025, 2025-12-31, "
    "31 Des 2025, 31 Desember 2025, atau nomor seri tanggal Excel."
)
_DATE_FORMATS_EN = (
    "Accepted formats: 31/12/2025, 31-12-2025, 31.12.2025, 2025-12-31, "
    "31 Des 2025, 31 Desember 2025, or an Excel date serial number."
)


def _date_unparseable(value: object, *, not_on_calendar: bool = False) -> ParseError:
    q = _quote(value)
    why_id = " (tanggal tersebut tidak ada di kalender)" if not_on_calendar else ""
    why_en = " (no such calendar date)" if not_on_calendar else ""
    return ParseError(
        "unparseable",
        f"Tanggal {q} tidak dikenali{why_id}. {_DATE_FORMATS_ID}",
        f"Date {q} is not recognised{why_en}. {_DATE_FORMATS_EN}",
    )


def _from_serial(serial: float, value: object) -> dt.date:
    """Excel 1900 date system; the 1899-12-30 epoch absorbs Excel's fake 1900-02-29."""
    # The range test comes first: it holds for ints of any size (a pasted account number),
    # which math.isfinite cannot even convert, and fails for NaN and infinity.
    if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        raise _date_unparseable(value)
    # The fractional part is the time of day, which a date column does not need.
    return _EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))


def _expand_year(year: str) -> int:
    """Two-digit years pivot at 70: 00-69 -> 20xx, 70-99 -> 19xx."""
    y = int(year)
    if len(year) == 2:
        return y + (2000 if y < 70 else 1900)
    return y


def _build_date(year: int, month: int, day: int, m: re.Match[str], raw: str) -> dt.date:
    h, mi, s = m.group("h"), m.group("mi"), m.group("s")
    if h is not None and (int(h) > 23 or int(mi) > 59 or (s is not None and int(s) > 59)):
        raise _date_unparseable(raw)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _date_unparseable(raw, not_on_calendar=True) from None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_date_text(raw: str) -> dt.date:
    text = _normalise_text(raw).lower().replace("\u2019", "'")
    if _SERIAL_RE.fullmatch(text):
        return _from_serial(float(text), raw)
    if m := _YEAR_FIRST_RE.fullmatch(text):
        return _build_date(int(m["y"]), int(m["m"]), int(m["d"]), m, raw)
    if m := _DAY_FIRST_RE.fullmatch(text):
        return _build_date(_expand_year(m["y"]), int(m["m"]), int(m["d"]), m, raw)
    m = _DAY_MONTH_NAME_RE.fullmatch(text) or _MONTH_NAME_DAY_RE.fullmatch(text)
    if m is not None and m["mon"] in _MONTHS:
        return _build_date(_expand_year(m["y"]), _MONTHS[m["mon"]], int(m["d"]), m, raw)
    raise _date_unparseable(raw)


def parse_date(value: object) -> dt.date:
    """Calendar date from a cell; text is read DAY-FIRST as Indonesian exports write it."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise _date_unparseable(value)
    if isinstance(value, int | float):
        return _from_serial(value, value)
    if isinstance(value, str):
        return _parse_date_text(value)
    raise _date_unparseable(value)


# ----------------------------------------------------------------------------- yes / no

# Words for yes and no in Indonesian and English exports, compared in lower case. "t" and
# "f" are left out on purpose: in an Indonesian sheet "T" may mean "tidak" (no), in an
# English one "true", so such a cell is quarantined rather than guessed; so is "-", which
# may mean "no" or "not filled in".
BOOL_WORDS: dict[str, bool] = {
    **dict.fromkeys(
        ("ya", "y", "iya", "yes", "true", "1", "sudah", "benar", "terverifikasi",
         "diverifikasi", "sudah diverifikasi", "verified", "v", "\u2713", "\u2714"),
        True,
    ),
    **dict.fromkeys(
        ("tidak", "tdk", "n", "no", "false", "0", "belum", "bukan", "salah",
         "tidak terverifikasi", "belum diverifikasi", "belum terverifikasi",
         "tidak diverifikasi", "not verified", "unverified"),
        False,
    ),
}  # fmt: skip

_BOOL_EXAMPLES_ID = 'Isi dengan "ya" atau "tidak" (juga diterima: true/false, 1/0, y/n).'
_BOOL_EXAMPLES_EN = 'Write "ya" or "tidak" (also accepted: true/false, 1/0, y/n).'


def _bool_unparseable(value: object) -> ParseError:
    q = _quote(value)
    return ParseError(
        "unparseable",
        f"Nilai {q} bukan jawaban ya/tidak. {_BOOL_EXAMPLES_ID}",
        f"{q} is not a yes/no answer. {_BOOL_EXAMPLES_EN}",
    )


def parse_bool(value: object) -> bool:
    """A yes/no cell: "ya"/"tidak", "true"/"false", 1/0, "y"/"n" (see `BOOL_WORDS`), in any
    case; Excel's TRUE/FALSE cells and the numbers 1 and 0 too. Anything else, blank
    included, raises ParseError(rule="unparseable")."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | Decimal | np.number) and not is_blank(value):
        if value in (0, 1):
            return bool(value)
        raise _bool_unparseable(value)
    if isinstance(value, str):
        found = BOOL_WORDS.get(_normalise_text(value).lower().rstrip("."))
        if found is not None:
            return found
    raise _bool_unparseable(value)
