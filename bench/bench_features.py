"""Benchmark: the point-in-time feature build against two peers on the same ledger.

    .venv/bin/pip install -c constraints.txt -e '.[bench]'    # DuckDB, the SQL peer
    .venv/bin/python bench/bench_features.py [--sizes 1M,10M,50M] [--naive-sample 300]

For each size (cooperatives of 2,000 members over 36 months, about 380k ledger rows each):

- whole catalog, local engine (2 worker processes) and Dask engine (LocalCluster, 2 worker
  processes x 1 thread): ledger rows per second and peak memory (the largest RSS of the
  building process and its workers);
- the shared subset, 24 windowed sums and counts (4 event kinds x 3 windows) for every loan
  application, computed three ways on the same events: Amanah's prefix-sum engine, DuckDB
  (one SQL range join, 2 threads) and a straightforward pandas loop (per application, filter
  the member's earlier events and aggregate; timed on a sample and extrapolated).

Every part runs in its own process so its peak memory is its own. Ledgers are generated once
under /tmp/amanah-bench-features/ and reused. Results go to bench/results/features.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.catalog import feature_names  # noqa: E402
from features.generator.run import GeneratorConfig, generate_ledger  # noqa: E402
from features.ledger.store import Ledger  # noqa: E402
from features.pipeline import build_features  # noqa: E402
from features.profile_builder import _Prefix  # noqa: E402

DATA = Path("/tmp/amanah-bench-features")
MEMBERS = 2000
SIZES = {"1M": 3, "10M": 27, "50M": 132}  # cooperatives
WINDOWS = (91, 183, 365)
KINDS = ("savings", "purchases", "sales", "repayments")
PARTS = ("local", "dask", "subset")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ledger_for(size: str) -> Path:
    path = DATA / size / "ledger"
    if not (path / "ledger.json").is_file():
        config = GeneratorConfig(SIZES[size], MEMBERS, 36, "2023-01", seed=2026)
        generate_ledger(path, config)
    return path


def ledger_rows(path: Path) -> int:
    return sum(sum(v.values()) for v in Ledger(path).manifest["tables"].values())


# ---------------------------------------------------------------- whole catalog
def run_local(size: str) -> dict[str, Any]:
    path = ledger_for(size)
    began = time.perf_counter()
    report = build_features(path, DATA / size / "local", Ledger(path).as_of, force=True)
    seconds = time.perf_counter() - began
    assert not report.failed, report.failed
    # workers are forkserver children, not this process's: each partition reports its own
    workers = max(b["peak_mib"] for b in report.built)
    return {"seconds": seconds, "rows": ledger_rows(path), "peak_mib": max(peak_mib(), workers)}


def _worker_peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dask(size: str) -> dict[str, Any]:
    from dask.distributed import Client, LocalCluster

    path = ledger_for(size)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        began = time.perf_counter()
        report = build_features(
            path, DATA / size / "dask", Ledger(path).as_of, engine="dask",
            scheduler=cluster.scheduler_address, force=True,
        )  # fmt: skip
        seconds = time.perf_counter() - began
        worker_peaks = client.run(_worker_peak)
    assert not report.failed, report.failed
    return {
        "seconds": seconds,
        "rows": ledger_rows(path),
        "peak_mib": max(worker_peaks.values()),
        "driver_peak_mib": peak_mib(),
    }


# ---------------------------------------------------------------- shared subset
def load_subset(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All events as (member, day, kind, amount) and applications as (app, member, day)."""
    ledger = Ledger(path)
    frames = []
    sv = ledger.read("savings", columns=["member_id", "date", "direction", "amount"])
    sv_amount = np.where(sv["direction"] == "withdrawal", -sv["amount"], sv["amount"])
    frames.append((sv["member_id"], sv["date"], 0, sv_amount))
    pu = ledger.read("store_purchases", columns=["member_id", "date", "amount"])
    frames.append((pu["member_id"], pu["date"], 1, pu["amount"].to_numpy()))
    sa = ledger.read("produce_sales", columns=["member_id", "date", "amount"])
    frames.append((sa["member_id"], sa["date"], 2, sa["amount"].to_numpy()))
    loans = ledger.read("loans", columns=["loan_id", "member_id", "application_date"])
    rp = ledger.read("repayments", columns=["loan_id", "date", "amount"])
    rp_member = rp["loan_id"].map(loans.set_index("loan_id")["member_id"])
    frames.append((rp_member, rp["date"], 3, rp["amount"].to_numpy()))
    member_table = ledger.read("members", columns=["member_id", "cooperative_id"])
    members = pd.Index(member_table["member_id"])
    coop_codes = pd.factorize(member_table["cooperative_id"])[0]
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "member": members.get_indexer(m).astype(np.int32),
                    "day": d.to_numpy("datetime64[D]").astype(np.int32),
                    "kind": np.int8(k),
                    "amount": np.asarray(a, dtype=np.int64),
                }
            )
            for m, d, k, a in frames
        ],
        ignore_index=True,
    )
    apps = pd.DataFrame(
        {
            "app": np.arange(len(loans), dtype=np.int32),
            "member": members.get_indexer(loans["member_id"]).astype(np.int32),
            "day": loans["application_date"].to_numpy("datetime64[D]").astype(np.int32),
        }
    )
    apps.attrs["coop_of_member"] = coop_codes
    apps.attrs["coop_bounds"] = np.r_[
        np.searchsorted(coop_codes, np.arange(coop_codes.max() + 1)), len(coop_codes)
    ]
    return events, apps


def subset_columns() -> list[str]:
    return [f"{k}_{stat}_{w}" for k in KINDS for w in WINDOWS for stat in ("sum", "n")]


def amanah_subset(events: pd.DataFrame, apps: pd.DataFrame) -> pd.DataFrame:
    """The engine's way: per cooperative partition (member codes are contiguous per
    cooperative, so each partition is a slice), prefix sums searched per application."""
    member = events["member"].to_numpy(np.int64)
    day = events["day"].to_numpy(np.int64)
    amount = events["amount"].to_numpy(np.float64)
    kind = events["kind"].to_numpy()
    a_mem = apps["member"].to_numpy(np.int64)
    a_day = apps["day"].to_numpy(np.int64)
    coop_of = apps.attrs["coop_of_member"]
    bounds = apps.attrs["coop_bounds"]  # first member code of each cooperative, and the end
    out = {c: np.zeros(len(apps)) for c in subset_columns()}
    for k, name in enumerate(KINDS):
        sel = kind == k
        m, d, a = member[sel], day[sel], amount[sel]
        # events of one kind are stored cooperative by cooperative
        e_cut = np.searchsorted(coop_of[m], np.arange(len(bounds)), "left")
        a_cut = np.searchsorted(coop_of[a_mem], np.arange(len(bounds)), "left")
        for c in range(len(bounds) - 1):
            es, ee, as_, ae = e_cut[c], e_cut[c + 1], a_cut[c], a_cut[c + 1]
            base = bounds[c]
            prefix = _Prefix(m[es:ee] - base, d[es:ee], sum=a[es:ee], n=np.ones(ee - es))
            am, ad = a_mem[as_:ae] - base, a_day[as_:ae]
            hi = prefix.positions(am, ad)
            for w in WINDOWS:
                lo = prefix.positions(am, ad - w)
                out[f"{name}_sum_{w}"][as_:ae] = prefix.between("sum", lo, hi)
                out[f"{name}_n_{w}"][as_:ae] = prefix.between("n", lo, hi)
    return pd.DataFrame(out)[subset_columns()]


def duckdb_subset(events: pd.DataFrame, apps: pd.DataFrame) -> pd.DataFrame:
    import duckdb

    aggs = ", ".join(
        f"coalesce(sum(e.amount) FILTER (WHERE e.kind = {k} AND e.day >= a.day - {w}), 0)"
        f" AS {name}_sum_{w}, count(*) FILTER (WHERE e.kind = {k} AND e.day >= a.day - {w})"
        f" AS {name}_n_{w}"
        for k, name in enumerate(KINDS)
        for w in WINDOWS
    )
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("events", events)
    con.register("apps", apps)
    result = con.execute(
        f"SELECT a.app, {aggs} FROM apps a LEFT JOIN events e ON e.member = a.member "
        f"AND e.day < a.day AND e.day >= a.day - {max(WINDOWS)} GROUP BY a.app ORDER BY a.app"
    ).df()
    return result[subset_columns()].astype(np.float64)


def naive_subset(events: pd.DataFrame, apps: pd.DataFrame) -> pd.DataFrame:
    """Per application: filter the member's earlier events and aggregate (pandas).

    The events are grouped by member first (not timed: generous to the peer)."""
    mine_only = events[events["member"].isin(apps["member"].unique())]
    by_member = {m: g for m, g in mine_only.groupby("member")}
    rows = []
    began = time.perf_counter()
    for app in apps.itertuples(index=False):
        mine = by_member.get(app.member, events.iloc[:0])
        row = {}
        for k, name in enumerate(KINDS):
            kind = mine[mine["kind"] == k]
            for w in WINDOWS:
                hit = kind[(kind["day"] < app.day) & (kind["day"] >= app.day - w)]
                row[f"{name}_sum_{w}"] = float(hit["amount"].sum())
                row[f"{name}_n_{w}"] = float(len(hit))
        rows.append(row)
    out = pd.DataFrame(rows)[subset_columns()]
    out.attrs["seconds"] = time.perf_counter() - began
    return out


def run_subset(size: str, naive_sample: int) -> dict[str, Any]:
    path = ledger_for(size)
    events, apps = load_subset(path)
    result: dict[str, Any] = {"events": len(events), "applications": len(apps)}
    t = time.perf_counter()
    ours = amanah_subset(events, apps)
    result["amanah_s"] = time.perf_counter() - t
    t = time.perf_counter()
    duck = duckdb_subset(events, apps)
    result["duckdb_s"] = time.perf_counter() - t
    pd.testing.assert_frame_equal(ours, duck, check_dtype=False)
    sample = apps.sample(min(naive_sample, len(apps)), random_state=0).reset_index(drop=True)
    naive = naive_subset(events, sample)
    naive_s = naive.attrs["seconds"]
    pd.testing.assert_frame_equal(naive, ours.iloc[sample["app"].to_numpy()].reset_index(drop=True))
    result["naive_s_estimated"] = naive_s * len(apps) / len(sample)
    result["naive_sample"] = len(sample)
    result["peak_mib"] = peak_mib()
    return result


# ---------------------------------------------------------------- driver
def child(size: str, part: str, naive_sample: int) -> None:
    if part == "local":
        out = run_local(size)
    elif part == "dask":
        out = run_dask(size)
    else:
        out = run_subset(size, naive_sample)
    print(json.dumps(out))


def spawn(size: str, part: str, naive_sample: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", size, part, "--naive-sample", str(naive_sample)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1M,10M,50M")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.naive_sample)
        return
    unknown = sorted(set(args.parts.split(",")) - set(PARTS))
    if unknown:
        parser.error(f"--parts takes {', '.join(PARTS)}; got {', '.join(unknown)}")
    out = ROOT / "bench" / "results" / "features.json"
    # parts not rerun keep their last figures
    results: dict[str, dict[str, Any]] = json.loads(out.read_text()) if out.is_file() else {}
    for size in args.sizes.split(","):
        print(f"[{size}] generating (cached after the first run)", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r});"
             f"from bench.bench_features import ledger_for; ledger_for({size!r})"],
            check=True,
        )  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {p: [] for p in args.parts.split(",")}
        for _ in range(args.repeat):
            for part in runs:
                print(f"[{size}] {part}", file=sys.stderr)
                runs[part].append(spawn(size, part, args.naive_sample))
        results.setdefault(size, {}).update(
            {
                part: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                for part, rs in runs.items()
            }
        )
    # the figures are kept before they are printed: a printing error loses no measurement
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print_table(results)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """The whole-catalog and shared-subset tables of whichever parts each size holds (any
    `--parts` combination, and results kept from earlier runs); a part a size lacks is "-"."""
    catalog = {size: r for size, r in results.items() if "local" in r or "dask" in r}
    if catalog:
        print(
            f"Whole catalog ({len(feature_names())} features + 3 labels, training table and"
            " current profiles):\n"
        )
        print(
            "| size | ledger rows | local s | local rows/s | local peak MiB | dask s | dask rows/s | dask worker peak MiB |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in catalog.items():
        cells = [size, f"{(r.get('local') or r['dask'])['rows']:,.0f}"]
        for part in ("local", "dask"):
            p = r.get(part)
            cells += (
                [f"{p['seconds']:.1f}", f"{p['rows'] / p['seconds']:,.0f}", f"{p['peak_mib']:,.0f}"]
                if p
                else ["-", "-", "-"]
            )
        print("| " + " | ".join(cells) + " |")
    subset = {size: r["subset"] for size, r in results.items() if "subset" in r}
    if subset:
        print("\nShared subset (24 windowed sums and counts per application), same events:\n")
        print(
            "| size | events | applications | Amanah s | DuckDB s | pandas per-application s (est.) | Amanah / DuckDB speed | Amanah / pandas speed |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for size, s in subset.items():
        print(
            f"| {size} | {s['events']:,.0f} | {s['applications']:,.0f} | {s['amanah_s']:.2f} | {s['duckdb_s']:.2f} | "
            f"{s['naive_s_estimated']:,.0f} | {s['duckdb_s'] / s['amanah_s']:.2f}x | {s['naive_s_estimated'] / s['amanah_s']:,.0f}x |"
        )
    if "local" in results.get("1M", {}) and "local" in results.get("50M", {}):
        a, b = results["1M"]["local"], results["50M"]["local"]
        print(
            f"\nPeak memory, local engine, 50M vs 1M ledger rows: {a['peak_mib']:,.0f} -> {b['peak_mib']:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
