"""`amanah export`: the ledger back to CSV files or one XLSX workbook, in contract form.

Rates are written as exact percentages ("1.25%") so that no reader can mistake a fraction
for a percent; dates as ISO dates; amounts as plain integers; yes/no answers as `True` /
`False` (XLSX: boolean cells); an empty optional cell stays empty. Importing the export
gives the identical ledger.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from features.ledger.contracts import TABLE_ORDER, TABLES
from features.ledger.store import Ledger

XLSX_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows including the header


class ExportError(ValueError):
    """The ledger cannot be written in the requested form; the message says why."""


def _percent(value: float) -> str | None:
    if pd.isna(value):
        return None
    return f"{(Decimal(repr(float(value))) * 100).normalize():f}%"


def _export_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in TABLES[table].columns:
        if col.kind == "rate":
            out[col.name] = out[col.name].map(_percent).astype("object")
    return out


def export_ledger(ledger_dir: Path, out: Path) -> dict[str, int]:
    """Write every table; `out` ending in .xlsx gives one workbook, else a folder of CSVs."""
    ledger = Ledger(ledger_dir)
    frames = {t: _export_frame(t, ledger.read(t)) for t in TABLE_ORDER}
    if out.suffix.lower() == ".xlsx":
        too_big = [t for t, f in frames.items() if len(f) > XLSX_MAX_ROWS]
        if too_big:
            raise ExportError(
                f"{', '.join(too_big)} have more rows than an XLSX sheet holds "
                f"({XLSX_MAX_ROWS:,}); export to a folder of CSV files instead"
            )
        _write_xlsx(out, frames)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for table, frame in frames.items():
            frame.to_csv(out / f"{table}.csv", index=False, date_format="%Y-%m-%d")
    return {t: len(f) for t, f in frames.items()}


def _write_xlsx(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for table, frame in frames.items():
        sheet = workbook.create_sheet(table)
        sheet.append(list(frame.columns))
        date_cols = [c.name for c in TABLES[table].columns if c.kind == "date"]
        values = frame.astype("object").where(frame.notna(), None)
        for c in date_cols:
            values[c] = [None if pd.isna(v) else v.date() for v in frame[c]]
        for row in values.itertuples(index=False, name=None):
            sheet.append([v.item() if hasattr(v, "item") else v for v in row])
    workbook.save(path)
