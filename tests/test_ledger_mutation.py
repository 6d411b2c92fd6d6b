"""Bounded mutation test of the importer: a small generated export, mutated at random with a
fixed seed, either imports with counts that reconcile and a reason on every quarantined row,
or fails with the importer's own clear error (never an OverflowError, KeyError or pandas
ValueError traceback).

Each case applies one to four mutations (odd cells: huge numbers, text in number columns,
blanks, unicode, odd dates; dropped or renamed columns; duplicated, truncated or dropped
rows; truncated files) to the CSV folder or the XLSX workbook, then imports it.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from features.generator.run import GeneratorConfig, generate_ledger
from features.ledger.contracts import TABLE_ORDER, TABLES, Rule
from features.ledger.exporter import export_ledger
from features.ledger.importer import ImportReport, LedgerImportError, import_ledger
from features.ledger.sources import SourceError
from features.ledger.store import Ledger
from tests.conftest import PII_KEY, TODAY

SEED = 20_251_010
CASES_PER_FORM = 30  # 60 mutated imports in all, about half a second each
MAX_ROWS = 25  # per leaf table (nothing refers to its rows): import cost is per table
LEAF_TABLES = ("savings", "store_purchases", "produce_sales")

Sheets = dict[str, list[list[object]]]

# Cells an export can really hold, by family: pasted account numbers and overflowing
# floats, other text where a number belongs, blanks, unicode noise, odd dates. XLSX cells
# also hold numbers and dates as openpyxl reads them back (huge ints come back as floats).
_HUGE: tuple[object, ...] = (
    "12345678901234567890",
    "-98765432109876543210123",
    "9" * 40,
    "9223372036854775808",
    "1e400",
    "-1e400",
    "inf",
    "-inf",
    "999999999 miliar",
    "Rp 9.999.999.999.999.999.999",
)
_HUGE_XLSX: tuple[object, ...] = (10**25, -(10**25), 2**63, -(2**63) - 1, 1e300, -1e300)
_NUMBERISH: tuple[object, ...] = (
    "NaN",
    "abc",
    "Rp",
    "Rp 1.250.000,-",
    "1,5 juta",
    "1.234.567,89",
    "0",
    "-0",
    "-1",
    "0,5",
    "100%",
    "-5%",
    "45000.5",
    "99999999",
    "3 bulan",
    "=SUM(A1:A3)",
    "NULL",
    "-",
)
_NUMBERISH_XLSX: tuple[object, ...] = (1e-300, -0.0, 1.5, 0, -7, 45_000, 0.015)
_BLANK: tuple[object, ...] = ("", "   ", "\u00a0", "\ufeff")
_UNICODE: tuple[object, ...] = (
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # full-width digits
    "Ünïcødé 🙂",
    "名前",
    "x" * 300,
    "y" * 140_000,  # over the csv module's field limit: a quote left open reads like this
    "'",
    '"',
    "a,b;c\td",
    "line\nbreak",
    "disbursed",
    "rejected",
)
_DATES: tuple[object, ...] = (
    "31/02/2025",
    "2025-13-01",
    "0000-00-00",
    "29 Februari 2023",
    "1/1/1",
    "0001-01-01",
    "9999-12-31",
    "Senin, 31 Desember 2025",
    "2025-06-15T10:00:00+07:00",
    "12:30",
    "20000",
)
_DATES_XLSX: tuple[object, ...] = (
    dt.date(9999, 12, 31),
    dt.date(1, 1, 1),
    dt.datetime(2025, 2, 28, 23, 59),
    dt.time(12, 30),
)
# family -> (weight, text values, extra XLSX cell values)
_FAMILIES: dict[str, tuple[float, tuple[object, ...], tuple[object, ...]]] = {
    "huge": (3.0, _HUGE, _HUGE_XLSX),
    "numberish": (2.0, _NUMBERISH, _NUMBERISH_XLSX),
    "blank": (1.0, _BLANK, (None,)),
    "unicode": (1.0, _UNICODE, ()),
    "date": (2.0, _DATES, _DATES_XLSX),
}
_TYPED_KINDS = ("money", "amount0", "int", "rate", "date")


@dataclass(frozen=True)
class Export:
    """The export of a small generated ledger, as rows per table."""

    csv: Sheets
    xlsx: Sheets


def _read_csv_sheets(folder: Path) -> Sheets:
    sheets = {}
    for table in TABLE_ORDER:
        with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as f:
            sheets[table] = [list(r) for r in csv.reader(f)]
    return _shorten(sheets)


def _shorten(sheets: Sheets) -> Sheets:
    """Leaf tables cut to MAX_ROWS rows: every row left still has what it refers to."""
    return {t: rows[: MAX_ROWS + 1] if t in LEAF_TABLES else rows for t, rows in sheets.items()}


def _read_xlsx_sheets(path: Path) -> Sheets:
    workbook = load_workbook(path, data_only=True)
    return _shorten(
        {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    )


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    """One cooperative with nine loans (three rejected), their schedules and repayments."""
    base = tmp_path_factory.mktemp("mutation")
    config = GeneratorConfig(
        cooperatives=1, members_per_coop=20, months=12, start="2024-02", seed=1
    )
    generate_ledger(base / "ledger", config, pii_key=PII_KEY, today=TODAY)
    export_ledger(base / "ledger", base / "csv")
    export_ledger(base / "ledger", base / "export.xlsx")
    return Export(_read_csv_sheets(base / "csv"), _read_xlsx_sheets(base / "export.xlsx"))


# ---------------------------------------------------------------- mutations

Mutation = Callable[[np.random.Generator, Sheets, str], str]


def _pick_table(rng: np.random.Generator, sheets: Sheets) -> str | None:
    """A table with at least one data row; loans and their schedules more often."""
    names = [t for t in sheets if len(sheets[t]) > 1]
    if not names:
        return None
    weights = np.array(
        [3.0 if t in ("loans", "installments", "repayments") else 1.0 for t in names]
    )
    return str(rng.choice(names, p=weights / weights.sum()))


def _odd_value(rng: np.random.Generator, form: str) -> object:
    names = list(_FAMILIES)
    weights = np.array([_FAMILIES[n][0] for n in names])
    _, text, cells = _FAMILIES[names[int(rng.choice(len(names), p=weights / weights.sum()))]]
    values = text + cells if form == "xlsx" else text
    return values[int(rng.integers(len(values)))]


def _pick_column(rng: np.random.Generator, table: str, header: list[object]) -> int:
    """A cell's column: a number or date column two times in three, else any."""
    typed = [
        i
        for i, name in enumerate(header)
        if name in TABLES[table].column_names
        and TABLES[table].column(str(name)).kind in _TYPED_KINDS
    ]
    if typed and rng.random() < 2 / 3:
        return typed[int(rng.integers(len(typed)))]
    return int(rng.integers(len(header)))


def odd_cell(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = _pick_table(rng, sheets)
    if table is None or not sheets[table][0]:
        return "odd cell: no rows"
    rows = sheets[table]
    r = int(rng.integers(1, len(rows)))
    c = _pick_column(rng, table, rows[0])
    if c >= len(rows[r]):
        return f"odd cell: {table} row {r} is short"
    rows[r][c] = _odd_value(rng, form)
    return f"odd cell {table}[{r}][{rows[0][c]}] = {rows[r][c]!r:.40}"


def drop_column(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = _pick_table(rng, sheets)
    if table is None or not sheets[table][0]:
        return "drop column: none"
    c = int(rng.integers(len(sheets[table][0])))
    name = sheets[table][0][c]
    sheets[table] = [r[:c] + r[c + 1 :] for r in sheets[table]]
    return f"drop column {table}.{name}"


def rename_header(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = _pick_table(rng, sheets)
    if table is None or not sheets[table][0]:
        return "rename header: none"
    c = int(rng.integers(len(sheets[table][0])))
    # another column's name or alias (two columns now claim it), or noise
    names = [*TABLES[table].column_names, "jumlah", "tanggal", "bunga", "No.", "Jumlah (Rp)"]
    names += [str(v) for v in _UNICODE + _BLANK]
    sheets[table][0][c] = names[int(rng.integers(len(names)))]
    return f"rename header {table}[{c}] = {sheets[table][0][c]!r:.40}"


def duplicate_rows(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = _pick_table(rng, sheets)
    if table is None:
        return "duplicate: no rows"
    rows = sheets[table]
    src = int(rng.integers(1, len(rows)))
    for _ in range(int(rng.integers(1, 3))):
        rows.insert(int(rng.integers(1, len(rows) + 1)), list(rows[src]))
    return f"duplicate {table} row {src}"


def truncate_row(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = _pick_table(rng, sheets)
    if table is None:
        return "truncate row: no rows"
    rows = sheets[table]
    r = int(rng.integers(1, len(rows)))
    rows[r] = rows[r][: int(rng.integers(len(rows[r]) + 1))]
    return f"truncate {table} row {r} to {len(rows[r])} cells"


def truncate_table(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = str(rng.choice(list(sheets)))
    keep = int(rng.integers(len(sheets[table]) + 1))
    sheets[table] = sheets[table][:keep]
    return f"truncate {table} to {keep} rows"


def drop_table(rng: np.random.Generator, sheets: Sheets, form: str) -> str:
    table = str(rng.choice(list(sheets)))
    del sheets[table]
    return f"drop table {table}"


# weights: odd cells are the most common trouble, whole tables lost the rarest
MUTATIONS: tuple[tuple[Mutation, float], ...] = (
    (odd_cell, 8.0),
    (drop_column, 1.0),
    (rename_header, 0.5),
    (duplicate_rows, 1.0),
    (truncate_row, 1.0),
    (truncate_table, 0.7),
    (drop_table, 0.3),
)


def _mutate(rng: np.random.Generator, sheets: Sheets, form: str) -> list[str]:
    weights = np.array([w for _, w in MUTATIONS])
    done = []
    for _ in range(int(rng.integers(1, 5))):
        mutation = MUTATIONS[int(rng.choice(len(MUTATIONS), p=weights / weights.sum()))][0]
        if sheets:
            done.append(mutation(rng, sheets, form))
    return done


# ---------------------------------------------------------------- writing and checking


def _write_csv(folder: Path, sheets: Sheets) -> None:
    folder.mkdir(parents=True)
    for table, rows in sheets.items():
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)


def _cut_file(rng: np.random.Generator, folder: Path) -> str:
    """One CSV cut off at a random byte, as an interrupted copy leaves it."""
    path = rng.choice(sorted(folder.iterdir()))
    data = path.read_bytes()
    cut = int(rng.integers(len(data) + 1))
    path.write_bytes(data[:cut])
    return f"cut {path.name} at byte {cut} of {len(data)}"


def _write_xlsx(path: Path, sheets: Sheets) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table, rows in sheets.items():
        ws = workbook.create_sheet(table)
        for row in rows:
            ws.append(row)
    workbook.save(path)


def _check_reconciles(report: ImportReport, out: Path) -> None:
    """read = accepted + quarantined per table, and the files on disk say the same."""
    rules = {r.value for r in Rule}
    ledger = Ledger(out)
    for table, t in report.tables.items():
        assert t.read == t.accepted + t.quarantined, table
        assert len(ledger.read(table)) == t.accepted, table
        q = ledger.quarantine(table)
        assert (0 if q is None else len(q)) == t.quarantined, table
        if q is None:
            continue
        assert q["_rule"].isin(rules).all(), q["_rule"].unique()
        assert q["_column"].notna().all() and q["_column"].str.len().gt(0).all()
        for lang in ("_reason_id", "_reason_en"):
            texts = q[lang].astype(str)
            assert texts.str.len().gt(0).all(), lang
            assert not texts.str.contains(r"\{(?:column|value|detail)\}").any(), lang
        assert sorted(q["_rule"].value_counts().items()) == sorted(t.rules.items()), table


def _run_case(
    case: int, form: str, export: Export, tmp: Path
) -> tuple[str, list[str], ImportReport | None]:
    rng = np.random.default_rng([SEED, case, 0 if form == "csv" else 1])
    base = export.csv if form == "csv" else export.xlsx
    sheets = {t: [list(r) for r in rows] for t, rows in base.items()}
    done = _mutate(rng, sheets, form)
    src = tmp / f"{form}-{case}"
    if form == "csv":
        _write_csv(src, sheets)
        if sheets and rng.random() < 0.15:
            done.append(_cut_file(rng, src))
    else:
        src = src.with_suffix(".xlsx")
        _write_xlsx(src, sheets)
    out = tmp / f"out-{form}-{case}"
    try:
        report = import_ledger(src, out, key=PII_KEY, today=TODAY)
    except (SourceError, LedgerImportError) as exc:
        assert str(exc), done
        assert not out.exists() or not any(out.iterdir()), done
        return "clear error", done, None
    except Exception as exc:  # the point of the test: name the case that broke the importer
        raise AssertionError(f"{form} case {case} {done}: {type(exc).__name__}: {exc}") from exc
    try:
        _check_reconciles(report, out)
    except AssertionError as exc:
        raise AssertionError(f"{form} case {case} {done}: {exc}") from exc
    shutil.rmtree(out)
    return "imported", done, report


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_mutated_exports_import_with_reconciled_counts_or_a_clear_error(
    form: str, export: Export, tmp_path: Path
) -> None:
    runs = [_run_case(case, form, export, tmp_path) for case in range(CASES_PER_FORM)]
    reports = [report for _, _, report in runs if report is not None]
    # the mutations bite but mostly leave an importable export: most imports go through,
    # with rows quarantined for the rules the odd cells were made to break
    assert len(reports) >= CASES_PER_FORM // 2, [outcome for outcome, _, _ in runs]
    seen = Counter(r for report in reports for t in report.tables.values() for r in t.rules)
    assert {"out_of_range", "unparseable", "missing_field", "duplicate_id"} <= set(seen), seen


def test_the_unmutated_export_imports_with_nothing_quarantined(
    export: Export, tmp_path: Path
) -> None:
    for form, sheets in (("csv", export.csv), ("xlsx", export.xlsx)):
        src = tmp_path / form
        if form == "csv":
            _write_csv(src, sheets)
        else:
            src = src.with_suffix(".xlsx")
            _write_xlsx(src, sheets)
        report = import_ledger(src, tmp_path / f"out-{form}", key=PII_KEY, today=TODAY)
        _check_reconciles(report, tmp_path / f"out-{form}")
        assert all(t.quarantined == 0 for t in report.tables.values()), form
        assert pd.Series({t: r.accepted for t, r in report.tables.items()}).gt(0).all()
