"""Benchmark: the PD model on the demo data, training at scale, and scoring throughput.

    .venv/bin/python bench/bench_model.py [--sizes 100k,1M] [--max-rounds 500] [--parts demo,train,score,seeds]

1. Demo data (the demo: 34 cooperatives x 1,500 members x 36 months, seed 42): test-period AUC as a
   share of the oracle's AUC on the same loans (the oracle is read here, never by models),
   and calibration error; both logged to the run in a bench MLflow store.
2. Training time and peak memory at 100k and 1M applications (the demo's labelled rows
   resampled with replacement), each in its own process, with the local engine and on a
   Dask LocalCluster of 2 worker processes; peer: one plain `lgb.train` of the candidate the
   search chose, for its number of rounds, with no search, calibration, baseline or report.
3. Scoring: single-row and batch rows per second (PD, score, grade, policy, reasons) for
   `AmanahModel.predict_records` (one application as a record, the API's path) and
   `AmanahModel.predict` (DataFrames); peers: the bare booster on the same rows, and the
   MLflow pyfunc of the same model.

4. Seeds (`--parts seeds`): the demo configuration at 500 and 1,500 members per cooperative,
   seeds 42, 7 and 11: oracle share, rank correlation with the true PD, calibration error.

Results go to bench/results/model.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.catalog import feature_names  # noqa: E402
from features.generator.oracle_comparison import compare_with_oracle, true_pd  # noqa: E402
from features.generator.run import DEMO_CONFIG, GeneratorConfig, generate_ledger  # noqa: E402
from features.ledger.store import Ledger  # noqa: E402
from features.pipeline import build_features, read_training  # noqa: E402
from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model  # noqa: E402

DATA = Path("/tmp/amanah-bench-model")
SIZES = {"100k": 100_000, "1M": 1_000_000}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ledger_and_features(config: GeneratorConfig) -> tuple[Path, Path]:
    """A generated ledger and its features, built once per configuration (the folder is
    named by it, so a changed demo is regenerated, and the seed sweep reuses the demo's).
    Features built for another catalog (a feature added or removed since) are rebuilt: a
    bench must not measure a model of yesterday's features. A change of a computation that
    keeps the catalog's names is not seen: remove the folder after one."""
    c = config
    name = f"{c.cooperatives}x{c.members_per_coop}x{c.months}-{c.start}-seed{c.seed}"
    ledger, features = DATA / name, DATA / f"{name}-features"
    if not (ledger / "ledger.json").is_file():
        shutil.rmtree(features, ignore_errors=True)
        generate_ledger(ledger, config)
    manifest = features / "features.json"
    if manifest.is_file() and json.loads(manifest.read_text("utf-8")).get("features") != list(
        feature_names()
    ):
        shutil.rmtree(features)
    if not manifest.is_file():
        build_features(ledger, features, Ledger(ledger).as_of)
    return ledger, features


def demo_features() -> Path:
    return ledger_and_features(DEMO_CONFIG)[1]


def run_demo(max_rounds: int) -> dict[str, Any]:
    """The demo's workflow (`models.workflow.train_and_register`, as `amanah demo` runs it),
    logged to a bench store without registering and without the held-out city (that is
    `bench_held_out.py`)."""
    from models.workflow import train_and_register

    _, features = ledger_and_features(DEMO_CONFIG)
    store = DATA / "mlflow"
    trained = train_and_register(
        features, uri=f"sqlite:///{store / 'mlflow.db'}", register=False, held_out=False,
        compare=compare_with_oracle, max_rounds=max_rounds,
    )  # fmt: skip
    result, versus = trained.result, trained.oracle
    assert versus is not None, "the demo ledger has an oracle"
    result.model.save(DATA / "demo-model")
    return {
        "train_seconds": trained.seconds["train"],
        "labelled_applications": sum(result.report["rows"][p] for p in ("train", "valid", "test")),
        "test_auc": result.report["auc"],
        "woe_baseline_auc": result.report["auc_woe_baseline"],
        "oracle_auc": versus["oracle_test_auc"],
        "auc_share_of_oracle": versus["auc_share_of_oracle"],
        "calibration_error": result.report["calibration_error"],
        "grades_monotone": result.report["grades_monotone"],
        "four_fifths": {k: v["four_fifths"]["ratio"] for k, v in result.report["fairness"].items()},
        "mlflow_run": trained.run_id,
    }


SEEDS = (42, 7, 11)
SWEEP_MEMBERS = (500, 1_500)


def run_seed(arg: str) -> dict[str, Any]:
    """One demo-shaped ledger (members per cooperative, seed): how stable the oracle share
    and calibration are, and how closely the PD ranks loans like the true PD (Spearman on
    the test loans, which uses every loan, not only the defaults)."""
    from scipy.stats import spearmanr

    from models.workflow import train_and_register

    members, seed = (int(x) for x in arg.split(":"))
    ledger, features = ledger_and_features(
        replace(DEMO_CONFIG, members_per_coop=members, seed=seed)
    )
    trained = train_and_register(features, log=False, register=False, held_out=False,
                                 compare=compare_with_oracle)  # fmt: skip
    result, versus = trained.result, trained.oracle
    assert versus is not None, "a generated ledger has an oracle"
    test = result.test
    truth = true_pd(ledger, test["loan_id"])
    assert truth is not None
    rho = spearmanr(result.model.predict(test)["pd"].to_numpy(), truth).statistic
    return {
        "members_per_coop": members,
        "seed": seed,
        "test_loans": len(test),
        "test_defaults": int(test[AMANAH_TARGET].sum()),
        "auc_share_of_oracle": versus["auc_share_of_oracle"],
        "spearman_with_true_pd": float(rho),
        "calibration_error": result.report["calibration_error"],
    }


def resampled(n: int) -> pd.DataFrame:
    frame = read_training(demo_features())
    labelled = frame[frame[AMANAH_TARGET].notna()]
    rng = np.random.default_rng(0)
    out = labelled.iloc[rng.integers(0, len(labelled), n)].reset_index(drop=True)
    # spread application dates so the out-of-time split has distinct days
    out[AMANAH_TIME] = out[AMANAH_TIME] + pd.to_timedelta(rng.integers(0, 3, n), unit="D")
    return out


def run_train(size: str, max_rounds: int) -> dict[str, Any]:
    import lightgbm as lgb

    from models.lgbm import base_params

    frame = resampled(SIZES[size])
    began = time.perf_counter()
    result = train_model(frame, catalog_spec(), AMANAH_TARGET, AMANAH_TIME, max_rounds=max_rounds)
    ours = time.perf_counter() - began
    ours_peak = peak_mib()
    X = result.model.prepare(frame)
    y = frame[AMANAH_TARGET].astype(int).to_numpy()
    # the configuration the search chose, trained once for its number of rounds
    params = {**base_params(42), **result.model.metadata["best_params"],
              "monotone_constraints": catalog_spec().monotone}  # fmt: skip
    began = time.perf_counter()
    lgb.train(params, lgb.Dataset(X, y), num_boost_round=result.model.metadata["best_iteration"])
    plain = time.perf_counter() - began
    return {"rows": len(frame), "amanah_s": ours, "amanah_peak_mib": ours_peak,
            "plain_lgb_s": plain, "best_iteration": result.model.metadata["best_iteration"],
            "test_auc": result.report["auc"]}  # fmt: skip


def run_train_dask(size: str, max_rounds: int) -> dict[str, Any]:
    """The same training on a LocalCluster of 2 worker processes (LightGBM's Dask
    integration); peak memory is the largest of this process and the workers."""
    from dask.distributed import Client, LocalCluster

    frame = resampled(SIZES[size])
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster) as client:
        began = time.perf_counter()
        result = train_model(
            frame, catalog_spec(), AMANAH_TARGET, AMANAH_TIME, max_rounds=max_rounds,
            engine="dask", scheduler=cluster.scheduler_address,
        )  # fmt: skip
        seconds = time.perf_counter() - began
        workers = client.run(peak_mib)
    return {"rows": len(frame), "dask_s": seconds, "dask_test_auc": result.report["auc"],
            "dask_peak_mib": max([peak_mib(), *workers.values()]),
            "dask_best_iteration": result.model.metadata["best_iteration"]}  # fmt: skip


def run_score() -> dict[str, Any]:
    import mlflow

    from models.artifact import AmanahModel
    from models.registry import PYFUNC_ENTRY, _public_input

    model = AmanahModel.load(DATA / "demo-model")
    frame = read_training(demo_features())
    rows = (
        frame[model.features].sample(100_000, replace=True, random_state=0).reset_index(drop=True)
    )
    out: dict[str, Any] = {}
    model.predict(rows.head(100))  # warm: first calls load code paths and thread pools
    began = time.perf_counter()
    model.predict(rows)
    out["batch_amanah_rows_s"] = len(rows) / (time.perf_counter() - began)
    X = model.prepare(rows)
    began = time.perf_counter()
    model.booster.predict(X)
    out["batch_booster_rows_s"] = len(rows) / (time.perf_counter() - began)
    singles = [rows.iloc[[i]] for i in range(300)]
    records = rows.head(300).to_dict("records")
    began = time.perf_counter()
    for record in records:  # the API's path: one application as a plain record
        model.predict_records([record])
    out["single_amanah_rows_s"] = len(records) / (time.perf_counter() - began)
    began = time.perf_counter()
    for one in singles:
        model.predict(one)
    out["single_amanah_frame_rows_s"] = len(singles) / (time.perf_counter() - began)
    prepared = [model.prepare(one) for one in singles]
    began = time.perf_counter()
    for one in prepared:
        model.booster.predict(one)
    out["single_booster_rows_s"] = len(singles) / (time.perf_counter() - began)
    matrices = [model.matrix_from_records([record]) for record in records]
    began = time.perf_counter()
    for m in matrices:
        model.booster.predict(m)
    out["single_booster_matrix_rows_s"] = len(matrices) / (time.perf_counter() - began)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pyfunc"
        mlflow.pyfunc.save_model(
            str(path), python_model=str(PYFUNC_ENTRY), artifacts={"model": str(DATA / "demo-model")}
        )
        pyfunc = mlflow.pyfunc.load_model(str(path))
        public = _public_input(rows, model.categories)
        pyfunc.predict(public.head(100))  # warm, as Amanah's path is below
        began = time.perf_counter()
        pyfunc.predict(public)
        out["batch_pyfunc_rows_s"] = len(public) / (time.perf_counter() - began)
        public_singles = [_public_input(one, model.categories) for one in singles]
        began = time.perf_counter()
        for one in public_singles:
            pyfunc.predict(one)
        out["single_pyfunc_rows_s"] = len(singles) / (time.perf_counter() - began)
    return out


def child(part: str, arg: str, max_rounds: int) -> None:
    if part == "demo":
        result = run_demo(max_rounds)
    elif part == "train":
        result = run_train(arg, max_rounds)
    elif part == "train-dask":
        result = run_train_dask(arg, max_rounds)
    elif part == "seed":
        result = run_seed(arg)
    else:
        result = run_score()
    print(json.dumps(result, default=float))


def spawn(part: str, arg: str, max_rounds: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", part, arg, "--max-rounds", str(max_rounds)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100k,1M")
    parser.add_argument("--max-rounds", type=int, default=500)
    parser.add_argument("--parts", default="demo,train,score,seeds")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.max_rounds)
        return
    out = ROOT / "bench" / "results" / "model.json"
    # parts not rerun keep their last figures
    results: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {}
    parts = args.parts.split(",")
    if "demo" in parts:
        print("[demo] generate, features, train, oracle", file=sys.stderr)
        results["demo"] = spawn("demo", "-", 2000)
    for size in args.sizes.split(",") if "train" in parts else []:
        print(f"[train {size}]", file=sys.stderr)
        results[f"train_{size}"] = spawn("train", size, args.max_rounds)
        print(f"[train {size} on Dask]", file=sys.stderr)
        results[f"train_{size}"].update(spawn("train-dask", size, args.max_rounds))
    if "score" in parts:
        print("[score]", file=sys.stderr)
        results["score"] = spawn("score", "-", args.max_rounds)
    if "seeds" in parts:
        results["seeds"] = []
        for members in SWEEP_MEMBERS:
            for seed in SEEDS:
                print(f"[seeds] {members} members per cooperative, seed {seed}", file=sys.stderr)
                results["seeds"].append(spawn("seed", f"{members}:{seed}", args.max_rounds))
    # a part never run on this machine is not printed
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=float))
    d = results.get("demo")
    if d:
        print(f"Demo: test AUC {d['test_auc']:.3f} (WoE {d['woe_baseline_auc']:.3f}), oracle AUC {d['oracle_auc']:.3f}, "
          f"share {d['auc_share_of_oracle']:.1%}; calibration error {d['calibration_error']:.4f}; "
          f"grades monotone {d['grades_monotone']}; four-fifths {d['four_fifths']}")  # fmt: skip
    sizes = [size for size in args.sizes.split(",") if f"train_{size}" in results]
    print(
        "\n| applications | local train s | local peak MiB | Dask train s | Dask peak MiB | plain lgb.train s | local / plain | Dask / local |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        t = results[f"train_{size}"]
        print(
            f"| {t['rows']:,} | {t['amanah_s']:.1f} | {t['amanah_peak_mib']:,.0f} | {t['dask_s']:.1f} | {t['dask_peak_mib']:,.0f} | "
            f"{t['plain_lgb_s']:.1f} | {t['amanah_s'] / t['plain_lgb_s']:.1f}x | {t['dask_s'] / t['amanah_s']:.1f}x |"
        )
    s = results.get("score")
    if not s:
        return
    print(
        "\n| scoring | Amanah rows/s | bare booster rows/s | MLflow pyfunc rows/s | Amanah / pyfunc |"
    )
    print("|---|---:|---:|---:|---:|")
    print(
        f"| single (record; one-row DataFrame) | {s['single_amanah_rows_s']:,.0f}; {s['single_amanah_frame_rows_s']:,.0f} | "
        f"{s['single_booster_matrix_rows_s']:,.0f} (matrix); {s['single_booster_rows_s']:,.0f} (DataFrame) | "
        f"{s['single_pyfunc_rows_s']:,.0f} | {s['single_amanah_rows_s'] / s['single_pyfunc_rows_s']:.0f}x |"
    )
    print(
        f"| batch of 100,000 | {s['batch_amanah_rows_s']:,.0f} | {s['batch_booster_rows_s']:,.0f} | "
        f"{s['batch_pyfunc_rows_s']:,.0f} | {s['batch_amanah_rows_s'] / s['batch_pyfunc_rows_s']:.1f}x |"
    )
    if "seeds" in results:
        print(
            "\n| members per cooperative | seed | test loans | test defaults | share of oracle AUC | Spearman with true PD | calibration error |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in results["seeds"]:
            print(
                f"| {r['members_per_coop']:,} | {r['seed']} | {r['test_loans']:,} | {r['test_defaults']} | "
                f"{r['auc_share_of_oracle']:.1%} | {r['spearman_with_true_pd']:.3f} | {r['calibration_error']:.4f} |"
            )


if __name__ == "__main__":
    main()
