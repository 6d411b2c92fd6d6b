"""Tests for features.wording: pinned examples in both languages plus round-trip properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.ledger.parsing import parse_date, parse_rate, parse_rupiah
from features.wording import (
    LANGS,
    MONTHS_EN,
    MONTHS_ID,
    Lang,
    counted,
    format_date,
    format_number,
    format_percent,
    format_rupiah,
    month_name,
    month_number,
    round_half_up,
)

# ---------------------------------------------------------------------------- round_half_up


@pytest.mark.parametrize(
    ("x", "places", "expected"),
    [
        (0.345, 2, "0.35"),  # the binary value is 0.34499...; people round what they read
        (0.335, 2, "0.34"),
        (2.5, 0, "3"),
        (3.5, 0, "4"),  # not banker's rounding (which gives 4 and 2 for 3.5 and 2.5)
        (-2.5, 0, "-3"),
        (1.005, 2, "1.01"),
        (1249999.6, 0, "1250000"),
        (7, 0, "7"),
        (1234.5678, 1, "1234.6"),
        (1250, -2, "1.3E+3"),
        (Decimal("0.125"), 2, "0.13"),
    ],
)
def test_round_half_up_examples(x: float | Decimal, places: int, expected: str) -> None:
    assert round_half_up(x, places) == Decimal(expected)
    assert str(round_half_up(x, places)) == expected


@pytest.mark.parametrize("x", [-0.0, -0.001, -0.4, Decimal("-0.0")])
def test_round_half_up_never_gives_negative_zero(x: float | Decimal) -> None:
    r = round_half_up(x)
    assert r == 0 and not r.is_signed()


def test_round_half_up_takes_numpy_numbers() -> None:
    assert round_half_up(np.float64(0.345), 2) == Decimal("0.35")
    assert round_half_up(np.int64(12)) == Decimal(12)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), Decimal("NaN")])
def test_non_finite_numbers_are_refused(bad: float | Decimal) -> None:
    with pytest.raises(ValueError, match="cannot write"):
        round_half_up(bad)
    with pytest.raises(ValueError, match="cannot write"):
        format_number(bad, "id")
    with pytest.raises(ValueError, match="cannot write"):
        format_percent(bad, "en")


def test_a_flag_is_not_a_number() -> None:
    with pytest.raises(TypeError, match="flag"):
        round_half_up(True)


# ---------------------------------------------------------------------------- format_number


@pytest.mark.parametrize(
    ("x", "decimals", "expected_id", "expected_en"),
    [
        (1234.5, 2, "1.234,5", "1,234.5"),
        (1234.5, 0, "1.235", "1,235"),
        (3, 2, "3", "3"),
        (0, 2, "0", "0"),
        (0.345, 2, "0,35", "0.35"),
        (-1234567.891, 2, "-1.234.567,89", "-1,234,567.89"),
        (-0.001, 2, "0", "0"),
        (999.995, 2, "1.000", "1,000"),
        (100, 0, "100", "100"),  # zeros of the integer part are never dropped
        (1_000_000, 2, "1.000.000", "1,000,000"),
        (12_345_678_901_234, 0, "12.345.678.901.234", "12,345,678,901,234"),
        (0.5, 1, "0,5", "0.5"),
    ],
)
def test_format_number_examples(
    x: float, decimals: int, expected_id: str, expected_en: str
) -> None:
    assert format_number(x, "id", decimals) == expected_id
    assert format_number(x, "en", decimals) == expected_en


def test_format_number_can_keep_trailing_zeros() -> None:
    assert format_number(1.5, "id", 2, trailing_zeros=True) == "1,50"
    assert format_number(1.5, "en", 2, trailing_zeros=True) == "1.50"
    assert format_number(-0.001, "id", 2, trailing_zeros=True) == "0,00"
    assert format_number(1234, "en", 2, trailing_zeros=True) == "1,234.00"


def test_format_number_refuses_negative_decimals() -> None:
    with pytest.raises(ValueError, match="decimals"):
        format_number(1.5, "id", -1)


# ---------------------------------------------------------------------------- format_percent


@pytest.mark.parametrize(
    ("share", "decimals", "expected_id", "expected_en"),
    [
        (0.35, 2, "35%", "35%"),
        (0.335, 2, "33,5%", "33.5%"),
        (0.0125, 2, "1,25%", "1.25%"),
        (0.015, 2, "1,5%", "1.5%"),
        (0.02, 2, "2%", "2%"),
        (1.0, 2, "100%", "100%"),
        (0.0, 2, "0%", "0%"),
        (0.755, 0, "76%", "76%"),
        (0.0625, 0, "6%", "6%"),
        (0.00035, 2, "0,04%", "0.04%"),  # 0,035% half up, from the share as written
        (-0.25, 0, "-25%", "-25%"),
        (12.5, 0, "1.250%", "1,250%"),
    ],
)
def test_format_percent_examples(
    share: float, decimals: int, expected_id: str, expected_en: str
) -> None:
    assert format_percent(share, "id", decimals) == expected_id
    assert format_percent(share, "en", decimals) == expected_en


# ---------------------------------------------------------------------------- format_rupiah


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1_250_000, "Rp 1.250.000"),
        (850_000, "Rp 850.000"),
        (-5_000, "-Rp 5.000"),
        (-1, "-Rp 1"),
        (0, "Rp 0"),
        (999, "Rp 999"),
        (1_000, "Rp 1.000"),
        (3_000_000_000, "Rp 3.000.000.000"),  # the Himbara ceiling, Rp 3 miliar
        (10**15, "Rp 1.000.000.000.000.000"),
        (np.int64(25_000), "Rp 25.000"),
    ],
)
def test_format_rupiah(amount: int, expected: str) -> None:
    assert format_rupiah(amount) == expected


@pytest.mark.parametrize("bad", [1250000.0, True, "1250000"])
def test_format_rupiah_takes_whole_rupiah_only(bad: object) -> None:
    with pytest.raises(TypeError):
        format_rupiah(bad)  # type: ignore[arg-type]


def test_format_rupiah_of_a_rounded_float() -> None:
    assert format_rupiah(int(round_half_up(1249999.5))) == "Rp 1.250.000"


# ---------------------------------------------------------------------------- months and dates


def test_month_names() -> None:
    assert len(MONTHS_ID) == len(MONTHS_EN) == 12
    assert (MONTHS_ID[0], MONTHS_ID[4], MONTHS_ID[7], MONTHS_ID[11]) == (
        "Januari",
        "Mei",
        "Agustus",
        "Desember",
    )
    assert (MONTHS_EN[0], MONTHS_EN[4], MONTHS_EN[11]) == ("January", "May", "December")


@pytest.mark.parametrize(
    ("value", "expected_id", "expected_en"),
    [
        (3, "Maret", "March"),
        (12.0, "Desember", "December"),
        ("8", "Agustus", "August"),
        (" 02 ", "Februari", "February"),
        ("mei", "Mei", "May"),
        ("MAY", "Mei", "May"),
        ("Oktober", "Oktober", "October"),
    ],
)
def test_month_name(value: float | str, expected_id: str, expected_en: str) -> None:
    assert month_name(value, "id") == expected_id
    assert month_name(value, "en") == expected_en


@pytest.mark.parametrize("bad", [0, 13, 2.5, "13", "Maretz", "", float("nan")])
def test_month_number_refuses_what_is_no_month(bad: float | str) -> None:
    with pytest.raises(ValueError, match="month"):
        month_number(bad)


_EVERY_MONTH_ID = [
    "31 Januari 2025",
    "28 Februari 2025",
    "31 Maret 2025",
    "30 April 2025",
    "31 Mei 2025",
    "30 Juni 2025",
    "31 Juli 2025",
    "31 Agustus 2025",
    "30 September 2025",
    "31 Oktober 2025",
    "30 November 2025",
    "31 Desember 2025",
]
_EVERY_MONTH_EN = [
    "31 January 2025",
    "28 February 2025",
    "31 March 2025",
    "30 April 2025",
    "31 May 2025",
    "30 June 2025",
    "31 July 2025",
    "31 August 2025",
    "30 September 2025",
    "31 October 2025",
    "30 November 2025",
    "31 December 2025",
]


@pytest.mark.parametrize("month", range(1, 13))
def test_format_date_every_month(month: int) -> None:
    last_day = (pd.Timestamp(2025, month, 1) + pd.offsets.MonthEnd(0)).date()
    assert format_date(last_day) == _EVERY_MONTH_ID[month - 1]
    assert format_date(last_day, "id") == _EVERY_MONTH_ID[month - 1]
    assert format_date(last_day, "en") == _EVERY_MONTH_EN[month - 1]


@pytest.mark.parametrize(
    ("d", "expected_id", "expected_en"),
    [
        (dt.date(2025, 1, 5), "5 Januari 2025", "5 January 2025"),
        (dt.date(2024, 2, 29), "29 Februari 2024", "29 February 2024"),
        (dt.datetime(2024, 8, 17, 23, 59), "17 Agustus 2024", "17 August 2024"),
        (pd.Timestamp("2025-12-31 08:00"), "31 Desember 2025", "31 December 2025"),
        ("2025-12-31", "31 Desember 2025", "31 December 2025"),
        (" 2025-03-01T10:30:00 ", "1 Maret 2025", "1 March 2025"),
    ],
)
def test_format_date_accepts_dates_datetimes_timestamps_and_iso_text(
    d: dt.date | str, expected_id: str, expected_en: str
) -> None:
    assert format_date(d, "id") == expected_id
    assert format_date(d, "en") == expected_en


def test_format_date_refuses_what_is_no_date() -> None:
    with pytest.raises(ValueError, match="ISO"):
        format_date("31/12/2025")
    with pytest.raises(ValueError, match="no date"):
        format_date(pd.NaT)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="date"):
        format_date(20251231)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- properties


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_rupiah_round_trips_through_the_ledger_parser(n: int) -> None:
    assert parse_rupiah(format_rupiah(n)) == n


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_rupiah_is_format_number_with_the_currency(n: int) -> None:
    body = format_number(abs(n), "id", 0)
    assert format_rupiah(n) == (f"-Rp {body}" if n < 0 else f"Rp {body}")


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31)))
def test_format_date_round_trips_through_the_ledger_parser(d: dt.date) -> None:
    for lang in LANGS:
        assert parse_date(format_date(d, lang)) == d
    assert format_date(d.isoformat()) == format_date(d)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False))
def test_format_number_reads_back_as_the_rounded_value(x: Decimal) -> None:
    rounded = round_half_up(x, 2)
    assert abs(rounded - x) <= Decimal("0.005")
    id_text, en_text = format_number(x, "id"), format_number(x, "en")
    assert Decimal(id_text.replace(".", "").replace(",", ".")) == rounded
    assert Decimal(en_text.replace(",", "")) == rounded
    assert id_text.translate(str.maketrans(",.", ".,")) == en_text


@given(st.integers(min_value=0, max_value=10_000))
def test_format_percent_round_trips_through_the_rate_parser(basis_points: int) -> None:
    share = basis_points / 10_000
    assert parse_rate(format_percent(share, "id")) == pytest.approx(share, abs=1e-12)


@given(st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-(10**6), 10**6).map(lambda n: n / 2))
def test_the_fast_integer_rounding_equals_the_exact_one(x: float) -> None:
    from features.wording import round_half_up_int

    assert round_half_up_int(x) == int(round_half_up(x))


@given(st.floats(0, 1, allow_nan=False) | st.integers(0, 2000).map(lambda n: n / 2000))
def test_shares_are_written_as_the_exact_path_writes_them(x: float) -> None:
    from features.catalog import feature, format_value

    share = feature("share_wajib_months_paid_12m")
    assert share.unit == "share"
    for lang in ("id", "en"):
        assert format_value(share, x, lang) == format_percent(x, lang, 0)


@pytest.mark.parametrize(
    ("n", "one", "many", "lang", "expected"),
    [
        (1, "month", "months", "en", "1 month"),
        (0, "month", "months", "en", "0 months"),
        (1_500, "member", "members", "en", "1,500 members"),
        (1_500, "bulan", "bulan", "id", "1.500 bulan"),
    ],
)
def test_counted_says_the_number_and_its_noun(
    n: int, one: str, many: str, lang: Lang, expected: str
) -> None:
    assert counted(n, one, many, lang) == expected
