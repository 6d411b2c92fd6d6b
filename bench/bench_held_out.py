"""Benchmark: the PD model on a city it never saw, beside its own test period.

    .venv/bin/python bench/bench_held_out.py [--pairs 101:202,303:404,505:606]
        [--train-size 34x1500] [--test-size 12x600] [--quick] [--max-rounds 2000]

For each seed pair a training city (demo-sized by default) and an independently generated
test city are made; the model is trained as the demo trains it, then judged in its own test
period (where features and the search space were chosen: optimistic) and on every labelled
loan of the test city. Both are compared with the generator's oracle on the same loans.
Peer in the same run: the WoE scorecard trained beside the model, on the same held-out loans.
Target (issue 10): at least 97% of the oracle's AUC on held-out cities (mean over pairs) and
calibration error under 0.02 there.

Cities and features are cached (by size, seed and a fingerprint of the generator's and the
feature code) in the temp folder; results go to bench/results/held_out.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.generator.oracle_comparison import TARGET_SHARE, compare_with_oracle  # noqa: E402
from models.held_out_city import (  # noqa: E402
    TEST_SIZE,
    THIN_FILE_MONTHS,
    TRAIN_SIZE,
    features_fingerprint,
    generator_fingerprint,
    held_out_city,
)

DATA = Path(tempfile.gettempdir()) / "amanah-bench-held-out"
PAIRS = ((101, 202), (303, 404), (505, 606))
QUICK_TRAIN, QUICK_TEST = (12, 500), (6, 300)
CALIBRATION_TARGET = 0.02
THIN_KEYS = (f"under_{THIN_FILE_MONTHS}_months", f"{THIN_FILE_MONTHS}_months_or_more")


def size(text: str) -> tuple[int, int]:
    """'34x1500' -> (34, 1500): cooperatives x members per cooperative."""
    coops, members = text.lower().split("x")
    return int(coops), int(members)


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation, min and max over pairs."""
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


SUMMARISED = {
    "in_period": ("auc", "oracle_auc", "auc_share_of_oracle", "calibration_error"),
    "held_out": ("auc", "oracle_auc", "auc_share_of_oracle", "calibration_error", "brier",
                 "auc_woe_baseline", "auc_over_woe_baseline"),
}  # fmt: skip


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for where, keys in SUMMARISED.items():
        out[where] = {k: spread([float(r[where][k]) for r in runs]) for k in keys}
    held = out["held_out"]
    out["target"] = {
        "share": TARGET_SHARE,
        "calibration_error": CALIBRATION_TARGET,
        "share_met": held["auc_share_of_oracle"]["mean"] >= TARGET_SHARE,
        "calibration_met": held["calibration_error"]["mean"] < CALIBRATION_TARGET,
    }
    return out


def print_results(runs: list[dict[str, Any]], summed: dict[str, Any]) -> None:
    print(
        "\n| seeds (train:test) | in-period AUC | oracle | share | held-out AUC | oracle | share "
        "| calibration error | WoE AUC | AUC / WoE | loans (defaults) | family, rounds |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        i, h = r["in_period"], r["held_out"]
        print(
            f"| {r['train_seed']}:{r['test_seed']} | {i['auc']:.3f} | {i['oracle_auc']:.3f} | "
            f"{i['auc_share_of_oracle']:.1%} | {h['auc']:.3f} | {h['oracle_auc']:.3f} | "
            f"{h['auc_share_of_oracle']:.1%} | {h['calibration_error']:.4f} | "
            f"{h['auc_woe_baseline']:.3f} | {h['auc_over_woe_baseline']:.3f} | "
            f"{h['labelled_loans']:,} ({h['defaults']}) | {r['family']}, {r['best_iteration']} |"
        )
    i, h, t = summed["in_period"], summed["held_out"], summed["target"]
    print(
        f"\nIn-period share of the oracle's AUC: mean {i['auc_share_of_oracle']['mean']:.1%} "
        f"(sd {i['auc_share_of_oracle']['sd']:.1%}, {i['auc_share_of_oracle']['min']:.1%} to "
        f"{i['auc_share_of_oracle']['max']:.1%})"
    )
    print(
        f"Held-out share of the oracle's AUC: mean {h['auc_share_of_oracle']['mean']:.1%} "
        f"(sd {h['auc_share_of_oracle']['sd']:.1%}, {h['auc_share_of_oracle']['min']:.1%} to "
        f"{h['auc_share_of_oracle']['max']:.1%}); target at least {t['share']:.0%}: "
        f"{'met' if t['share_met'] else 'not met'}"
    )
    print(
        f"Held-out calibration error: mean {h['calibration_error']['mean']:.4f} "
        f"(max {h['calibration_error']['max']:.4f}); target under {t['calibration_error']}: "
        f"{'met' if t['calibration_met'] else 'not met'}"
    )
    thin, rest = (
        spread([float(r["held_out"]["by_history"][k]["auc_share_of_oracle"]) for r in runs])
        for k in THIN_KEYS
    )
    in_thin = spread([float(r["in_period"]["share_thin_files"]) for r in runs])
    held_thin = spread(
        [r["held_out"]["by_history"][THIN_KEYS[0]]["labelled_loans"] / r["held_out"]["labelled_loans"]
         for r in runs]
    )  # fmt: skip
    print(
        f"Held-out share by history: thin files (under {THIN_FILE_MONTHS} months) "
        f"{thin['mean']:.1%}, the rest {rest['mean']:.1%}; thin files are "
        f"{held_thin['mean']:.0%} of held-out loans, {in_thin['mean']:.0%} of the in-period test"
    )
    print(
        f"Peer (WoE scorecard on the same held-out loans): AUC {h['auc_woe_baseline']['mean']:.3f}"
        f"; the model's AUC is {h['auc_over_woe_baseline']['mean']:.3f}x of it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", default=",".join(f"{a}:{b}" for a, b in PAIRS))
    parser.add_argument("--train-size", type=size, default=TRAIN_SIZE)
    parser.add_argument("--test-size", type=size, default=TEST_SIZE)
    parser.add_argument("--quick", action="store_true", help="small cities, for a smoke run")
    parser.add_argument("--max-rounds", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=DATA)
    args = parser.parse_args()
    train_size, test_size = (QUICK_TRAIN, QUICK_TEST) if args.quick else (
        args.train_size, args.test_size
    )  # fmt: skip
    pairs = [tuple(int(s) for s in p.split(":")) for p in args.pairs.split(",")]
    runs = []
    for train_seed, test_seed in pairs:
        print(f"[held-out] train seed {train_seed}, test seed {test_seed}", file=sys.stderr)
        began = time.perf_counter()
        run = held_out_city(
            train_seed, test_seed, args.workdir, train_size, test_size,
            compare=compare_with_oracle, max_rounds=args.max_rounds,
        )  # fmt: skip
        run["seconds"] = time.perf_counter() - began
        print(f"  {json.dumps(run['timings'], default=float)}", file=sys.stderr)
        runs.append(run)
    summed = summary(runs)
    results = {
        "train_size": list(train_size),
        "test_size": list(test_size),
        "generator_fingerprint": generator_fingerprint(),
        "features_fingerprint": features_fingerprint(),
        "runs": runs,
        "summary": summed,
    }
    name = "held_out_quick.json" if args.quick else "held_out.json"
    out = ROOT / "bench" / "results" / name
    # one entry per code version and sizes: a rerun after the generator changes keeps the
    # figures measured before it beside the new ones
    key = (
        f"generator {results['generator_fingerprint']}, features "
        f"{results['features_fingerprint']}, train {train_size[0]}x{train_size[1]}, "
        f"test {test_size[0]}x{test_size[1]}"
    )
    kept: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {}
    kept = {k: v for k, v in kept.items() if isinstance(v, dict) and "summary" in v}
    kept[key] = {**results, "measured_at": time.strftime("%Y-%m-%d %H:%M")}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(kept, indent=2, default=float))
    print(
        f"Training city {train_size[0]} x {train_size[1]:,}, test city {test_size[0]} x "
        f"{test_size[1]:,} (generator {results['generator_fingerprint']})"
    )
    print_results(runs, summed)


if __name__ == "__main__":
    main()
