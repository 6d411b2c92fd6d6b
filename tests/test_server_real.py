"""The real server: `amanah serve --workers 2` on PostgreSQL (and SQLite), scored by many
threads at once. The audit chain never forks across the two worker processes, idempotent
retries make one score, and the server's whole log holds no NIK, member number, member
name or API key, whatever the requests carried (UU PDP: nothing personal in logs)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from features.ledger.store import Ledger
from features.profile_store import ProfileStore
from serving.audit import verify_url
from serving.security import member_ref_from_number
from serving.store import make_engine, repo, sessions, upgrade
from serving.store.tables import AuditEntry, Score
from tests.conftest import PII_KEY
from tests.helpers import free_port

if TYPE_CHECKING:
    from models.training import TrainingResult

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "test-admin"
MEMBERS = 12
THREADS = 8
REQUESTS = 96
NIK_SENT = "3171234567890123"  # 16 digits, as a partner might send by mistake
NIK_SPACED = "3171 2345 6789 0124"


@dataclass(frozen=True)
class Served:
    base: str
    url: str
    key: str
    revoked_key: str
    members: list[tuple[str, str]]
    log: Path
    pid: int


def _seed(url: str, features: Path) -> tuple[str, str, list[tuple[str, str]]]:
    """A partner with a key, a revoked key, a grant and consents for MEMBERS members."""
    upgrade(url)
    engine = make_engine(url)
    store = ProfileStore(features)
    coop = sorted({m.rpartition("-")[0] for m in store.members()})[0]
    numbers = [m.rpartition("-")[2] for m in store.members(coop)[:MEMBERS]]
    try:
        with sessions(engine).begin() as session:
            partner = repo.add_partner(session, "Fintech Real", actor=ADMIN)
            key = repo.create_key(session, partner, ["scores:write", "scores:read"], actor=ADMIN)
            revoked = repo.create_key(session, partner, ["scores:write"], actor=ADMIN)
            repo.revoke_key(session, revoked[0].prefix, actor=ADMIN)
            repo.grant(session, partner, coop, actor=ADMIN)
            now = datetime.now(UTC) - timedelta(seconds=1)
            for number in numbers:
                ref = member_ref_from_number(coop, number, PII_KEY).ref
                repo.give_consent(
                    session, partner, ref, coop, "credit_scoring", now + timedelta(days=30),
                    actor=ADMIN, at=now,
                )  # fmt: skip
    finally:
        engine.dispose()
    return key[1], revoked[1], [(coop, n) for n in numbers]


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not answer within 90 s"
            time.sleep(0.3)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    medium_features: Path,
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"served-{request.param}")
    url = (
        request.getfixturevalue("postgres_database")
        if request.param == "postgresql"
        else f"sqlite:///{tmp / 'amanah.db'}"
    )
    trained.model.save(tmp / "model")
    key, revoked, members = _seed(url, medium_features)
    port = free_port()
    env = {
        **os.environ, "AMANAH_DATABASE_URL": url, "AMANAH_ENVIRONMENT": "development",
        "AMANAH_PII_KEY": PII_KEY.decode(), "AMANAH_FEATURES_DIR": str(medium_features),
        "AMANAH_MODEL_URI": str(tmp / "model"),
        "AMANAH_MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
        "AMANAH_MODEL_CHECK_SECONDS": "0", "AMANAH_RATE_LIMIT_PER_MINUTE": "0",
        "AMANAH_MEMBER_SCORES_PER_DAY": "0",
    }  # fmt: skip
    log = tmp / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "serving.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, server, log)
            yield Served(base, url, key, revoked, members, log, server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def _post(
    served: Served, body: Any, key: str | None, extra: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(extra or {})}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    call = urllib.request.Request(f"{served.base}/v1/scores", data, headers, method="POST")
    try:
        with urllib.request.urlopen(call, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as failed:
        return failed.code, json.load(failed)


def _body(member: tuple[str, str], amount: int = 5_000_000) -> dict[str, Any]:
    coop, number = member
    return {
        "member": {"cooperative_id": coop, "member_number": number},
        "loan": {"amount": amount, "tenor_months": 12, "purpose": "modal usaha"},
    }


def _workers(pid: int) -> list[int]:
    """The uvicorn worker processes of the server `pid` (multiprocessing's spawned
    children; its resource tracker is not one)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    commands = {int(c): Path(f"/proc/{c}/cmdline").read_bytes() for c in children}
    return [c for c, command in commands.items() if b"resource_tracker" not in command]


def _thread_cpus(pid: int) -> set[tuple[int, ...]]:
    """The CPU sets the threads of process `pid` may run on (one entry if all agree)."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return {tuple(sorted(os.sched_getaffinity(int(task.name)))) for task in tasks}


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's")
def test_each_worker_runs_on_a_cpu_of_its_own(served: Served) -> None:
    everywhere = tuple(sorted(os.sched_getaffinity(served.pid)))  # the supervisor: not pinned
    workers = _workers(served.pid)
    assert len(workers) == 2
    per_worker = [_thread_cpus(w) for w in workers]
    if len(everywhere) < 2:  # one CPU: nothing to pin
        assert per_worker == [{everywhere}, {everywhere}]
        return
    assert all(len(cpus) == 1 and len(next(iter(cpus))) == 1 for cpus in per_worker), per_worker
    assert per_worker[0] != per_worker[1]
    assert len(os.listdir(f"/proc/{workers[0]}/task")) > 2  # its threads too, not only its main


def test_two_workers_score_concurrently_into_one_unforked_chain(served: Served) -> None:
    engine = make_engine(served.url)
    try:
        with sessions(engine)() as session:
            before = session.scalar(select(func.count()).select_from(AuditEntry)) or 0

        def one(i: int) -> tuple[int, str, str]:
            # every fourth request is a retry of the one before it: same key, same body
            first = i - 1 if i % 4 == 3 else i
            member = served.members[first % len(served.members)]
            body = _body(member, 5_000_000 + 100_000 * first)
            status, answer = _post(served, body, served.key, {"Idempotency-Key": f"try-{first}"})
            return status, answer.get("id", ""), answer.get("model", {}).get("name", "")

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(one, range(REQUESTS)))
        statuses = [s for s, _, _ in results]
        assert statuses.count(201) == REQUESTS, sorted(set(statuses))
        ids = {score_id for _, score_id, _ in results}
        retries = REQUESTS // 4
        assert len(ids) == REQUESTS - retries  # a retry answers the stored score
        with sessions(engine)() as session:
            scores = session.scalar(select(func.count()).select_from(Score))
            entries = session.scalar(select(func.count()).select_from(AuditEntry))
        assert scores == REQUESTS - retries
        assert entries == before + scores
    finally:
        engine.dispose()
    result = verify_url(served.url)
    assert result.intact, result.detail
    assert result.entries == entries


# what no log line may hold: a NIK (16 digits, also with separators), an API key, a member
# number or a member's name
NIK_LIKE = re.compile(r"(?<!\d)(?:\d[\s.\-]?){15}\d(?!\d)")
KEY_LIKE = re.compile(r"amk_live_[A-Za-z0-9_\-]{8,}")


def personal_data_in(text: str, numbers: list[str], names: list[str]) -> list[str]:
    """Each kind of personal data found in `text` (empty: none)."""
    found = []
    if NIK_LIKE.search(text):
        found.append("a NIK")
    if KEY_LIKE.search(text):
        found.append("an API key")
    found += [f"member number {n}" for n in numbers if re.search(rf"\b{re.escape(n)}\b", text)]
    found += [f"name {n}" for n in names if n and n in text]
    return found


def test_the_log_scan_finds_what_it_looks_for() -> None:
    """The scan itself can fail: each planted kind is found, a clean log passes."""
    planted = (
        'nik=3171234567890123 key "amk_live_ab12cd34ef56" A00017 Siti Rahayu 3171.2345.6789.0124'
    )
    found = personal_data_in(planted, ["A00017"], ["Siti Rahayu"])
    assert found == ["a NIK", "an API key", "member number A00017", "name Siti Rahayu"]
    clean = 'INFO: 127.0.0.1:5 - "POST /v1/scores HTTP/1.1" 201 Created request 0123456789abcdef'
    assert personal_data_in(clean, ["A00017"], ["Siti Rahayu"]) == []


def test_the_servers_log_holds_no_personal_data(served: Served, medium_ledger: Path) -> None:
    coop = served.members[0][0]
    # requests that carry personal data the server must not repeat in its log
    by_nik = {"member": {"nik": NIK_SENT}, "loan": _body(served.members[0])["loan"]}
    assert _post(served, by_nik, served.key)[0] in (404, 422)
    spaced = {"member": {"nik": NIK_SPACED, "extra": "x"}, "loan": {"amount": "lots"}}
    status, problem = _post(served, spaced, served.key)
    assert status == 422 and NIK_SPACED not in json.dumps(problem)
    assert _post(served, _body(served.members[1]), served.revoked_key)[0] == 401
    assert _post(served, _body(served.members[1]), "amk_live_notarealkey0123456789")[0] == 401
    assert _post(served, b'{"member": {"nik": "' + NIK_SENT.encode() + b'"', served.key)[0] == 422
    assert _post(served, _body((coop, "A99999")), served.key)[0] == 404
    assert _post(served, _body(served.members[2]), served.key)[0] == 201
    time.sleep(0.5)  # let the access log flush
    text = served.log.read_text()
    assert "POST /v1/scores" in text  # the log is the server's own and holds the requests
    members = Ledger(medium_ledger).read("members", coop, columns=["member_id", "name"])
    member_ids = [f"{c}-{n}" for c, n in served.members]
    names = members.loc[members["member_id"].isin(member_ids), "name"].astype("str").tolist()
    assert len(names) == len(member_ids)
    numbers = [n for _, n in served.members] + ["A99999"]
    assert personal_data_in(text, numbers, names) == [], text[-3000:]
