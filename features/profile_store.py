"""One member's current profile: the online lookup of a built features folder (no build code).

`amanah features build` writes the profiles as of one day into ``OUT/profiles/<coop>.parquet``
(row groups of `PROFILE_ROW_GROUP` rows), the index ``OUT/profiles.sqlite`` (member_id ->
cooperative and row) and the manifest ``OUT/features.json``, which records that day as
``profiles_as_of``. `ProfileStore` reads them: one primary-key lookup and one row-group
read per member, however large the ledger, and the as-of day serving reports with every
score (a profile as of T describes the member before day T).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

PROFILES = "profiles"
INDEX, MANIFEST = "profiles.sqlite", "features.json"
PROFILE_ROW_GROUP = 256


class ProfileStoreError(LookupError):
    """The folder holds no built profiles (or a broken build); the message names it."""


class ProfileStore:
    """The current profiles of a features folder (`OUT` of `amanah features build`)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        manifest = self.root / MANIFEST
        if not manifest.is_file():
            raise ProfileStoreError(
                f"{self.root} holds no member profiles: {MANIFEST} is missing "
                "(build them with `amanah features build --ledger DIR --out "
                f"{self.root}`)"
            )
        try:
            self.manifest: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
            self._as_of = date.fromisoformat(str(self.manifest["profiles_as_of"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProfileStoreError(
                f"{manifest} does not record the profiles' as-of day (profiles_as_of): "
                f"rebuild with `amanah features build` ({exc})"
            ) from None
        if not (self.root / INDEX).is_file():
            raise ProfileStoreError(
                f"{self.root} holds no member profiles: {INDEX} is missing "
                "(the build did not finish; run `amanah features build` again)"
            )

    @property
    def as_of(self) -> date:
        """The profiles' as-of day: they use only events dated before it."""
        return self._as_of

    @property
    def ledger_as_of(self) -> date | None:
        """The as-of day of the ledger the profiles were built from (None if unrecorded)."""
        recorded = self.manifest.get("ledger_as_of")
        return date.fromisoformat(recorded) if recorded else None

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(f"file:{self.root / INDEX}?mode=ro", uri=True)
        except sqlite3.OperationalError as exc:
            raise ProfileStoreError(f"cannot open {self.root / INDEX}: {exc}") from None

    def fetch(self, member_id: str) -> dict[str, Any] | None:
        """One member's profile (None if unknown): a primary-key lookup, then one row group.

        Values are plain Python: text, floats, None where missing; `as_of` as YYYY-MM-DD.
        """
        db = self._connect()
        try:
            found = db.execute(
                "SELECT cooperative_id, row FROM profiles WHERE member_id = ?", (member_id,)
            ).fetchone()
        finally:
            db.close()
        if found is None:
            return None
        coop, row = found
        path = self.root / PROFILES / f"{coop}.parquet"
        try:
            group = pq.ParquetFile(path).read_row_group(row // PROFILE_ROW_GROUP)
        except (OSError, ValueError) as exc:
            raise ProfileStoreError(f"cannot read {path}: {exc}") from None
        record = group.slice(row % PROFILE_ROW_GROUP, 1).to_pylist()[0]
        record["as_of"] = str(pd.Timestamp(record["as_of"]).date())
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}

    def members(self, cooperative_id: str | None = None) -> list[str]:
        """The member ids with a profile (of one cooperative), sorted."""
        db = self._connect()
        try:
            if cooperative_id is None:
                rows = db.execute("SELECT member_id FROM profiles ORDER BY member_id")
            else:
                rows = db.execute(
                    "SELECT member_id FROM profiles WHERE cooperative_id = ? ORDER BY member_id",
                    (cooperative_id,),
                )
            return [r[0] for r in rows.fetchall()]
        finally:
            db.close()

    def profiles(self, members: Sequence[str]) -> pd.DataFrame:
        """The profiles of many members at once (a batch): only the partitions that hold
        them are read. Members without a profile are left out (the caller names them)."""
        wanted = sorted({str(m) for m in members})
        db = self._connect()
        try:
            db.execute("CREATE TEMP TABLE wanted (member_id TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO wanted VALUES (?)", [(m,) for m in wanted])
            coops = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT cooperative_id FROM profiles JOIN wanted USING (member_id)"
                    " ORDER BY cooperative_id"
                )
            ]
        finally:
            db.close()
        parts = []
        for coop in coops:
            path = self.root / PROFILES / f"{coop}.parquet"
            try:
                part = pd.read_parquet(path)
            except (OSError, ValueError) as exc:
                raise ProfileStoreError(f"cannot read {path}: {exc}") from None
            parts.append(part[part["member_id"].astype("str").isin(wanted)])
        if not parts:  # nobody asked for has a profile: an empty frame that names the column
            return pd.DataFrame({"member_id": pd.Series([], dtype="str")})
        return pd.concat(parts, ignore_index=True)
