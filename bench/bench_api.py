"""Benchmark: the scoring API, one application per request, against MLflow's own server.

    .venv/bin/python bench/bench_api.py [--workers 1,2] [--databases sqlite,postgresql]
        [--connections 8,32] [--rates 100,200,400] [--duration 10] [--repeat 3] [--quick]

Setup, cached in /tmp/amanah-bench-api: a generated city (10 cooperatives x 400 members x
36 months, seed 42), its features, and the PD model trained on them (LightGBM, at most 300
rounds) registered as `amanah-pd` champion in a bench MLflow store (SQLite).

Servers, each a real process on 127.0.0.1:
- MLflow: `mlflow models serve -m models:/amanah-pd/<version> --env-manager local` (1 and
  2 workers), `POST /invocations` with one row (`dataframe_split`) of the model input: the
  member's profile with the loan's features filled in, as Amanah scores it. Measured as
  shipped, then with its busiest processes (as many as workers) pinned by the bench to a
  CPU each, as `amanah serve` pins its own workers (`serving.cpu_pinning`); Amanah's ratio
  is to the better of the two.
- Amanah: `amanah serve --workers N` (each worker pinned to a CPU of its own, the default)
  on a SQLite file and on a fresh PostgreSQL database (`AMANAH_TEST_POSTGRES_URL`; skipped
  with a note when unset), `POST /v1/scores` with a key, a grant, a consent per member, an
  `Idempotency-Key` per request and the audit entry committed; requests rotate over 1,000
  members. Rate and velocity limits are off. Once more with `--no-pin` (the first worker
  count and database) to show what the pinning is worth in the same run.

Throughput: wrk (Debian package `wrk`) with 2 threads and 8 (and 32) connections for
`--duration` seconds, a Lua script per run (unique idempotency keys, rotating bodies);
median requests/s over `--repeat` runs, latency percentiles of the median run; any non-2xx
answer or socket error fails the run. Latency: bench/openloop.py, requests due at fixed
times (100, 200 and 400 per second), measured from the due time; the client's own floor
is the same run against Amanah's `/healthz`. The key figures are measured again at the end
(the machine is shared). Results go to bench/results/api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import openloop  # noqa: E402

DATA = Path("/tmp/amanah-bench-api")
PII_KEY = "bench-api-" + "5e" * 24  # a development key of this benchmark only
MEMBERS = 1_000
LOAN = {"amount": 5_000_000, "tenor_months": 12, "purpose": "modal usaha"}
ADMIN = "bench"
TARGET_RATIO, TARGET_P99_MS, TARGET_RATE = 10.0, 10.0, 200


# ----------------------------------------------------------------------------- setup
def model_and_store() -> dict[str, Any]:
    """The city, its features and the registered champion, built once."""
    from features.generator.run import GeneratorConfig, generate_ledger
    from features.ledger.store import Ledger
    from features.pipeline import build_features

    ledger, features = DATA / "ledger", DATA / "features"
    store = DATA / "mlflow"
    done = DATA / "setup.json"
    if done.is_file():
        return dict(json.loads(done.read_text()))
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    print("[setup] generating, building features, training (once)", file=sys.stderr)
    config = GeneratorConfig(cooperatives=10, members_per_coop=400, months=36, seed=42)
    generate_ledger(ledger, config)
    build_features(ledger, features, Ledger(ledger).as_of)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    from mlflow import MlflowClient

    from models.registry import CHAMPION, MODEL_NAME, promote
    from models.workflow import train_and_register

    trained = train_and_register(
        features, uri=uri, register=True, held_out=False, max_rounds=300, family="lightgbm"
    )
    decision = promote(uri, force=True, reason="API benchmark")
    if not decision["promoted"]:  # too little evidence for the gate on a small city
        MlflowClient(uri).set_registered_model_alias(MODEL_NAME, CHAMPION, str(trained.version))
    booster = trained.result.model.booster
    assert booster is not None, "trained as LightGBM"
    setup = {
        "features": str(features), "uri": uri, "version": trained.version,
        "trees": booster.num_trees(),
        "features_count": len(trained.result.model.features),
    }  # fmt: skip
    done.write_text(json.dumps(setup))
    return setup


def members_and_mlflow_rows(setup: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The members scored (cooperative, member number) and, for MLflow, each one's model
    input as a one-row `dataframe_split` body."""
    import pandas as pd

    from features.application import LoanRequest, application_record
    from features.profile_store import ProfileStore
    from models.registry import _public_input, load

    model = load(f"models:/amanah-pd/{setup['version']}", setup["uri"])
    store = ProfileStore(Path(setup["features"]))
    ids = store.members()[:: max(1, len(store.members()) // MEMBERS)][:MEMBERS]
    request = LoanRequest(flat_monthly_rate=0.015, **LOAN)  # type: ignore[arg-type]
    records = []
    for member in ids:
        profile = store.fetch(member)
        assert profile is not None
        records.append(application_record(profile, request))
    frame = _public_input(pd.DataFrame(records)[model.features], model.categories)
    bodies = [
        json.dumps({"dataframe_split": json.loads(frame.iloc[[i]].to_json(orient="split"))})
        for i in range(len(frame))
    ]
    members = [(m.rpartition("-")[0], m.rpartition("-")[2]) for m in ids]
    return members, bodies


def prepare_database(url: str, members: list[tuple[str, str]]) -> str:
    """Migrate `url` and write a partner, its key, grants and consents; the key."""
    from serving.security import member_ref_from_number
    from serving.store import make_engine, repo, sessions, upgrade

    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with sessions(engine)() as session:
            partner = repo.add_partner(session, f"Bench {uuid.uuid4().hex[:8]}", actor=ADMIN)
            key = repo.create_key(session, partner, ["scores:write", "scores:read"], actor=ADMIN)[1]
            for coop in sorted({c for c, _ in members}):
                repo.grant(session, partner, coop, actor=ADMIN)
            for coop, number in members:
                ref = member_ref_from_number(coop, number, PII_KEY.encode()).ref
                repo.give_consent(session, partner, ref, coop, "credit_scoring",
                                  now + timedelta(days=30), actor=ADMIN,
                                  at=now - timedelta(seconds=5))  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    return key


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the server of AMANAH_TEST_POSTGRES_URL, dropped after."""
    base_url = os.environ.get("AMANAH_TEST_POSTGRES_URL")
    if not base_url:
        yield None
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"amanah_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# ----------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json",
                                                          **headers})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass
class Server:
    name: str
    workers: int
    database: str
    port: int
    path: str
    headers: dict[str, str]
    bodies: list[str]
    idempotent: bool
    session: int = 0  # the pid leading the server's processes (`pin_busiest`)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def running(cmd: list[str], env: dict[str, str], ready: str, log: Path) -> Iterator[int]:
    """A server process, answered 200 on `ready` before the block (which gets its pid, the
    leader of a session holding its workers), stopped after it."""
    with log.open("w") as out:
        # a session of its own: the workers of a multi-worker server are stopped with it
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while _get(ready) != 200:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with suppress(ProcessLookupError):  # workers still busy with abandoned requests
                os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def mlflow_server(setup: dict[str, Any], workers: int, bodies: list[str]) -> Iterator[Server]:
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "mlflow"), "models", "serve",
           "-m", f"models:/amanah-pd/{setup['version']}", "--env-manager", "local",
           "-p", str(port), "-h", "127.0.0.1", "-w", str(workers)]  # fmt: skip
    # MLflow starts `uvicorn` by name: the venv's bin must come first on PATH
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": setup["uri"], "PATH": path}
    with running(cmd, env, f"http://127.0.0.1:{port}/ping", DATA / "mlflow-server.log") as pid:
        yield Server("MLflow", workers, "-", port, "/invocations", {}, bodies, False, pid)


@contextmanager
def amanah_server(setup: dict[str, Any], workers: int, database: str, url: str,
                  members: list[tuple[str, str]], pin: bool = True) -> Iterator[Server]:  # fmt: skip
    key = prepare_database(url, members)
    port = free_port()
    env = {
        **os.environ, "AMANAH_DATABASE_URL": url, "AMANAH_PII_KEY": PII_KEY,
        "AMANAH_FEATURES_DIR": setup["features"], "AMANAH_MODEL_URI": "models:/amanah-pd@champion",
        "AMANAH_MLFLOW_TRACKING_URI": setup["uri"], "AMANAH_ENVIRONMENT": "development",
        "AMANAH_RATE_LIMIT_PER_MINUTE": "0", "AMANAH_MEMBER_SCORES_PER_DAY": "0",
    }  # fmt: skip
    cmd = [sys.executable, "-m", "serving.cli", "serve", "--port", str(port),
           "--workers", str(workers), "--pin" if pin else "--no-pin"]  # fmt: skip
    bodies = [
        json.dumps({"member": {"cooperative_id": c, "member_number": n}, "loan": LOAN})
        for c, n in members
    ]
    with running(cmd, env, f"http://127.0.0.1:{port}/readyz", DATA / "amanah-server.log"):
        headers = {"Authorization": f"Bearer {key}"}
        name = "Amanah" if pin else "Amanah --no-pin"
        yield Server(name, workers, database, port, "/v1/scores", headers, bodies, True)


def _session_processes(session: int) -> dict[int, float]:
    """The processes of a session and the CPU seconds each has used."""
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def pin_busiest(server: Server) -> list[int]:
    """Pin the `server.workers` busiest processes of a peer's session (by CPU used so far:
    run load first), each with every thread to a CPU of its own, as `amanah serve` pins its
    workers (`serving.cpu_pinning`); the pids pinned."""
    cpus = sorted(os.sched_getaffinity(0))
    used = _session_processes(server.session)
    busiest = sorted(used, key=lambda pid: -used[pid])[: min(server.workers, len(cpus))]
    for pid, cpu in zip(busiest, cpus, strict=False):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with suppress(ProcessLookupError):
                os.sched_setaffinity(int(task.name), {cpu})
    return busiest


def settle(server: Server) -> None:
    """Wait (at most 2 minutes) until the server answers its probe again: requests the
    open-loop client gave up on are still being worked off and would weigh on the next run."""
    deadline = time.monotonic() + 120
    probe = "/ping" if server.name.startswith("MLflow") else "/healthz"
    while _get(server.base + probe) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(1)


def check_answers(server: Server) -> None:
    """A few real requests answered 2xx with a PD before anything is measured (and the
    workers warmed)."""
    for i in range(20):
        headers = {**server.headers}
        if server.idempotent:
            headers["Idempotency-Key"] = f"check-{uuid.uuid4().hex}"
        status, text = _post(server.base + server.path, server.bodies[i], headers)
        if not 200 <= status < 300 or '"pd"' not in text:
            raise RuntimeError(f"{server.name} answered {status}: {text[:500]}")


# ----------------------------------------------------------------------------- wrk
def lua_script(server: Server, tag: str) -> str:
    """A wrk script: each thread rotates over the bodies, each request has its own
    idempotency key (run tag, thread, counter) when the server takes one."""
    bodies = ",\n".join(f"[==[{b}]==]" for b in server.bodies)
    headers = {"Content-Type": "application/json", **server.headers}
    static = ", ".join(f'["{k}"] = [==[{v}]==]' for k, v in headers.items())
    idem = 'h["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. n' if server.idempotent else ""
    return f"""
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local bodies = {{
{bodies}
}}
local n = 0
tag = "{tag}"
function request()
  n = n + 1
  local h = {{ {static} }}
  {idem}
  return wrk.format("POST", "{server.path}", h, bodies[((n * 7 + tid * 131) % #bodies) + 1])
end
"""


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * UNITS[match[2]]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, latency percentiles (ms), non-2xx answers and socket errors."""
    out: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])}  # type: ignore[index]
    for q in ("50", "90", "99"):
        found = re.search(rf"^\s+{q}%\s+(\S+)", output, re.M)
        out[f"p{q}_ms"] = _ms(found[1]) if found else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    out["non_2xx"] = float(non2xx[1]) if non2xx else 0.0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)  # fmt: skip
    out["socket_errors"] = float(sum(int(g) for g in errors.groups())) if errors else 0.0
    out["requests"] = float(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    return out


def run_wrk(server: Server, connections: int, duration: float) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=DATA, delete=False) as script:
        script.write(lua_script(server, uuid.uuid4().hex[:12]))
    try:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout",
             "10s", "-s",
             script.name, server.base + server.path],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    figures = parse_wrk(done.stdout)
    if figures["non_2xx"]:
        raise RuntimeError(f"{server.name}: wrk saw non-2xx answers\n{done.stdout}")
    if figures["socket_errors"]:  # slow answers (over 10 s) or broken connections: noted
        print(f"  note: {figures['socket_errors']:.0f} socket errors or timeouts", file=sys.stderr)
    return figures


def median_wrk(server: Server, connections: int, duration: float, repeat: int) -> dict[str, Any]:
    runs = sorted((run_wrk(server, connections, duration) for _ in range(repeat)),
                  key=lambda r: r["rps"])  # fmt: skip
    middle = dict(runs[len(runs) // 2])
    middle["rps"] = statistics.median(r["rps"] for r in runs)
    middle["rps_runs"] = [r["rps"] for r in runs]  # type: ignore[assignment]
    return middle


# ----------------------------------------------------------------------------- open loop
def request_maker(server: Server, path: str | None = None) -> Callable[[int], bytes]:
    """Request i for the open-loop client: body i (rotating), its own idempotency key."""
    host = f"127.0.0.1:{server.port}"
    tag = uuid.uuid4().hex[:12]
    if path is not None:
        raw = openloop.http_request("GET", path, host, {})
        return lambda i: raw
    encoded = [b.encode() for b in server.bodies]

    def request(i: int) -> bytes:
        headers = {"Content-Type": "application/json", **server.headers}
        if server.idempotent:
            headers["Idempotency-Key"] = f"{tag}-{i}"
        return openloop.http_request("POST", server.path, host, headers,
                                     encoded[(i * 7) % len(encoded)])  # fmt: skip

    return request


def open_loop(server: Server, rate: float, duration: float, path: str | None = None,
              grace: float = 10.0) -> dict[str, float]:  # fmt: skip
    result = openloop.run_blocking("127.0.0.1", server.port, request_maker(server, path),
                                   rate, duration, grace=grace)  # fmt: skip
    return result.as_dict()


# ----------------------------------------------------------------------------- profile
class _Snapshot:
    """A profiler's figures so far, read without disabling it (it belongs to another
    thread, which `disable` from here would not reach)."""

    def __init__(self, profiler: Any) -> None:
        profiler.snapshot_stats()
        self.stats = profiler.stats

    def create_stats(self) -> None:
        pass


def profile(setup: dict[str, Any], members: list[tuple[str, str]], n: int) -> None:
    """Where one request's time goes: `n` POST /v1/scores through an in-process app
    (TestClient, SQLite), timed, then again under cProfile; and the scoring steps (profile
    fetch, model with reasons, the whole `score_application`) timed on their own."""
    import cProfile
    import pstats

    from fastapi.testclient import TestClient

    from features.application import LoanRequest, application_record
    from features.profile_store import ProfileStore
    from models.registry import load
    from serving.app import create_app
    from serving.config import load_settings
    from serving.scoring import score_application

    url = f"sqlite:///{DATA / f'profile-{uuid.uuid4().hex[:6]}.db'}"
    key = prepare_database(url, members)
    model = load(f"models:/amanah-pd/{setup['version']}", setup["uri"])
    settings = load_settings(
        database_url=url, pii_key=PII_KEY, features_dir=Path(setup["features"]),
        mlflow_tracking_uri=setup["uri"], environment="development",
        rate_limit_per_minute=0, member_scores_per_day=0,
    )  # fmt: skip
    app = create_app(settings, model)
    headers = {"Authorization": f"Bearer {key}"}
    bodies = [{"member": {"cooperative_id": c, "member_number": m}, "loan": LOAN}
              for c, m in members]  # fmt: skip

    def post(client: TestClient, i: int) -> float:
        began = time.perf_counter()
        answer = client.post(
            "/v1/scores",
            json=bodies[i % len(bodies)],
            headers={**headers, "Idempotency-Key": f"p-{uuid.uuid4().hex}"},
        )
        assert answer.status_code == 201, answer.text
        return time.perf_counter() - began

    with TestClient(app) as client:
        for i in range(20):
            post(client, i)
        whole = statistics.median(post(client, i) for i in range(n))
    # TestClient runs the app in a thread of its own and sync routes in worker threads:
    # every thread started from here on has its own profiler, merged at the end
    profilers: list[cProfile.Profile] = []

    def start_profiler(*_: object) -> None:
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()

    threading.setprofile(start_profiler)
    with TestClient(app) as client:
        for i in range(n):
            post(client, i)
    threading.setprofile(None)
    store = ProfileStore(Path(setup["features"]))
    request = LoanRequest(flat_monthly_rate=0.015, **LOAN)  # type: ignore[arg-type]
    ids = [f"{c}-{m}" for c, m in members]
    timed: dict[str, list[float]] = {"fetch": [], "predict_records": [], "score_application": []}
    for i in range(n):
        member = ids[i % len(ids)]
        t = time.perf_counter()
        profile_row = store.fetch(member)
        timed["fetch"].append(time.perf_counter() - t)
        assert profile_row is not None
        record = application_record(profile_row, request)
        t = time.perf_counter()
        model.predict_records([record])
        timed["predict_records"].append(time.perf_counter() - t)
        t = time.perf_counter()
        score_application(model, store, member, request)
        timed["score_application"].append(time.perf_counter() - t)
    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    print(f"\nIn-process POST /v1/scores (TestClient, SQLite): median {whole * 1e3:.2f} ms a "
          f"request over {n}; timed alone: " + ", ".join(
              f"{k} {statistics.median(v) * 1e3:.2f} ms" for k, v in timed.items()))  # fmt: skip
    stats = pstats.Stats(*[_Snapshot(p) for p in profilers])  # type: ignore[arg-type]
    stats.sort_stats("cumulative").print_stats(r"/(serving|models|features)/", 40)
    stats.sort_stats("tottime").print_stats(30)


# ----------------------------------------------------------------------------- the run
def measure(server: Server, args: argparse.Namespace, rates: list[float],
            floor: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """wrk and the open loop on one server; with `floor`, the client's own floor is measured
    first, on `/healthz` of the fresh server, and written into it."""
    check_answers(server)
    if floor is not None:
        print("  client floor (/healthz)", file=sys.stderr)
        floor.update({f"{r:g}": open_loop(server, r, args.duration, "/healthz") for r in rates})
    run_wrk(server, 8, 2)  # warm-up
    out: dict[str, Any] = {"server": server.name, "workers": server.workers,
                           "database": server.database, "wrk": {}, "open_loop": {}}  # fmt: skip
    for c in args.connections:
        print(f"  wrk -c{c}", file=sys.stderr)
        repeat = args.repeat if c == args.connections[0] else 1
        out["wrk"][str(c)] = median_wrk(server, c, args.duration, repeat)
    for rate in rates:
        print(f"  open loop {rate:g}/s", file=sys.stderr)
        settle(server)
        out["open_loop"][f"{rate:g}"] = open_loop(server, rate, args.duration)
    settle(server)
    return out


def show(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    c0 = str(args.connections[0])
    more = [str(c) for c in args.connections[1:]]
    peer: dict[int, float] = {}  # the best MLflow figure for each worker count: its peer
    for r in rows:
        if r["server"].startswith("MLflow"):
            peer[r["workers"]] = max(peer.get(r["workers"], 0.0), r["wrk"][c0]["rps"])
    rate = f"{TARGET_RATE:g}"
    head = (f"| server | workers | database | wrk -c{c0} req/s | p50 ms | p99 ms | "
            + "".join(f"wrk -c{c} req/s | " for c in more)
            + f"open-loop {rate}/s p50 ms | p99 ms | achieved /s | ratio to MLflow |")  # fmt: skip
    print("\n" + head)
    print("|---|---:|---|" + "---:|" * (head.count("|") - 4))
    for r in rows:
        w = r["wrk"][c0]
        ol = r["open_loop"].get(rate)
        ratio = w["rps"] / peer[r["workers"]] if r["workers"] in peer else float("nan")
        print(
            f"| {r['server']} | {r['workers']} | {r['database']} | {w['rps']:,.0f}"
            + (f" ({w['socket_errors']:.0f} timeouts)" if w["socket_errors"] else "") + " | "
            f"{w['p50_ms']:.1f} | {w['p99_ms']:.1f} | "
            + "".join(f"{r['wrk'][c]['rps']:,.0f} | " for c in more)
            + (f"{ol['p50_ms']:.1f} | {ol['p99_ms']:.1f} | {ol['achieved_rate']:.0f} | "
               if ol else "- | - | - | ")
            + f"{ratio:.1f}x |"
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--connections", default="8,32")
    parser.add_argument("--rates", default="25,100,200,400")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5 s runs, no repeats")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="only profile N in-process requests (no servers)",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.repeat = 5.0, 1
    args.connections = [int(c) for c in args.connections.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    setup = model_and_store()
    print(f"[setup] model version {setup['version']}: {setup['trees']} trees, "
          f"{setup['features_count']} features", file=sys.stderr)  # fmt: skip
    members, mlflow_bodies = members_and_mlflow_rows(setup)
    if args.profile:
        profile(setup, members, args.profile)
        return
    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {"setup": setup, "rows": rows}
    out = ROOT / "bench" / "results" / "api.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every server, so a failed run keeps what it measured
        out.write_text(json.dumps(results, indent=2, default=float))

    for w in workers:
        print(f"[MLflow, {w} worker(s), as shipped, then pinned]", file=sys.stderr)
        with mlflow_server(setup, w, mlflow_bodies) as server:
            check_answers(server)
            run_wrk(server, 8, 2)
            for pinned in (False, True):
                if pinned:  # the peer given what `amanah serve` does for itself
                    pin_busiest(server)
                    server.name = "MLflow, pinned by the bench"
                    run_wrk(server, 8, 2)
                rows.append({"server": server.name, "workers": w, "database": "-",
                             "open_loop": {},
                             "wrk": {str(c): median_wrk(server, c, args.duration,
                                                        args.repeat if i == 0 else 1)
                                     for i, c in enumerate(args.connections)}})  # fmt: skip
                # MLflow cannot keep up with the target rate: a shorter run shows its queue
                rows[-1]["open_loop"][f"{TARGET_RATE:g}"] = open_loop(
                    server, TARGET_RATE, min(args.duration, 5.0), grace=5.0
                )
                settle(server)
        save()
    with postgres_database() as pg_url:
        databases = args.databases.split(",")
        if "postgresql" in databases and pg_url is None:
            print("note: AMANAH_TEST_POSTGRES_URL is not set; PostgreSQL skipped "
                  '(eval "$(bash scripts/postgres.sh)" first)', file=sys.stderr)  # fmt: skip
        for database in databases:
            for w in workers:
                if database == "sqlite":
                    url = f"sqlite:///{DATA / f'amanah-{w}-{uuid.uuid4().hex[:6]}.db'}"
                elif pg_url is None:
                    continue
                else:
                    url = pg_url
                print(f"[Amanah, {w} worker(s), {database}]", file=sys.stderr)
                with amanah_server(setup, w, database, url, members) as server:
                    first = database == databases[0] and w == workers[0]
                    floor: dict[str, Any] | None = {} if first else None
                    rows.append(measure(server, args, rates, floor))
                    if floor is not None:
                        results["client_floor"] = floor
                save()
                if database == "sqlite":
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        # the same run without pinning its workers: what `amanah serve --pin` is worth
        w, database = workers[0], databases[0]
        url = pg_url if database == "postgresql" and pg_url else f"sqlite:///{DATA / 'unpinned.db'}"
        print(f"[Amanah --no-pin, {w} worker(s), {database}]", file=sys.stderr)
        with amanah_server(setup, w, database, url, members, pin=False) as server:
            rows.append(measure(server, args, [TARGET_RATE]))
        Path(DATA / "unpinned.db").unlink(missing_ok=True)
        save()
        # the key figures again, at the end: MLflow and Amanah with the first settings
        print("[again: key figures]", file=sys.stderr)
        w, database = workers[0], databases[0]
        url = pg_url if database == "postgresql" and pg_url else f"sqlite:///{DATA / 'again.db'}"
        again: dict[str, Any] = {}
        with mlflow_server(setup, w, mlflow_bodies) as server:
            check_answers(server)
            run_wrk(server, 8, 2)
            again["mlflow_shipped_rps"] = median_wrk(server, args.connections[0], args.duration,
                                                     args.repeat)["rps"]  # fmt: skip
            pin_busiest(server)
            run_wrk(server, 8, 2)
            again["mlflow_pinned_rps"] = median_wrk(server, args.connections[0], args.duration,
                                                    args.repeat)["rps"]  # fmt: skip
        again["mlflow_rps"] = max(again["mlflow_shipped_rps"], again["mlflow_pinned_rps"])
        with amanah_server(setup, w, database, url, members) as server:
            check_answers(server)
            run_wrk(server, 8, 2)
            again["amanah_rps"] = median_wrk(server, args.connections[0], args.duration,
                                             args.repeat)["rps"]  # fmt: skip
            settle(server)
            again["open_loop"] = open_loop(server, TARGET_RATE, args.duration)
        Path(DATA / "again.db").unlink(missing_ok=True)
        again.update(
            workers=w,
            database=database,
            ratio=again["amanah_rps"] / again["mlflow_rps"],
            ratio_to_shipped=again["amanah_rps"] / again["mlflow_shipped_rps"],
        )
        results["again"] = again
    save()
    print(f"\nModel: {setup['trees']} trees, {setup['features_count']} features; one application "
          f"per request; {len(members):,} members rotated.")  # fmt: skip
    show(rows, args)
    floor = results.get("client_floor", {})
    if floor:
        print("\nOpen-loop client floor (Amanah /healthz): "
              + "; ".join(f"{k}/s p50 {v['p50_ms']:.1f} ms p99 {v['p99_ms']:.1f} ms"
                          for k, v in floor.items()))  # fmt: skip
    print("\n| open loop (Amanah) | " + " | ".join(f"{r:g}/s p50 / p99 / max ms" for r in rates)
          + " |")  # fmt: skip
    print("|---|" + "---:|" * len(rates))
    for r in rows:
        if not r["server"].startswith("Amanah"):
            continue
        cells = [r["open_loop"].get(f"{x:g}") for x in rates]  # the --no-pin run: 200/s only
        print(f"| {r['server']}, {r['workers']} worker(s), {r['database']} | " + " | ".join(
            "-" if c is None else f"{c['p50_ms']:.1f} / {c['p99_ms']:.1f} / {c['max_ms']:.0f}"
            + (f" ({c['failed']:.0f} failed)" if c["failed"] else "") for c in cells) + " |")  # fmt: skip
    a = results["again"]
    met_ratio = a["ratio"] >= TARGET_RATIO
    met_p99 = a["open_loop"]["p99_ms"] < TARGET_P99_MS
    print(f"\nAgain at the end ({a['workers']} worker(s), {a['database']}): Amanah "
          f"{a['amanah_rps']:,.0f} req/s, MLflow {a['mlflow_shipped_rps']:,.0f} req/s as shipped "
          f"({a['ratio_to_shipped']:.1f}x) and {a['mlflow_pinned_rps']:,.0f} pinned; ratio to the "
          f"better {a['ratio']:.1f}x (target >= {TARGET_RATIO:g}x: "
          f"{'met' if met_ratio else 'missed'}); "
          f"open-loop {TARGET_RATE}/s p99 {a['open_loop']['p99_ms']:.1f} ms (target < "
          f"{TARGET_P99_MS:g} ms: {'met' if met_p99 else 'missed'})")  # fmt: skip


if __name__ == "__main__":
    main()
