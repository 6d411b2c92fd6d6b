"""Benchmark: `POST /v1/score-batches` of 1,000 applications, against its peers.

    .venv/bin/python bench/bench_batch.py [--items 1000] [--repeat 5]

A generated ledger (16 cooperatives x 300 members x 36 months, seed 11: the test suite's
medium ledger) and a PD model trained on it as the demo trains it (LightGBM, 300 rounds)
are built once into a temporary folder. For each store (a fresh SQLite file; a fresh
schema of the PostgreSQL database of AMANAH_TEST_POSTGRES_URL when it is set) an app is
built in-process (`create_app`, driven by fastapi's TestClient), with one partner granted
every cooperative and a consent for each of `--items` members. Then, in the same run:

- the batch: one POST /v1/score-batches of the items, the median of `--repeat` timed
  calls after one warm-up (every call scores, stores and audits every item anew);
- peer 1: the same items as sequential POST /v1/scores calls, one pass;
- peer 2: the bare model on the same rows: `application_frame` of the profiles and one
  `AmanahModel.predict` (reasons in both languages), the median of `--repeat`.

Rate limits are turned off for the run (they would refuse the sequential peer). It prints a
markdown table (seconds, rows/s, the batch's speed-up over the sequential calls and its
cost over the bare model) and writes bench/results/batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.application import LoanRequest, application_frame  # noqa: E402
from features.generator.run import GeneratorConfig, generate_ledger  # noqa: E402
from features.profile_store import ProfileStore  # noqa: E402
from models.artifact import AmanahModel  # noqa: E402

DATA = Path("/tmp/amanah-bench-batch")
CONFIG = GeneratorConfig(cooperatives=16, members_per_coop=300, months=36, start="2022-06", seed=11)
PII_KEY = "bench-key-not-a-secret-0123456789abcdef"
ADMIN = "bench-admin"
POSTGRES_ENV = "AMANAH_TEST_POSTGRES_URL"


def model_and_features() -> tuple[AmanahModel, Path]:
    """The ledger's features and the model trained on them, built once."""
    from features.ledger.store import Ledger
    from features.pipeline import build_features, read_training
    from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model

    ledger, features, saved = DATA / "ledger", DATA / "features", DATA / "model"
    if not (ledger / "ledger.json").is_file():
        generate_ledger(ledger, CONFIG, pii_key=PII_KEY.encode())
    if not (features / "features.json").is_file():
        build_features(ledger, features, Ledger(ledger).as_of)
    if not (saved / "model.json").is_file():
        result = train_model(
            read_training(features), catalog_spec(), AMANAH_TARGET, AMANAH_TIME,
            max_rounds=300, family="lightgbm",
        )  # fmt: skip
        result.model.save(saved)
    return AmanahModel.load(saved), features


@contextmanager
def store_url(kind: str) -> Iterator[str]:
    """An empty store: a SQLite file, or a fresh schema of the PostgreSQL database."""
    if kind == "sqlite":
        path = DATA / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            path.unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    database = make_url(os.environ[POSTGRES_ENV])
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def items_of(members: list[str]) -> list[dict[str, Any]]:
    """One loan request per member, the terms varied a little."""
    purposes = ("modal usaha", "stok", "education")
    return [
        {
            "member": {"cooperative_id": m.rpartition("-")[0], "member_number": m.rpartition("-")[2]},
            "loan": {"amount": 1_000_000 + 250_000 * (i % 40), "tenor_months": 6 + i % 30,
                     "purpose": purposes[i % 3]},
        }
        for i, m in enumerate(members)
    ]  # fmt: skip


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bare_model(model: AmanahModel, features: Path, members: list[str], repeat: int) -> float:
    """`application_frame` and one `predict` of the same rows, median seconds."""
    from serving.schemas import LoanCreate

    store = ProfileStore(features)
    profiles = store.profiles(members)
    loans = [LoanCreate.model_validate(i["loan"]) for i in items_of(members)]
    requests = [
        LoanRequest(amount=x.amount, tenor_months=x.tenor_months, purpose=x.purpose,
                    product=x.product, flat_monthly_rate=x.flat_monthly_rate,
                    application_date=date.today())
        for x in loans
    ]  # fmt: skip
    frame = pd.DataFrame(
        {
            "member_id": members,
            "amount": [r.amount for r in requests],
            "tenor_months": [r.tenor_months for r in requests],
            "purpose": [r.purpose for r in requests],
            "product": [r.product for r in requests],
            "flat_monthly_rate": [r.flat_monthly_rate for r in requests],
            "application_date": pd.to_datetime([r.application_date for r in requests]),
        }
    )
    return median_seconds(lambda: model.predict(application_frame(profiles, frame)), repeat)


def run_store(kind: str, model: AmanahModel, features: Path, n: int, repeat: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.audit import verify
    from serving.config import load_settings
    from serving.security import member_ref_from_number
    from serving.store import repo

    members = ProfileStore(features).members()[:n]
    items = items_of(members)
    with store_url(kind) as url:
        settings = load_settings(
            database_url=url, environment="development", pii_key=PII_KEY, features_dir=features,
            mlflow_tracking_uri=f"sqlite:///{DATA / 'no-store' / 'mlflow.db'}",
            rate_limit_per_minute=0, member_scores_per_day=0, max_batch_items=max(n, 1_000),
        )  # fmt: skip
        app = create_app(settings, model)
        now = datetime.now(UTC)
        with app.state.sessions() as session:
            partner = repo.add_partner(session, "Bench partner", actor=ADMIN)
            key = repo.create_key(session, partner, ["batches", "scores:write"], actor=ADMIN)[1]
            for coop in sorted({m.rpartition("-")[0] for m in members}):
                repo.grant(session, partner, coop, actor=ADMIN)
            for m in members:
                coop, _, number = m.rpartition("-")
                ref = member_ref_from_number(coop, number, PII_KEY.encode()).ref
                repo.give_consent(
                    session, partner, ref, coop, "credit_scoring", now + timedelta(days=30),
                    actor=ADMIN, at=now - timedelta(seconds=1),
                )  # fmt: skip
            session.commit()
        headers = {"Authorization": f"Bearer {key}"}
        with TestClient(app) as client:

            def batch() -> None:
                response = client.post("/v1/score-batches", json={"items": items}, headers=headers)
                assert response.status_code == 200, response.text[:300]
                assert response.json()["counts"]["scored"] == n, response.json()["counts"]

            batch_s = median_seconds(batch, repeat)
            began = time.perf_counter()
            for item in items:
                response = client.post("/v1/scores", json=item, headers=headers)
                assert response.status_code == 201, response.text[:300]
            sequential_s = time.perf_counter() - began
        with app.state.sessions() as session:
            intact = verify(session).intact
    predict_s = bare_model(model, features, members, repeat)
    return {
        "store": kind,
        "items": n,
        "batch_s": batch_s,
        "batch_rows_s": n / batch_s,
        "sequential_s": sequential_s,
        "sequential_rows_s": n / sequential_s,
        "predict_s": predict_s,
        "predict_rows_s": n / predict_s,
        "batch_speedup_over_sequential": sequential_s / batch_s,
        "batch_cost_over_predict": batch_s / predict_s,
        "audit_chain_intact": intact,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    model, features = model_and_features()
    kinds = ["sqlite", *(["postgresql"] if os.environ.get(POSTGRES_ENV) else [])]
    rows = [run_store(kind, model, features, args.items, args.repeat) for kind in kinds]
    print(f"\nPOST /v1/score-batches of {args.items:,} items (median of {args.repeat}); peers "
          "in the same run\n")  # fmt: skip
    print("| store | batch s | batch rows/s | sequential s | sequential rows/s | bare predict s "
          "| predict rows/s | batch vs sequential | batch / predict |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['store']} | {r['batch_s']:.3f} | {r['batch_rows_s']:,.0f} | "
            f"{r['sequential_s']:.2f} | {r['sequential_rows_s']:,.0f} | {r['predict_s']:.3f} | "
            f"{r['predict_rows_s']:,.0f} | {r['batch_speedup_over_sequential']:.1f}x faster | "
            f"{r['batch_cost_over_predict']:.2f}x |"
        )
    out = ROOT / "bench" / "results" / "batch.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"items": args.items, "repeat": args.repeat, "stores": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
