"""Reading cooperative exports as they come: CSV files (any delimiter, BOM, title rows) and
XLSX workbooks (a sheet per table, merged cells), into header-located raw tables."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from features.ledger.contracts import TABLES
from features.ledger.headers import (
    HASHED_INPUTS,
    TABLE_ALIASES,
    column_lookup,
    normalise,
    table_for_name,
)
from features.ledger.parsing import is_blank

HEADER_SEARCH_ROWS = 15

# Columns an export may leave out because the importer can derive them.
DERIVABLE: dict[str, set[str]] = {
    "members": {"cooperative_id", "nik_hash"},
    "savings": {"cooperative_id"},
    "loans": {"cooperative_id", "status", "effective_annual_rate"},
    "installments": {"cooperative_id", "member_id", "amount_due"},
    "repayments": {"cooperative_id", "member_id"},
    "store_purchases": {"cooperative_id"},
    "produce_sales": {"cooperative_id"},
}


class SourceError(ValueError):
    """The source cannot be read as a ledger at all; the message says what was expected."""


@dataclass
class RawTable:
    """One table's rows as found: header located, cells untouched."""

    table: str
    source: str
    header_row: int  # 1-based, as a spreadsheet shows it
    mapping: dict[int, str]  # cell position -> contract column (or clear input like `nik`)
    ignored: list[str]
    rows: list[list[object]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    # cell position -> the header as typed (outer spaces trimmed), for the same positions as
    # `mapping`: the quarantine workbook shows the treasurer her own words, not ours
    headers: dict[int, str] = field(default_factory=dict)


def required_columns(table: str) -> set[str]:
    spec = TABLES[table]
    return {c.name for c in spec.columns if c.required} - DERIVABLE.get(table, set())


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode" text is UTF-16
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_csv_rows(path: Path) -> list[list[object]]:
    """Rows of a CSV, choosing among , ; and tab the delimiter that gives consistent rows."""
    text = _decode(_read_bytes(path)).lstrip("\ufeff")
    sample = text.splitlines()[:30]
    best, best_score = ",", (-1, -1)
    try:
        for delimiter in (",", ";", "\t"):
            rows = csv.reader(sample, delimiter=delimiter)
            lengths = Counter(len(r) for r in rows if len(r) > 1)
            if lengths:
                width, count = lengths.most_common(1)[0]
                if (count, width) > best_score:
                    best, best_score = delimiter, (count, width)
        return [list(r) for r in csv.reader(io.StringIO(text), delimiter=best)]
    except csv.Error as exc:  # a cell over 128 KiB: in an export, an unclosed quote
        raise SourceError(
            f'{path.name} cannot be read as CSV ({exc}); is a quote (") left open? '
            f"{path.name} tidak dapat dibaca sebagai CSV; ada tanda kutip yang tidak ditutup?"
        ) from exc


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(
            f"{path.name} cannot be read ({exc.strerror}). {path.name} tidak dapat dibaca."
        ) from exc


def read_xlsx_sheets(path: Path) -> list[tuple[str, list[list[object]]]]:
    """Every sheet's rows, with each merged range's value copied into all of its cells."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise SourceError(f"{path.name} is not a readable XLSX workbook: {exc}") from exc
    sheets = []
    for ws in workbook.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        for merged in ws.merged_cells.ranges:
            value = rows[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
                for c in range(merged.min_col - 1, merged.max_col):
                    if c < len(rows[r]):
                        rows[r][c] = value
        sheets.append((ws.title, rows))
    return sheets


def _match(row: list[object], table: str) -> dict[int, str]:
    lookup = column_lookup(table)
    mapping: dict[int, str] = {}
    for i, cell in enumerate(row):
        if is_blank(cell):
            continue
        column = lookup.get(normalise(cell))
        if column is not None and column not in mapping.values():
            mapping[i] = column
    return mapping


def _satisfied(table: str, mapping: dict[int, str]) -> bool:
    present = set(mapping.values())
    for clear, hashed in HASHED_INPUTS.get(table, {}).items():
        if clear in present:
            present.add(hashed)
    return required_columns(table) <= present


def locate(rows: list[list[object]], source: str, hint: str | None) -> RawTable | None:
    """Find the header row (title rows above it are skipped) and the table it belongs to.

    With a name hint the header needs two known columns; without one, a table is chosen
    only if every column it requires is present.
    """
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        candidates = [hint] if hint else list(TABLES)
        best: tuple[int, str, dict[int, str]] | None = None
        for table in candidates:
            mapping = _match(row, table)
            ok = len(mapping) >= 2 if hint else _satisfied(table, mapping)
            if ok and (best is None or len(mapping) > best[0]):
                best = (len(mapping), table, mapping)
        if best is not None:
            _, table, mapping = best
            ignored = [str(c) for j, c in enumerate(row) if j not in mapping and not is_blank(c)]
            raw = RawTable(table, source, i + 1, mapping, ignored)
            raw.rows = rows[i + 1 :]
            raw.row_numbers = list(range(i + 2, i + 2 + len(raw.rows)))
            raw.headers = {j: str(row[j]).replace("\ufeff", "").strip() for j in mapping}
            return raw
    return None


def read_source(path: Path) -> tuple[list[RawTable], list[str]]:
    """Raw tables found under `path` (a folder of CSV/XLSX files, one XLSX, or one CSV),
    and a note for each file or sheet that was not recognised as a ledger table."""
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    files = sorted(
        p
        for p in (path.iterdir() if path.is_dir() else [path])
        if p.suffix.lower() in (".csv", ".xlsx")
        and not p.name.startswith(("~$", "."))
        and p.is_file()
    )
    found: list[RawTable] = []
    skipped: list[str] = []
    for file in files:
        if file.suffix.lower() == ".csv":
            parts = [(file.name, file.stem, read_csv_rows(file))]
        else:
            parts = [
                (f"{file.name}:{title}", title, rows) for title, rows in read_xlsx_sheets(file)
            ]
        for source, name, rows in parts:
            raw = locate(rows, source, table_for_name(name))
            if raw is None:
                skipped.append(source)
            else:
                found.append(raw)
    if not found:
        expected = ", ".join(f"{t} ({TABLE_ALIASES[t][0]})" for t in TABLES)
        raise SourceError(
            f"No ledger table found in {path}. Expected CSV files or XLSX sheets named for, "
            f"or with the columns of: {expected}. "
            f"Tidak ada tabel buku besar koperasi yang dikenali di {path}."
        )
    return found, skipped
