"""`amanah features build`: the training table and current profiles, one cooperative at a time.

Each cooperative partition is built by `build_partition`, a plain function of paths, so the
local engine and the Dask engine (`client.submit` on a cluster) run exactly the same
code and write the same files. The local engine runs partitions in worker processes (a
forkserver pool, so workers never inherit a parent's threads) because the pandas part of the
work holds the GIL: two threads ran 1.35x one thread, two processes 1.8x. A partition that
fails is reported with its reason and the others finish; a rerun builds only the partitions
whose outputs are missing. A rerun with another as-of day (or from another ledger) rebuilds
every partition: the manifest always tells the truth about the files. Profiles can only be
built as of a day inside the ledger's history (`as_of_range`).

Output layout::

    OUT/training/<cooperative_id>.parquet   one row per loan application, features + labels
                                            (+ what the member declared: not features)
    OUT/profiles/<cooperative_id>.parquet   one row per member as of --as-of (default: the
                                            ledger's as-of day)
    OUT/profiles.sqlite                     member_id -> (cooperative, row), constant-time lookup,
                                            and nik_hash -> member_id (`members_by_nik`)
    OUT/features.json                       ledger path, as-of dates, catalog, partitions, failures
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sqlite3
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow.parquet as pq

from features.application import DECLARED_COLUMNS, declared_inputs
from features.catalog import categorical_names, feature_names
from features.dask_cluster import dask_client
from features.labels import DEFAULT_DPD, EARLY_WARNING_DPD, past_due_flags, window_closed
from features.ledger.contracts import TABLE_ORDER
from features.ledger.store import Ledger
from features.profile_builder import (
    CATEGORICAL_TABLES,
    FIT_COLUMNS,
    ProfileRequests,
    RepaymentProfileBuilder,
)
from features.profile_store import INDEX, MANIFEST, PROFILE_ROW_GROUP, PROFILES, ProfileStore

Engine = Literal["local", "dask"]
TRAINING = "training"
FAIRNESS_COLUMNS = ("gender", "cooperative_profile")
_DIED = "worker process died (out of memory or killed)"
LABELS = ("default_12m", *(f"dpd{d}_12m" for d in EARLY_WARNING_DPD))


class AsOfOutOfRangeError(ValueError):
    """Profiles asked for as of a day outside the ledger's history; names the valid range."""


@dataclass
class BuildReport:
    built: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    ledger_rows: int = 0
    seconds: float = 0.0
    as_of: pd.Timestamp | None = None
    # why every partition was rebuilt without --force (another as-of day or ledger)
    rebuilt_because: str | None = None
    index: IndexCounts | None = None  # what the lookup index holds, once written


def training_table(
    tables: dict[str, pd.DataFrame],
    ledger_as_of: pd.Timestamp,
    builder: RepaymentProfileBuilder | None = None,
) -> pd.DataFrame:
    """Features as of each application date, and labels from the 12 months after disbursement.

    Rejected applications and loans whose window is still open are kept, unlabelled (NA):
    an open loan is never counted as good. After the labels come the member's declarations
    on the form, straight from the loans table (`DECLARED_COLUMNS`: declared_monthly_income
    and declared_household_expenses in Rupiah, income_verified 1.0 / 0.0, all float64 with
    NaN where not given; a ledger without them gives NaN): for the decision policy, never
    model features (the catalog does not list them).
    """
    loans = tables["loans"]
    builder = builder or RepaymentProfileBuilder().fit(tables)
    out = builder.transform(ProfileRequests.from_applications(loans))
    out = out.rename(columns={"request_id": "loan_id", "as_of": "application_date"})
    out.insert(2, "cooperative_id", loans["cooperative_id"].to_numpy())
    disbursed = loans["disbursement_date"].notna().to_numpy()
    closed = window_closed(loans, ledger_as_of).to_numpy() & disbursed
    flags = past_due_flags(loans, builder.covered_, (DEFAULT_DPD, *EARLY_WARNING_DPD))
    for name, dpd in zip(LABELS, (DEFAULT_DPD, *EARLY_WARNING_DPD), strict=True):
        flag = flags[dpd].reindex(loans["loan_id"]).to_numpy(dtype=bool)
        out[name] = pd.array(flag, dtype="boolean")
        out.loc[~closed, name] = pd.NA
    out["labelled"] = closed
    empty = pd.Series(pd.NA, index=loans.index, dtype=object)
    declared = declared_inputs(*(loans.get(c, empty) for c in DECLARED_COLUMNS))
    for name, values in declared.items():
        out[name] = values
    # kept for fairness testing only (DOMAIN.md): never model features
    members = tables["members"].set_index("member_id")
    out[FAIRNESS_COLUMNS[0]] = out["member_id"].map(members["gender"]).to_numpy()
    profile = tables["cooperatives"]["profile"].iloc[0] if len(tables["cooperatives"]) else None
    out[FAIRNESS_COLUMNS[1]] = profile
    return out


def current_profiles(
    tables: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    builder: RepaymentProfileBuilder | None = None,
) -> pd.DataFrame:
    """Every member's profile as of `as_of`, for serving and batch scoring."""
    builder = builder or RepaymentProfileBuilder().fit(tables)
    out = builder.transform(ProfileRequests.current(tables["members"], as_of))
    out = out.drop(columns=["request_id"])
    out.insert(1, "cooperative_id", tables["members"]["cooperative_id"].to_numpy())
    return out


def _write_atomic(frame: pd.DataFrame, path: Path, row_group_size: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False, row_group_size=row_group_size)
    os.replace(tmp, path)


def build_partition(
    ledger_dir: str, cooperative_id: str, out_dir: str, as_of: str
) -> dict[str, Any]:
    """Build and write one cooperative's training rows and profiles; returns counts.

    Plain arguments only, so the same call runs in-process or on a Dask worker.
    """
    began = time.perf_counter()
    ledger = Ledger(ledger_dir)
    part = ledger.partition(cooperative_id)
    tables = {
        t: part.table(t, FIT_COLUMNS.get(t), categorical=t in CATEGORICAL_TABLES)
        for t in TABLE_ORDER
    }
    builder = RepaymentProfileBuilder().fit(tables)
    training = training_table(tables, ledger.as_of, builder)
    profiles = current_profiles(tables, pd.Timestamp(as_of), builder)
    out = Path(out_dir)
    _write_atomic(profiles, out / PROFILES / f"{cooperative_id}.parquet", PROFILE_ROW_GROUP)
    # written last: its presence marks the partition as complete
    _write_atomic(training, out / TRAINING / f"{cooperative_id}.parquet")
    return {
        "cooperative_id": cooperative_id,
        "ledger_rows": int(sum(len(t) for t in tables.values())),
        "training_rows": len(training),
        "profiles": len(profiles),
        "seconds": round(time.perf_counter() - began, 3),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _done(out: Path, cooperative_id: str) -> bool:
    return all((out / d / f"{cooperative_id}.parquet").is_file() for d in (PROFILES, TRAINING))


def as_of_range(ledger: Ledger) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day profiles can be built as of (both included).

    Last: the ledger's as-of day. Every event is dated before it, so a profile as of a later
    day would read the days in between as a time without savings, sales or payments, and an
    instalment due then as missed. First: the day after the first member joined (no event
    precedes joining; import quarantines such records): as of that day or earlier every
    profile is empty. Both are refused rather than warned about: a profile store is read
    by serving without anyone reading the build's warnings.
    """
    joined = ledger.read("members", columns=["join_date"])["join_date"]
    first = (
        pd.Timestamp(joined.min()) + pd.Timedelta(days=1) if joined.notna().any() else ledger.as_of
    )
    return first.normalize(), ledger.as_of.normalize()


def _check_as_of(ledger: Ledger, as_of: pd.Timestamp) -> None:
    first, last = as_of_range(ledger)
    if not first <= as_of <= last:
        side = (
            "after the ledger's as-of day (its last recorded events are the day before; "
            "a profile as of a later day would read the future as empty)"
            if as_of > last
            else "before the ledger's history (as of then no member had joined yet)"
        )
        raise AsOfOutOfRangeError(
            f"--as-of {as_of.date().isoformat()} is {side}; profiles of {ledger.root} can be "
            f"built as of {first.date().isoformat()} to {last.date().isoformat()}"
        )


def _identity(ledger: Ledger, as_of: pd.Timestamp) -> dict[str, str]:
    """What a built features folder must agree with for its partitions to be reused."""
    return {
        "ledger": str(ledger.root.resolve()),
        "ledger_as_of": ledger.as_of.date().isoformat(),
        "profiles_as_of": as_of.date().isoformat(),
    }


def _stale_because(out: Path, wanted: dict[str, str]) -> str | None:
    """Why the partitions already in `out` cannot be reused, or None if they can."""
    existing = [p for d in (PROFILES, TRAINING) for p in (out / d).glob("*.parquet")]
    if not existing:
        return None
    manifest = out / MANIFEST
    recorded = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    if not recorded:
        return f"{MANIFEST} is missing, so the as-of day of the partitions there is unknown"
    for key, what in (
        ("profiles_as_of", "profiles were as of"),
        ("ledger", "they came from ledger"),
        ("ledger_as_of", "their ledger was as of"),
    ):
        if recorded.get(key) != wanted[key]:
            return f"{what} {recorded.get(key)}, now {wanted[key]}"
    return None


def build_features(
    ledger_dir: Path,
    out: Path,
    as_of: pd.Timestamp | None = None,
    engine: Engine = "local",
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build every partition not yet built (all with `force`), then the lookup index.

    Profiles are as of `as_of`, by default the ledger's as-of day; a day outside the
    ledger's history (`as_of_range`) raises `AsOfOutOfRangeError` before anything is
    written. Partitions built as of another day, or from another ledger, are deleted and
    rebuilt (`BuildReport.rebuilt_because` says why), so the manifest's `profiles_as_of`
    is true of every file. With `workers` > 1 the local engine starts worker processes: a
    script calling this must do so under `if __name__ == "__main__":`, as for Dask's local
    cluster.
    """
    began = time.perf_counter()
    ledger = Ledger(ledger_dir)
    as_of = (ledger.as_of if as_of is None else pd.Timestamp(as_of)).normalize()
    _check_as_of(ledger, as_of)
    report = BuildReport(as_of=as_of)
    wanted = _identity(ledger, as_of)
    report.rebuilt_because = _stale_because(out, wanted)
    if report.rebuilt_because is not None:
        # gone before the new manifest is written: a failed or interrupted rebuild leaves
        # missing partitions (rebuilt by a rerun), never old ones under the new as-of day
        (out / INDEX).unlink(missing_ok=True)
        for d in (TRAINING, PROFILES):  # training first: its file marks a partition done
            for p in (out / d).glob("*.parquet"):
                p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    _write_manifest(out, ledger, as_of, report)
    todo = []
    for coop in ledger.cooperative_ids():
        if not force and _done(out, coop):
            report.skipped.append(coop)
        else:
            todo.append(coop)
    args = (str(ledger_dir), str(out), as_of.date().isoformat())
    if engine == "local":
        outcomes = _build_locally(todo, args, workers, progress)
    else:
        outcomes = _build_on_dask(todo, args, workers, scheduler, progress)
    for coop in todo:  # cooperative order, whichever finished first
        built, error = outcomes[coop]
        if built is not None:
            report.built.append(built)
        if error is not None:
            report.failed[coop] = error
    report.ledger_rows = sum(b["ledger_rows"] for b in report.built)
    report.index = write_index(out, ledger)
    _write_manifest(out, ledger, as_of, report)
    report.seconds = time.perf_counter() - began
    return report


# a built partition's counts, or why it failed
Outcome = tuple[dict[str, Any] | None, str | None]


def _build_or_reason(ledger_dir: str, cooperative_id: str, out_dir: str, as_of: str) -> Outcome:
    """`build_partition`, with a failure turned into its reason where the traceback is."""
    try:
        return build_partition(ledger_dir, cooperative_id, out_dir, as_of), None
    except Exception as exc:  # one bad partition must not stop the others
        return None, _reason(exc)


def _build_locally(
    todo: list[str],
    args: tuple[str, str, str],
    workers: int,
    progress: Callable[[str], None] | None,
) -> dict[str, Outcome]:
    """Partitions in this process, or on a pool of `workers` processes.

    At most `workers` partitions are queued on the pool, each worker holds one at a time:
    memory stays bounded by `workers` partitions. (Building partitions in this process too
    while the workers start measured slower: three processes on two cores.)
    """
    results: dict[str, Outcome] = {}

    def record(coop: str, result: Outcome) -> None:
        results[coop] = result
        if progress:
            progress(coop)

    queue = deque(todo)
    if workers <= 1 or len(todo) <= 1:
        for coop in todo:
            record(coop, _build_or_reason(args[0], coop, args[1], args[2]))
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
            running: dict[Future[Outcome], str] = {}

            def fill() -> None:
                while queue and len(running) < workers:
                    coop = queue.popleft()
                    try:
                        running[pool.submit(_build_or_reason, args[0], coop, *args[1:])] = coop
                    except BrokenProcessPool:
                        record(coop, (None, _DIED))

            fill()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    coop = running.pop(future)
                    try:
                        record(coop, future.result())
                    except BrokenProcessPool:  # killed from outside, e.g. out of memory
                        record(coop, (None, _DIED))
                fill()
    return results


def _build_on_dask(
    todo: list[str],
    args: tuple[str, str, str],
    workers: int,
    scheduler: str | None,
    progress: Callable[[str], None] | None,
) -> dict[str, Outcome]:
    from dask.distributed import as_completed

    results: dict[str, Outcome] = {}
    with dask_client(scheduler, workers) as client:
        futures = {
            client.submit(_build_or_reason, args[0], coop, args[1], args[2], pure=False): coop
            for coop in todo
        }
        for future in as_completed(futures):
            coop = futures[future]
            try:
                results[coop] = future.result()
            except Exception as exc:  # the worker itself was lost
                results[coop] = (None, _reason(exc))
            if progress:
                progress(coop)
    return results


def _reason(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


@dataclass(frozen=True)
class IndexCounts:
    """What `write_index` wrote: members with a profile, NIK hashes in `members_by_nik`,
    NIK hashes shared by several members (left out) and the members holding them."""

    profiles: int
    niks: int = 0
    duplicate_niks: int = 0
    members_left_out: int = 0

    def manifest(self) -> dict[str, int]:
        return {
            "niks": self.niks,
            "duplicate_niks": self.duplicate_niks,
            "members_left_out": self.members_left_out,
        }


def write_index(out: Path, ledger: Ledger | None = None) -> IndexCounts:
    """(Re)write the member -> (cooperative, row) lookup from every profiles partition and,
    given the ledger, the nik_hash -> member lookup (`members_by_nik`).

    Profiles are written in row groups of PROFILE_ROW_GROUP rows, so a lookup is one
    primary-key search plus one row group read: constant time however large the ledger.
    A NIK hash held by more than one member (one person in two cooperatives, or a data
    error) cannot name a member, so it is left out of `members_by_nik` and counted.
    """
    files = sorted((out / PROFILES).glob("*.parquet"))
    tmp = out / (INDEX + ".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute(
            "CREATE TABLE profiles (member_id TEXT PRIMARY KEY, cooperative_id TEXT NOT NULL,"
            " row INTEGER NOT NULL) WITHOUT ROWID"
        )
        n = 0
        for f in files:
            ids = pq.read_table(f, columns=["member_id"]).column(0).to_pylist()
            db.executemany(
                "INSERT INTO profiles VALUES (?, ?, ?)",
                zip(ids, [f.stem] * len(ids), range(len(ids)), strict=True),
            )
            n += len(ids)
        counts = IndexCounts(n)
        if ledger is not None:
            counts = _write_nik_index(db, ledger, [f.stem for f in files], n)
        db.commit()
    finally:
        db.close()
    os.replace(tmp, out / INDEX)
    return counts


def _write_nik_index(
    db: sqlite3.Connection, ledger: Ledger, cooperatives: list[str], profiles: int
) -> IndexCounts:
    """`members_by_nik` from the members tables of `cooperatives`, one at a time, for the
    members with a profile; a NIK hash of several members is left out."""
    db.execute(
        "CREATE TABLE members_by_nik (nik_hash TEXT PRIMARY KEY, member_id TEXT NOT NULL)"
        " WITHOUT ROWID"
    )
    db.execute("CREATE TEMP TABLE nik_staging (nik_hash TEXT NOT NULL, member_id TEXT NOT NULL)")
    for coop in cooperatives:
        members = ledger.partition(coop).table("members", ["member_id", "nik_hash"])
        pairs = [
            (str(h), str(m))
            for m, h in zip(members["member_id"], members["nik_hash"], strict=True)
            if isinstance(h, str) and h
        ]
        db.executemany("INSERT INTO nik_staging VALUES (?, ?)", pairs)
    db.execute(
        "CREATE TEMP TABLE nik_counted AS SELECT nik_hash, MIN(member_id) AS member_id,"
        " COUNT(DISTINCT member_id) AS holders FROM nik_staging"
        " WHERE member_id IN (SELECT member_id FROM profiles) GROUP BY nik_hash"
    )
    db.execute(
        "INSERT INTO members_by_nik SELECT nik_hash, member_id FROM nik_counted WHERE holders = 1"
    )
    niks, duplicates, left_out = db.execute(
        "SELECT COALESCE(SUM(holders = 1), 0), COALESCE(SUM(holders > 1), 0),"
        " COALESCE(SUM(CASE WHEN holders > 1 THEN holders ELSE 0 END), 0) FROM nik_counted"
    ).fetchone()
    db.execute("DROP TABLE nik_staging")
    db.execute("DROP TABLE nik_counted")
    return IndexCounts(profiles, int(niks), int(duplicates), int(left_out))


def fetch_profile(out: Path, member_id: str) -> dict[str, Any] | None:
    """One member's current profile: `ProfileStore(out).fetch(member_id)`."""
    return ProfileStore(out).fetch(member_id)


def _write_manifest(out: Path, ledger: Ledger, as_of: pd.Timestamp, report: BuildReport) -> None:
    built = sorted(p.stem for p in (out / TRAINING).glob("*.parquet"))
    manifest = {
        **_identity(ledger, as_of),
        "features": feature_names(),
        "labels": list(LABELS),
        "partitions": built,
        "failed": report.failed,
    }
    if report.index is not None:  # NIK hashes indexed, and those of several members left out
        manifest["nik_index"] = report.index.manifest()
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


def source_ledger(out: Path) -> Path | None:
    """The ledger folder these features were built from, as recorded in the manifest (None
    for features built before it was recorded)."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return None
    recorded = json.loads(manifest.read_text(encoding="utf-8")).get("ledger")
    return Path(recorded) if recorded else None


def training_partitions(out: Path) -> list[Path]:
    """The training table's files, one per built cooperative partition."""
    return sorted((out / TRAINING).glob("*.parquet"))


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The catalog's categorical features the frame holds made categorical again (a
    concatenation of partitions falls back to text, which LightGBM rejects)."""
    for c in categorical_names():
        if c in frame.columns:
            frame[c] = frame[c].astype("category")
    return frame


def read_training_partition(path: Path) -> pd.DataFrame:
    """One cooperative's part of the training table, categorical features as categories."""
    return as_categories(pd.read_parquet(path))


def read_training(out: Path) -> pd.DataFrame:
    """The whole training table (all built partitions).

    Categories differ between partitions, so concatenation falls back to text; the catalog's
    categorical features are made categorical again here (LightGBM rejects text).
    """
    frame = pd.concat([pd.read_parquet(f) for f in training_partitions(out)], ignore_index=True)
    return as_categories(frame)
