"""The ledger on disk: one Parquet file per table per cooperative, read lazily.

Layout::

    LEDGER_DIR/ledger.json                      format version and row counts
    LEDGER_DIR/<table>/<cooperative_id>.parquet one partition
    LEDGER_DIR/quarantine/<table>.parquet       rows the importer rejected, with reasons

A partition is a cooperative: pipelines work one cooperative at a time so memory is bounded
by the largest cooperative, not the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.ledger.contracts import (
    DATE_DTYPE,
    INTEGER_KINDS,
    PARTITION_KEY,
    TABLE_ORDER,
    TABLES,
    arrow_schema,
    conform,
    empty_frame,
    validate,
)

FORMAT_VERSION = 1
MANIFEST = "ledger.json"
QUARANTINE_DIR = "quarantine"


_TEXT = ("id", "text", "hash", "enum", "period")
# optional integer and yes/no columns read as pandas' nullable dtypes, so an empty cell stays
# empty (Arrow would give floats with NaN, or objects)
_NULLABLE_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


class LedgerNotFoundError(FileNotFoundError):
    """The folder is not an Amanah ledger (no manifest)."""


def _partition_path(root: Path, table: str, cooperative_id: str) -> Path:
    return root / table / f"{cooperative_id}.parquet"


def write_partition(root: Path, table: str, cooperative_id: str, frame: pd.DataFrame) -> int:
    """Validate one cooperative's rows of one table against the contract and write them."""
    frame = validate(table, conform(table, frame))
    if (frame[PARTITION_KEY] != cooperative_id).any():
        raise ValueError(f"{table}: rows of another cooperative in partition {cooperative_id!r}")
    path = _partition_path(root, table, cooperative_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(frame, schema=arrow_schema(table), preserve_index=False)
    pq.write_table(arrow, path, compression="zstd")
    return len(frame)


def write_cooperative(
    root: Path, cooperative_id: str, tables: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Write every table of one cooperative (missing tables are written empty)."""
    counts = {}
    for name in TABLE_ORDER:
        frame = tables.get(name, empty_frame(name))
        counts[name] = write_partition(root, name, cooperative_id, frame)
    return counts


def write_manifest(root: Path, counts: dict[str, dict[str, int]], source: str, as_of: date) -> None:
    """Record the format version, the source, the day the ledger is complete up to (events
    are dated before `as_of`) and rows per table and cooperative."""
    manifest = {
        "format_version": FORMAT_VERSION,
        "source": source,
        "as_of": as_of.isoformat(),
        "tables": {t: counts.get(t, {}) for t in TABLE_ORDER},
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")


def write_ledger(
    root: Path, tables: dict[str, pd.DataFrame], source: str, as_of: date
) -> dict[str, dict[str, int]]:
    """Write a whole in-memory ledger, split by cooperative, plus its manifest."""
    coops = sorted(set(tables["cooperatives"][PARTITION_KEY]))
    for t, f in tables.items():
        orphans = set(f[PARTITION_KEY]) - set(coops)
        if orphans:
            raise ValueError(
                f"{t}: rows for cooperatives not in `cooperatives`: {sorted(orphans)[:5]}"
            )
    root.mkdir(parents=True, exist_ok=True)
    by_coop = {t: dict(tuple(f.groupby(PARTITION_KEY, sort=False))) for t, f in tables.items()}
    counts: dict[str, dict[str, int]] = {t: {} for t in TABLE_ORDER}
    for coop in coops:
        parts = {t: groups[coop] for t, groups in by_coop.items() if coop in groups}
        for t, n in write_cooperative(root, coop, parts).items():
            counts[t][coop] = n
    write_manifest(root, counts, source, as_of)
    return counts


def _read_file(
    path: Path, table: str, columns: list[str] | None, categorical: bool = False
) -> pd.DataFrame:
    """One partition file as pandas. `categorical` keeps text columns dictionary-encoded
    (pandas categories): half the read time, and ids become small integer codes. A file
    written before an optional column existed reads with that column empty."""
    if categorical:
        wanted = columns or TABLES[table].column_names
        text = [c.name for c in TABLES[table].columns if c.name in wanted and c.kind in _TEXT]
        arrow = pq.read_table(path, columns=wanted, read_dictionary=text)
    else:
        arrow = pq.read_table(path, columns=columns, schema=arrow_schema(table))
    frame: pd.DataFrame = arrow.to_pandas(date_as_object=False)
    for c in TABLES[table].columns:
        if c.name not in frame.columns:
            continue
        if c.kind == "date":
            frame[c.name] = frame[c.name].astype(DATE_DTYPE)
        elif c.kind == "bool" or (c.kind in INTEGER_KINDS and not c.required):
            values = arrow.column(c.name).to_pandas(types_mapper=_NULLABLE_TYPES.get)
            frame[c.name] = values.set_axis(frame.index)
    return frame


@dataclass
class LedgerPartition:
    """One cooperative's ledger; each table is read on first use and then kept."""

    root: Path
    cooperative_id: str
    _cache: dict[tuple[str, tuple[str, ...] | None, bool], pd.DataFrame] = field(
        default_factory=dict, repr=False
    )

    def table(
        self, name: str, columns: list[str] | None = None, categorical: bool = False
    ) -> pd.DataFrame:
        """The table, or only `columns` of it (string ids are the costly part to read);
        `categorical` returns text columns as pandas categories."""
        key = (name, tuple(columns) if columns else None, categorical)
        if key not in self._cache:
            path = _partition_path(self.root, name, self.cooperative_id)
            self._cache[key] = _read_file(path, name, columns, categorical)
        return self._cache[key]


class Ledger:
    """Read access to a ledger folder: one cooperative, several, or all, lazily."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        manifest = self.root / MANIFEST
        if not manifest.is_file():
            raise LedgerNotFoundError(
                f"{self.root} is not an Amanah ledger: {MANIFEST} is missing "
                "(create one with `amanah generate` or `amanah import`)"
            )
        self.manifest = json.loads(manifest.read_text(encoding="utf-8"))

    @property
    def as_of(self) -> pd.Timestamp:
        """Every event in the ledger is dated before this day; outcomes are known up to it."""
        return pd.Timestamp(self.manifest["as_of"])

    def cooperative_ids(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "cooperatives").glob("*.parquet"))

    def read(
        self,
        table: str,
        cooperatives: str | Iterable[str] | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Concatenate a table over the chosen cooperatives (all by default)."""
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; expected one of {', '.join(TABLE_ORDER)}")
        if cooperatives is None:
            ids = self.cooperative_ids()
        elif isinstance(cooperatives, str):
            ids = [cooperatives]
        else:
            ids = list(cooperatives)
        frames = [_read_file(_partition_path(self.root, table, c), table, columns) for c in ids]
        if not frames:
            empty = empty_frame(table)
            return empty if columns is None else empty[columns]
        return pd.concat(frames, ignore_index=True)

    def partition(self, cooperative_id: str) -> LedgerPartition:
        if not _partition_path(self.root, "cooperatives", cooperative_id).is_file():
            raise KeyError(f"no cooperative {cooperative_id!r} in {self.root}")
        return LedgerPartition(self.root, cooperative_id)

    def partitions(self) -> Iterator[LedgerPartition]:
        for c in self.cooperative_ids():
            yield LedgerPartition(self.root, c)

    def quarantine(self, table: str) -> pd.DataFrame | None:
        """Rows the importer rejected for this table, or None when there were none."""
        path = self.root / QUARANTINE_DIR / f"{table}.parquet"
        return pd.DataFrame(pd.read_parquet(path)) if path.is_file() else None
