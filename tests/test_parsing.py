"""Tests for features.ledger.parsing: example tables plus round-trip properties."""

from __future__ import annotations

import datetime as dt
import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.ledger.parsing import (
    ParseError,
    clean_text,
    is_blank,
    parse_date,
    parse_rate,
    parse_rupiah,
)
from features.wording import MONTHS_ID

# ---------------------------------------------------------------------------- ParseError


def test_parse_error_carries_rule_and_both_messages() -> None:
    err = ParseError("unparseable", "pesan", "message")
    assert isinstance(err, ValueError)
    assert err.rule == "unparseable"
    assert err.message_id == "pesan"
    assert err.message_en == "message"
    assert str(err) == "message"


def test_parse_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(ParseError("not_whole_rupiah", "pesan", "message")))
    assert (err.rule, err.message_id, err.message_en) == ("not_whole_rupiah", "pesan", "message")


# ------------------------------------------------------------------------------ is_blank


@pytest.mark.parametrize(
    "value", [None, float("nan"), "", " ", "\t\n", "\ufeff", "\xa0", " \xa0\ufeff "]
)
def test_is_blank_true(value: object) -> None:
    assert is_blank(value) is True


@pytest.mark.parametrize(
    "value", ["-", "0", 0, 0.0, "a", " x ", dt.date(2025, 1, 1), False, "\ufeffx"]
)
def test_is_blank_false(value: object) -> None:
    assert is_blank(value) is False


# ---------------------------------------------------------------------------- clean_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\ufeff", None),
        (float("nan"), None),
        ("\ufeffKoperasi", "Koperasi"),
        ("  Budi\xa0 Santoso\t\n ", "Budi Santoso"),
        ("a  \xa0 b", "a b"),
        (12.0, "12"),
        (12.5, "12.5"),
        (-3.0, "-3"),
        (12, "12"),
        ("-", "-"),
        (dt.date(2025, 12, 31), "2025-12-31"),
    ],
)
def test_clean_text(value: object, expected: str | None) -> None:
    assert clean_text(value) == expected


# -------------------------------------------------------------------------- parse_rupiah

RUPIAH_OK: list[tuple[object, int]] = [
    (1250000, 1_250_000),
    (-5000, -5_000),
    (0, 0),
    (1250000.0, 1_250_000),
    (-5000.0, -5_000),
    ("Rp 1.250.000", 1_250_000),
    ("Rp1.250.000,00", 1_250_000),
    ("1.250.000,00", 1_250_000),
    ("1,250,000", 1_250_000),
    ("1,250,000.00", 1_250_000),
    ("1250000", 1_250_000),
    (" 1.250.000 ", 1_250_000),
    ("IDR 1.250.000", 1_250_000),
    ("Rp. 1.250.000,-", 1_250_000),
    ("-Rp 5.000", -5_000),
    ("Rp -5.000", -5_000),
    ("(5.000)", -5_000),
    ("(Rp 5.000)", -5_000),
    ("1.250", 1_250),
    ("1,250", 1_250),
    ("1.5 juta", 1_500_000),
    ("1,5 juta", 1_500_000),
    ("2 jt", 2_000_000),
    ("250 ribu", 250_000),
    ("250rb", 250_000),
    ("\ufeffRp\xa01.250.000", 1_250_000),
    ("rp 1.250.000", 1_250_000),
    ("1250000,00", 1_250_000),
    ("1250000.00", 1_250_000),
    ("12,0", 12),
    ("1.000.000.000.000", 1_000_000_000_000),
    ("0", 0),
    ("-0", 0),
    ("+5.000", 5_000),
    ("\u22125.000", -5_000),
]


@pytest.mark.parametrize(("value", "expected"), RUPIAH_OK)
def test_parse_rupiah_ok(value: object, expected: int) -> None:
    result = parse_rupiah(value)
    assert result == expected
    assert type(result) is int


RUPIAH_NOT_WHOLE: list[object] = ["1.250.000,50", 12.5, "12,5", "1,250,000.01", "0,5", -0.5]


@pytest.mark.parametrize("value", RUPIAH_NOT_WHOLE)
def test_parse_rupiah_not_whole(value: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_rupiah(value)
    assert info.value.rule == "not_whole_rupiah"


RUPIAH_BAD: list[object] = [
    None,
    "",
    "   ",
    "\ufeff",
    float("nan"),
    float("inf"),
    "abc",
    "Rp",
    "1.2.3",
    "12,34,5",
    "1.250,000.00,5",
    "1,25,000",
    "1.2345",
    "1250.",
    ".5",
    "--5.000",
    "-(5.000)",
    "(5.000",
    "5.000)",
    "1e6",
    "12 34",
    "0.250",
    "1.250.000,",
    True,
    dt.date(2025, 1, 1),
    "USD 5",
    "٣",
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12345678901234567890", 12345678901234567890),
        ("-98.765.432.109.876.543.210", -98765432109876543210),
        (10**25, 10**25),
        (1e20, 10**20),
        ("999999999 miliar", 999_999_999 * 10**9),
    ],
)
def test_parse_rupiah_reads_any_size_exactly(value: object, expected: int) -> None:
    """Python ints hold any amount; whether it fits a ledger is the importer's rule."""
    assert parse_rupiah(value) == expected


@pytest.mark.parametrize("value", ["1e400", "inf", "-inf", float("inf"), float("-inf")])
def test_parse_rupiah_refuses_infinity(value: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_rupiah(value)
    assert info.value.rule == "unparseable"


@pytest.mark.parametrize("value", RUPIAH_BAD)
def test_parse_rupiah_unparseable(value: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_rupiah(value)
    assert info.value.rule == "unparseable"


def test_parse_rupiah_error_messages_quote_value_in_both_languages() -> None:
    with pytest.raises(ParseError) as info:
        parse_rupiah("abc")
    assert '"abc"' in info.value.message_en
    assert '"abc"' in info.value.message_id
    assert info.value.message_en != info.value.message_id
    assert str(info.value) == info.value.message_en


# ---------------------------------------------------------------------------- parse_rate

RATE_OK: list[tuple[object, float]] = [
    ("1,5%", 0.015),
    ("1.5 %", 0.015),
    ("18%", 0.18),
    ("0,015", 0.015),
    (0.015, 0.015),
    ("1,5", 0.015),
    (2, 0.02),
    ("24", 0.24),
    (1.5, 0.015),
    (18.0, 0.18),
    ("0.5%", 0.005),
    ("0,5", 0.5),
    ("1", 0.01),
    ("0", 0.0),
    (" \ufeff2,25 % ", 0.0225),
]


@pytest.mark.parametrize(("value", "expected"), RATE_OK)
def test_parse_rate_ok(value: object, expected: float) -> None:
    assert parse_rate(value) == expected


def test_parse_rate_has_no_float_noise() -> None:
    assert repr(parse_rate("1,5%")) == "0.015"
    assert repr(parse_rate(1.15)) == "0.0115"


@pytest.mark.parametrize(
    "value", [None, "", "abc", "%", "1,5,0%", "1.000,5%", "1..5", True, float("nan")]
)
def test_parse_rate_unparseable(value: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_rate(value)
    assert info.value.rule == "unparseable"


# ---------------------------------------------------------------------------- parse_date

D = dt.date

DATE_OK: list[tuple[object, dt.date]] = [
    (D(2025, 12, 31), D(2025, 12, 31)),
    (dt.datetime(2025, 12, 31, 8, 15), D(2025, 12, 31)),
    (45657, D(2024, 12, 31)),
    (45657.0, D(2024, 12, 31)),
    (45657.75, D(2024, 12, 31)),
    ("45657", D(2024, 12, 31)),
    ("2025-12-31", D(2025, 12, 31)),
    ("2025-12-31 00:00:00", D(2025, 12, 31)),
    ("2025-12-31T08:15:00", D(2025, 12, 31)),
    ("31/12/2025", D(2025, 12, 31)),
    ("31-12-2025", D(2025, 12, 31)),
    ("31.12.2025", D(2025, 12, 31)),
    ("1/2/2025", D(2025, 2, 1)),
    ("31/12/25", D(2025, 12, 31)),
    ("01/01/69", D(2069, 1, 1)),
    ("01/01/70", D(1970, 1, 1)),
    ("31/12/99", D(1999, 12, 31)),
    ("31/12/00", D(2000, 12, 31)),
    ("31 Des 2025", D(2025, 12, 31)),
    ("31 Desember 2025", D(2025, 12, 31)),
    ("31-Des-2025", D(2025, 12, 31)),
    ("31/Des/2025", D(2025, 12, 31)),
    ("5 Agt 2025", D(2025, 8, 5)),
    ("5 Agu 2025", D(2025, 8, 5)),
    ("5 Ags 2025", D(2025, 8, 5)),
    ("5 Agus 2025", D(2025, 8, 5)),
    ("5 Agustus 2025", D(2025, 8, 5)),
    ("1 Mei 2025", D(2025, 5, 1)),
    ("1 May 2025", D(2025, 5, 1)),
    ("3 Okt 2025", D(2025, 10, 3)),
    ("3 Oct. 2025", D(2025, 10, 3)),
    ("3 OKT. 2025", D(2025, 10, 3)),
    ("Senin, 31 Desember 2025", D(2025, 12, 31)),
    ("Jum'at, 5 Desember 2025", D(2025, 12, 5)),
    ("Jumat, 5 Desember 2025", D(2025, 12, 5)),
    ("Wednesday, 31 December 2025", D(2025, 12, 31)),
    ("14 Pebruari 2025", D(2025, 2, 14)),
    ("14 Peb 2025", D(2025, 2, 14)),
    ("10 Nop 2025", D(2025, 11, 10)),
    ("10 Nopember 2025", D(2025, 11, 10)),
    ("9 Sept 2025", D(2025, 9, 9)),
    ("31 Des 25", D(2025, 12, 31)),
    ("\ufeff 31/12/2025 ", D(2025, 12, 31)),
    ("31/12/2025 08:15", D(2025, 12, 31)),
]


@pytest.mark.parametrize(("value", "expected"), DATE_OK)
def test_parse_date_ok(value: object, expected: dt.date) -> None:
    result = parse_date(value)
    assert result == expected
    assert type(result) is dt.date


DATE_BAD: list[object] = [
    None,
    "",
    "abc",
    "31/02/2025",
    "2025-13-01",
    "2025-02-30",
    "32/01/2025",
    "31 Foo 2025",
    "31 Desember",
    "12/2025",
    "19999",
    "80001",
    19999,
    1.5,
    float("nan"),
    True,
    "31/12-2025",
    "2025-12-31 25:00",
    "Senin; 31 Desember 2025",
    # a pasted account number in a date cell: no float holds it, yet it is no date either
    10**400,
    -(10**400),
    12345678901234567890,
    float("inf"),
    1e300,
    "9" * 400,
]


@pytest.mark.parametrize("value", DATE_BAD)
def test_parse_date_unparseable(value: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_date(value)
    assert info.value.rule == "unparseable"


def test_parse_date_error_quotes_value_and_lists_formats() -> None:
    with pytest.raises(ParseError) as info:
        parse_date("31/02/2025")
    err = info.value
    assert '"31/02/2025"' in err.message_en
    assert '"31/02/2025"' in err.message_id
    assert "31/12/2025" in err.message_en and "31 Desember 2025" in err.message_en
    assert "31/12/2025" in err.message_id and "Excel" in err.message_id


# ---------------------------------------------------------------------------- properties

_WS = st.sampled_from(["", " ", "  ", "\t", "\xa0", " \xa0 "])


def _grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def _style(n: int, style: str) -> str:
    a = abs(n)
    sign = "-" if n < 0 else ""
    if style == "rp_id":
        return f"{sign}Rp {_grouped(a, '.')}"
    if style == "id_decimals":
        return f"{sign}{_grouped(a, '.')},00"
    if style == "en":
        return f"{sign}{_grouped(a, ',')}"
    if style == "en_decimals":
        return f"{sign}{_grouped(a, ',')}.00"
    if style == "plain":
        return f"{sign}{a}"
    if style == "accounting":
        return f"({_grouped(a, '.')})" if n < 0 else _grouped(a, ".")
    raise AssertionError(style)


@given(
    n=st.integers(min_value=-(10**12), max_value=10**12),
    style=st.sampled_from(["rp_id", "id_decimals", "en", "en_decimals", "plain", "accounting"]),
    left=_WS,
    right=_WS,
    bom=st.booleans(),
)
def test_parse_rupiah_round_trips_every_style(
    n: int, style: str, left: str, right: str, bom: bool
) -> None:
    text = ("\ufeff" if bom else "") + left + _style(n, style) + right
    assert parse_rupiah(text) == n


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_rupiah_accepts_whole_floats(n: int) -> None:
    assert parse_rupiah(float(n)) == n


_ID_ABBREVIATIONS: dict[int, list[str]] = {
    1: ["Jan"],
    2: ["Feb", "Peb"],
    3: ["Mar"],
    4: ["Apr"],
    5: ["Mei"],
    6: ["Jun"],
    7: ["Jul"],
    8: ["Agu", "Agt", "Ags", "Agus"],
    9: ["Sep", "Sept"],
    10: ["Okt"],
    11: ["Nov", "Nop"],
    12: ["Des"],
}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _case(text: str, case: str) -> str:
    return text.upper() if case == "upper" else text.lower() if case == "lower" else text


@given(
    d=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31)),
    style=st.sampled_from(["dmy", "iso", "abbr", "full", "serial_int", "serial_str", "dt"]),
    pick=st.integers(min_value=0, max_value=3),
    case=st.sampled_from(["as_is", "upper", "lower"]),
)
def test_parse_date_round_trips_every_style(d: dt.date, style: str, pick: int, case: str) -> None:
    value: object
    if style == "dmy":
        value = d.strftime("%d/%m/%Y")
    elif style == "iso":
        value = d.isoformat()
    elif style == "abbr":
        names = _ID_ABBREVIATIONS[d.month]
        value = _case(f"{d.day} {names[pick % len(names)]} {d.year}", case)
    elif style == "full":
        value = _case(f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}", case)
    elif style == "serial_int":
        value = (d - _EXCEL_EPOCH).days
    elif style == "serial_str":
        value = str((d - _EXCEL_EPOCH).days)
    else:
        value = dt.datetime(d.year, d.month, d.day, pick, 30)
    assert parse_date(value) == d


@given(st.floats(min_value=0.0001, max_value=0.99, allow_nan=False))
def test_parse_rate_keeps_fractions(x: float) -> None:
    assert math.isclose(parse_rate(x), x, rel_tol=0, abs_tol=1e-10)
