"""The quarantine as a workbook the treasurer can open: her headers, her cells, our reasons.

The importer keeps rejected rows under contract names (`principal`); this book puts back the
header she typed (`Plafon`) for every column of each source file, the cell text exactly as
read, the file and row number, and the reason in Indonesian (English beside it). Columns the
importer derived itself are left out; NIK and phone are never kept in clear, so their cells
read "(disembunyikan)".
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features.ledger.contracts import TABLE_ORDER
from features.ledger.headers import HASHED_INPUTS, TABLE_ALIASES
from features.ledger.importer import GIVEN_PREFIX, HEADERS_SUFFIX, SOURCE_FILE, SOURCE_ROW
from features.ledger.store import QUARANTINE_DIR, Ledger

SUMMARY_SHEET = "Ringkasan"
HIDDEN = "(disembunyikan)"
DERIVED_MARK = "(diisi otomatis)"
MISSING_MARK = "(tidak ada di file)"
FIXED_BEFORE = ("File", "Baris")
FIXED_AFTER = ("Kolom bermasalah", "Alasan", "Reason (English)")
NOTE_HIDDEN = (
    "NIK dan nomor HP tidak pernah disimpan dalam bentuk asli: selnya tertulis "
    f"{HIDDEN} (NIK and phone numbers are never kept in clear: their cells read {HIDDEN})."
)
NOTE_DERIVED = (
    "Kolom yang diisi otomatis oleh importir tidak ditampilkan; di 'Kolom bermasalah' ditandai "
    f"{DERIVED_MARK} (columns the importer derived are left out)."
)
MIN_WIDTH, MAX_WIDTH, MAX_REASON_WIDTH = 8, 40, 80


@dataclass(frozen=True)
class _Sheet:
    """One table's quarantine, ready to write: header row, data rows, rule counts."""

    table: str
    name: str
    header: list[str]
    rows: list[list[Any]]
    rules: Counter[str]


def sheet_name(table: str) -> str:
    """The Indonesian name the importer knows the table by ('loans' -> 'pinjaman')."""
    return TABLE_ALIASES[table][0]


def _typed_headers(root: Path, table: str, frame: pd.DataFrame) -> dict[str, dict[str, str]]:
    """source -> {column: header as typed}; a quarantine written before the importer kept
    headers falls back to the contract names of its columns."""
    path = root / QUARANTINE_DIR / f"{table}{HEADERS_SUFFIX}"
    if path.is_file():
        stored: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        return stored
    columns = [c for c in frame.columns if not c.startswith("_")]
    return {str(s): {c: c for c in columns} for s in frame[SOURCE_FILE].unique()}


def _cell(row: pd.Series, table: str, column: str) -> str:
    """The cell as read, or HIDDEN for a clear input that held something."""
    if column in HASHED_INPUTS.get(table, {}):
        given = row.get(GIVEN_PREFIX + column)
        return HIDDEN if given is None or bool(given) else ""
    value = row.get(column)
    return "" if value is None or pd.isna(value) else str(value)


def _in_her_words(text: str, column: str, typed: str | None) -> str:
    """A reason naming the contract column ('principal') rewritten to name her header."""
    return text if typed is None else text.replace(f"'{column}'", f"'{typed}'")


def _table_sheet(root: Path, table: str, frame: pd.DataFrame) -> _Sheet:
    headers = _typed_headers(root, table, frame)
    # her headers in source order; a second file's new headers follow the first file's
    typed_columns: list[str] = []
    for mapping in headers.values():
        typed_columns.extend(h for h in mapping.values() if h not in typed_columns)
    position = {h: i for i, h in enumerate(typed_columns)}
    order = {source: i for i, source in enumerate(headers)}
    frame = frame.assign(
        _order=frame[SOURCE_FILE].map(lambda s: order.get(str(s), len(order)))
    ).sort_values(["_order", SOURCE_ROW], kind="stable")
    rows: list[list[Any]] = []
    for _, row in frame.iterrows():
        source = str(row[SOURCE_FILE])
        mapping = headers.get(source, {})
        cells = [""] * len(typed_columns)
        for column, her_header in mapping.items():
            cells[position[her_header]] = _cell(row, table, column)
        failing = str(row["_column"])
        typed = mapping.get(failing)
        if typed is not None:
            where = typed
        else:
            where = f"{failing} {DERIVED_MARK if failing in frame.columns else MISSING_MARK}"
        rows.append(
            [
                source,
                int(row[SOURCE_ROW]),
                *cells,
                where,
                _in_her_words(str(row["_reason_id"]), failing, typed),
                _in_her_words(str(row["_reason_en"]), failing, typed),
            ]
        )
    header = [*FIXED_BEFORE, *typed_columns, *FIXED_AFTER]
    return _Sheet(table, sheet_name(table), header, rows, Counter(frame["_rule"].astype(str)))


def _sheets(ledger_root: Path) -> list[_Sheet]:
    """Every table with quarantined rows, in the importer's table order."""
    ledger = Ledger(ledger_root)  # refuses a folder that is not a ledger
    sheets = []
    for table in TABLE_ORDER:
        frame = ledger.quarantine(table)
        if frame is not None and len(frame):
            sheets.append(_table_sheet(ledger.root, table, frame))
    return sheets


def _as_text(value: Any) -> Any:
    """Text stays text: no formula from a leading '=', no control characters Excel refuses."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def _fill(ws: Any, header: list[str], rows: list[list[Any]], wide: set[int]) -> None:
    """Write a bold, frozen header row and the rows as text; widths follow the content."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.append([_as_text(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_as_text(v) for v in row])
    for line in ws.iter_rows(min_row=1):
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a typed "=1+1" is shown as she typed it
    ws.freeze_panes = "A2"
    for i, name in enumerate(header):
        longest = max([len(str(name)), *(len(str(r[i])) for r in rows if i < len(r))])
        cap = MAX_REASON_WIDTH if i in wide else MAX_WIDTH
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(longest + 2, MIN_WIDTH), cap)


def _summary_rows(sheets: list[_Sheet]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for sheet in sheets:
        rows.append([sheet.name, "(semua aturan)", len(sheet.rows)])
        rows.extend([sheet.name, rule, n] for rule, n in sorted(sheet.rules.items()))
    return rows


def _workbook(ledger_root: Path) -> tuple[Any, dict[str, int]]:
    from openpyxl import Workbook

    sheets = _sheets(ledger_root)
    workbook = Workbook()
    summary = workbook.active
    summary.title = SUMMARY_SHEET
    _fill(summary, ["Tabel", "Aturan", "Baris dikarantina"], _summary_rows(sheets), set())
    summary.append([])
    if not sheets:
        summary.append(["Tidak ada baris yang dikarantina (nothing was quarantined)."])
    summary.append([NOTE_HIDDEN])
    summary.append([NOTE_DERIVED])
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name)
        n = len(sheet.header)
        _fill(ws, sheet.header, sheet.rows, {n - 2, n - 1})
    return workbook, {sheet.table: len(sheet.rows) for sheet in sheets}


def write_quarantine_xlsx(ledger_root: Path, out: Path) -> dict[str, int]:
    """Write the quarantine workbook to `out`; returns rows written per table (contract
    name, as the import report counts them), empty when nothing was quarantined (the book
    then says so on its summary sheet)."""
    workbook, counts = _workbook(ledger_root)
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return counts


def quarantine_xlsx_bytes(ledger_root: Path) -> bytes:
    """The same workbook in memory, for a web download."""
    workbook, _ = _workbook(ledger_root)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
