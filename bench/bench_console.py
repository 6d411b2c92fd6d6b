"""Benchmark: the officer console's page weight and server time, against the API's answer
for the same score on the same server in the same run.

    .venv/bin/python bench/bench_console.py [--requests 200] [--repeat 3]

Setup: the city, features and registered champion of bench/bench_api.py (cached in
/tmp/amanah-bench-api), a fresh SQLite store with a partner (key, grants, consents) and a
bench officer, and `amanah serve` (1 worker) started on it with AMANAH_LEDGER_DIR set.

Weight: every console page fetched once over loopback, as the browser gets it: the HTML
bytes plus the stylesheet (the console has no script and no image file; charts are
inline SVG). Gzip sizes are shown too, but the server sends plain bytes: the plain size
is what crosses the wire. Target: at most 100 KB per page.

Server time: `--requests` sequential GETs of one application's result page, timed on the
client over loopback (so an upper bound of the server's own time), median and p95 of
`--repeat` runs; the peer is the API's `GET /v1/scores/{id}` of a score of the same member
with the same loan, on the same server. Target: result page p95 under 50 ms. Scoring
itself (console POST vs API POST) is timed the same way with fewer requests. Results go to
bench/results/console.json.
"""

from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import json
import os
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_api import (  # noqa: E402
    DATA,
    LOAN,
    PII_KEY,
    _post,
    free_port,
    model_and_store,
    prepare_database,
    running,
)

PASSWORD = "bench-console-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_KB, TARGET_P95_MS = 100, 50.0


class Browser:
    """Cookies and form posts, as a browser with no script would make them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, bytes, str]:
        with self.opener.open(self.base + path, timeout=60) as answer:
            return int(answer.status), answer.read(), answer.geturl()

    def post(self, path: str, form: dict[str, str]) -> tuple[int, bytes, str]:
        data = urllib.parse.urlencode(form).encode()
        with self.opener.open(self.base + path, data, timeout=60) as answer:
            return int(answer.status), answer.read(), answer.geturl()

    def csrf(self, path: str) -> str:
        found = CSRF.search(self.get(path)[1].decode())
        assert found is not None, f"no csrf token on {path}"
        return found.group(1)


def timed(call: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def prepare(url: str, members: list[tuple[str, str]]) -> str:
    key = prepare_database(url, members)
    from serving.officers import add_officer
    from serving.store import make_engine, sessions

    engine = make_engine(url)
    with sessions(engine)() as session:
        add_officer(session, cooperative_id=members[0][0], username="bench",
                    display_name="Bench", password=PASSWORD, role="supervisor",
                    actor="bench")  # fmt: skip
        session.commit()
    engine.dispose()
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup = model_and_store()
    from features.profile_store import ProfileStore

    store = ProfileStore(Path(setup["features"]))
    coop = sorted({m.rpartition("-")[0] for m in store.members()})[0]
    numbers = [m.removeprefix(f"{coop}-") for m in store.members(coop)[:20]]
    members = [(coop, n) for n in numbers]
    work = DATA / "console"
    work.mkdir(exist_ok=True)
    database = work / "console.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    key = prepare(url, members)
    port = free_port()
    env = {
        **os.environ, "AMANAH_DATABASE_URL": url, "AMANAH_PII_KEY": PII_KEY,
        "AMANAH_FEATURES_DIR": setup["features"], "AMANAH_LEDGER_DIR": str(DATA / "ledger"),
        "AMANAH_MODEL_URI": "models:/amanah-pd@champion",
        "AMANAH_MLFLOW_TRACKING_URI": setup["uri"], "AMANAH_ENVIRONMENT": "development",
        "AMANAH_RATE_LIMIT_PER_MINUTE": "0", "AMANAH_MEMBER_SCORES_PER_DAY": "0",
        "AMANAH_IMPORTS_DIR": str(work / "imports"),
        "AMANAH_MODEL_CACHE_DIR": str(work / "model-cache"),
    }  # fmt: skip
    cmd = [sys.executable, "-m", "serving.cli", "serve", "--port", str(port), "--workers", "1"]
    base = f"http://127.0.0.1:{port}"
    with running(cmd, env, f"{base}/readyz", work / "server.log"):
        results = measure(base, key, coop, numbers, args)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "console.json").write_text(json.dumps(results, indent=2))
    show(results)


def measure(
    base: str, key: str, coop: str, numbers: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    browser = Browser(base)
    browser.post("/console/login", {"username": "bench", "password": PASSWORD,
                                    "csrf_token": browser.csrf("/console/login")})  # fmt: skip
    number = numbers[0]
    form = {"amount": f"{LOAN['amount']:,}".replace(",", "."), "tenor_months": "12",
            "purpose": "business_expansion", "product": "working_capital",
            "flat_rate_percent": "1,5"}  # fmt: skip

    def console_score(n: str = number) -> str:
        token = browser.csrf(f"/console/members/{n}/apply")
        _, _, where = browser.post(f"/console/members/{n}/apply", {**form, "csrf_token": token})
        return where.removeprefix(base)

    headers = {"Authorization": f"Bearer {key}"}
    body = json.dumps({"member": {"cooperative_id": coop, "member_number": number}, "loan": LOAN})

    def api_score() -> str:
        status, said = _post(f"{base}/v1/scores", body, headers)
        assert status == 201, said
        return str(json.loads(said)["id"])

    result_path = console_score()
    score_id = result_path.rsplit("/", 1)[1]
    decision_token = CSRF.search(browser.get(result_path)[1].decode())
    api_id = api_score()
    # one decided application, so the queue, letter and portfolio show a decision
    browser.post(f"{result_path}/decision", {"decision": "refer", "reason": "bench",
                                             "csrf_token": decision_token.group(1) if decision_token else ""})  # fmt: skip
    css = browser.get("/console/static/console.css")[1]
    pages = {
        "login": "/console/login", "home": "/console/", "search": "/console/members?q=a",
        "member": f"/console/members/{number}", "apply": f"/console/members/{number}/apply",
        "result": result_path, "letter": f"{result_path}/letter",
        "queue": "/console/applications", "collections": "/console/collections",
        "portfolio": "/console/portfolio", "import": "/console/import",
    }  # fmt: skip
    weights = {}
    for name, path in pages.items():
        status, html, _ = browser.get(path)
        assert status == 200, (name, status)
        weights[name] = {
            "html_bytes": len(html), "css_bytes": len(css), "total_bytes": len(html) + len(css),
            "total_gzip_bytes": len(gzip.compress(html)) + len(gzip.compress(css)),
        }  # fmt: skip
    api_request = urllib.request.Request(f"{base}/v1/scores/{api_id}", headers=headers)

    def api_get() -> None:
        with urllib.request.urlopen(api_request, timeout=30) as answer:
            answer.read()

    def page_get() -> None:
        browser.get(result_path)

    for call in (api_get, page_get):  # warm
        timed(call, 20)
    runs: dict[str, list[dict[str, float]]] = {"result_page": [], "api_get": []}
    scoring: dict[str, list[float]] = {"console_post": [], "api_post": []}
    for _ in range(args.repeat):
        for name, call in (("result_page", page_get), ("api_get", api_get)):
            ms = timed(call, args.requests)
            runs[name].append({"p50_ms": statistics.median(ms), "p95_ms": p95(ms)})
        scoring["console_post"] += timed(lambda: console_score(numbers[1]), 20)
        scoring["api_post"] += timed(api_score, 20)
    summary = {
        name: {
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "p95_ms": statistics.median(r["p95_ms"] for r in rs),
        }
        for name, rs in runs.items()
    }
    summary.update(
        {name: {"p50_ms": statistics.median(ms), "p95_ms": p95(ms)} for name, ms in scoring.items()}
    )
    return {"weights": weights, "times": summary, "score_id": score_id,
            "requests": args.requests, "repeat": args.repeat}  # fmt: skip


def show(results: dict[str, Any]) -> None:
    print("\nPage weight (HTML + stylesheet, bytes as sent; gzip for reference)")
    print(f"{'page':<12} {'HTML':>8} {'total':>8} {'gzip':>7}  target <= {TARGET_KB} KB")
    for name, w in results["weights"].items():
        ok = "met" if w["total_bytes"] <= TARGET_KB * 1024 else "MISSED"
        print(f"{name:<12} {w['html_bytes']:>8,} {w['total_bytes']:>8,} "
              f"{w['total_gzip_bytes']:>7,}  {ok}")  # fmt: skip
    t = results["times"]
    page, api = t["result_page"], t["api_get"]
    print(f"\nServer time over loopback, {results['requests']} requests x {results['repeat']} "
          "runs (median of runs)")  # fmt: skip
    print(
        f"result page   p50 {page['p50_ms']:.1f} ms  p95 {page['p95_ms']:.1f} ms  "
        f"(target p95 < {TARGET_P95_MS:.0f} ms: {'met' if page['p95_ms'] < TARGET_P95_MS else 'MISSED'})"
    )
    print(
        f"API GET score p50 {api['p50_ms']:.1f} ms  p95 {api['p95_ms']:.1f} ms  "
        f"page/API p95 ratio {page['p95_ms'] / api['p95_ms']:.2f}x"
    )
    cp, ap = t["console_post"], t["api_post"]
    print(
        f"scoring: console POST p50 {cp['p50_ms']:.1f} ms p95 {cp['p95_ms']:.1f} ms; "
        f"API POST p50 {ap['p50_ms']:.1f} ms p95 {ap['p95_ms']:.1f} ms "
        f"(console/API p50 {cp['p50_ms'] / ap['p50_ms']:.2f}x)"
    )


if __name__ == "__main__":
    main()
