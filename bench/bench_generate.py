"""Benchmark `generate_ledger`: wall time, rows/s and peak memory per size, against an I/O floor.

Run from the repository root::

    .venv/bin/python bench/bench_generate.py [--sizes small,medium,large] [--repeat N]

Each size runs in a fresh process (this file with the hidden ``--one SIZE`` flag), so the
peak RSS (``ru_maxrss``) belongs to that size alone. Peak RSS is read right after the
generation runs, before the ledger is read back for the baseline.

The peer is plain pandas on the same data: every ledger table is read back (not timed), and
the same frames are written with ``DataFrame.to_parquet(path, index=False)``, one file per
table per cooperative. That is the I/O floor of producing this ledger; the generator's time
divided by it is reported as "x I/O floor".

Results are printed as a markdown table and written to ``bench/results/generate.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "generate.json"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@dataclass(frozen=True)
class Size:
    name: str
    cooperatives: int
    members_per_coop: int
    months: int
    default_repeat: int

    @property
    def shape(self) -> str:
        return f"{self.cooperatives} x {self.members_per_coop} x {self.months}"


SIZES: dict[str, Size] = {
    "small": Size("small", 4, 250, 36, 3),
    "medium": Size("medium", 34, 500, 36, 3),  # the reference size
    "large": Size("large", 102, 500, 36, 1),  # 3x medium
}


def _peak_mib() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baseline_write(frames: dict[tuple[str, str], pd.DataFrame], out: Path) -> float:
    """Write the frames with plain pandas, one file per table per cooperative; seconds."""
    if out.exists():
        shutil.rmtree(out)
    tables = {table for table, _ in frames}
    for table in tables:
        (out / table).mkdir(parents=True)
    start = time.perf_counter()
    for (table, coop), frame in frames.items():
        frame.to_parquet(out / table / f"{coop}.parquet", index=False)
    return time.perf_counter() - start


def run_one(size: Size, repeat: int) -> dict[str, Any]:
    """Benchmark one size in this process and return its measurements."""
    from features.generator.run import GeneratorConfig, generate_ledger
    from features.ledger.contracts import TABLE_ORDER
    from features.ledger.store import Ledger

    config = GeneratorConfig(
        cooperatives=size.cooperatives,
        members_per_coop=size.members_per_coop,
        months=size.months,
    )
    with tempfile.TemporaryDirectory(prefix="amanah-bench-", dir="/tmp") as tmp:
        ledger_dir = Path(tmp) / "ledger"
        gen_times: list[float] = []
        rows = 0
        for _ in range(repeat):
            start = time.perf_counter()
            counts = generate_ledger(ledger_dir, config)
            gen_times.append(time.perf_counter() - start)
            rows = sum(n for per_coop in counts.values() for n in per_coop.values())
        peak_mib = _peak_mib()

        # Peer on the same data: read back (not timed), then time a plain pandas write.
        ledger = Ledger(ledger_dir)
        frames = {
            (table, coop): ledger.read(table, cooperatives=coop)
            for table in TABLE_ORDER
            for coop in ledger.cooperative_ids()
        }
        read_rows = sum(len(f) for f in frames.values())
        if read_rows != rows:
            raise RuntimeError(f"read back {read_rows} rows, generator reported {rows}")
        base_times = [_baseline_write(frames, Path(tmp) / "baseline") for _ in range(repeat)]

    gen_s = statistics.median(gen_times)
    base_s = statistics.median(base_times)
    return {
        "size": size.name,
        "cooperatives": size.cooperatives,
        "members_per_coop": size.members_per_coop,
        "months": size.months,
        "repeat": repeat,
        "ledger_rows": rows,
        "generate_s": gen_times,
        "generate_s_median": gen_s,
        "rows_per_s": rows / gen_s,
        "peak_mib": peak_mib,
        "pandas_write_s": base_times,
        "pandas_write_s_median": base_s,
        "ratio_vs_write_only": gen_s / base_s,
    }


def run_in_subprocess(size: Size, repeat: int) -> dict[str, Any]:
    """Run one size in a fresh interpreter so its peak RSS is its own."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", size.name, "--repeat"]
    cmd.append(str(repeat))
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"size {size.name} failed with exit status {proc.returncode}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def markdown(results: list[dict[str, Any]]) -> str:
    header = (
        "| size | cooperatives x members x months | ledger rows | generate s (median) "
        "| rows/s | peak MiB | pandas write-only s | ratio vs write-only |"
    )
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        shape = f"{r['cooperatives']} x {r['members_per_coop']} x {r['months']}"
        lines.append(
            f"| {r['size']} | {shape} | {r['ledger_rows']:,} | {r['generate_s_median']:.2f} "
            f"| {r['rows_per_s']:,.0f} | {r['peak_mib']:.0f} "
            f"| {r['pandas_write_s_median']:.2f} | {r['ratio_vs_write_only']:.1f}x I/O floor |"
        )
    return "\n".join(lines)


def linearity(results: list[dict[str, Any]]) -> str | None:
    by_size = {r["size"]: r for r in results}
    if "medium" not in by_size or "large" not in by_size:
        return None
    med, big = by_size["medium"], by_size["large"]
    return (
        f"Linearity (large vs medium, {big['ledger_rows'] / med['ledger_rows']:.2f}x rows): "
        f"rows/s {big['rows_per_s'] / med['rows_per_s']:.2f}x, "
        f"peak MiB {big['peak_mib'] / med['peak_mib']:.2f}x "
        f"({med['peak_mib']:.0f} -> {big['peak_mib']:.0f} MiB)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        default="small,medium,large",
        help="comma-separated sizes to run: " + ", ".join(SIZES),
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per size (default: 3 for small and medium, 1 for large); medians reported",
    )
    parser.add_argument("--one", choices=sorted(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    unknown = [s for s in args.sizes.split(",") if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; expected some of {', '.join(SIZES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        size = SIZES[args.one]
        result = run_one(size, args.repeat or size.default_repeat)
        print(json.dumps(result))
        return 0

    results = []
    for name in args.sizes.split(","):
        size = SIZES[name]
        repeat = args.repeat or size.default_repeat
        print(f"running {name} ({size.shape}, repeat {repeat}) ...", file=sys.stderr, flush=True)
        results.append(run_in_subprocess(size, repeat))

    print(markdown(results))
    line = linearity(results)
    if line:
        print()
        print(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {"python": sys.version.split()[0], "results": results, "linearity": line}
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
