"""The officer console in a real browser: the real server (uvicorn in a subprocess, the
model, profiles, ledger and a SQLite store of its own), Debian's Chromium driven by
Playwright, axe-core for accessibility, screenshots for a person to look at.

Chromium comes from Debian (scripts/chromium.sh, sourced by scripts/test.sh), never from
`playwright install`: CI's closed network refuses Playwright's CDN. Without Chromium these
tests fail rather than skip, so CI cannot pass without them."""

from __future__ import annotations

import importlib.resources
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from features.ledger.store import Ledger
from features.profile_store import ProfileStore
from serving.store import make_engine, sessions, upgrade
from tests.conftest import PII_KEY
from tests.helpers import free_port

if TYPE_CHECKING:
    from models.training import TrainingResult

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ENV = "AMANAH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
ARTIFACTS_ENV = "AMANAH_TEST_ARTIFACTS"
# root needs --no-sandbox; the rest keeps Chromium from calling out of the closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDE = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
# test fixtures for a loopback-only server, not secrets
PASSWORDS = {
    "siti": "siti-browser-test-1",
    "budi": "budi-browser-test-1",
    "eko": "eko-browser-test-1",
    "lina": "lina-browser-test-1",
}
SERIOUS = ("serious", "critical")


@dataclass(frozen=True)
class Console:
    """The served console and what the tests know about its world."""

    base: str
    database_url: str
    log: Path
    cooperative_id: str  # siti's, budi's and lina's
    number: str  # a member of it with a profile
    name: str  # that member's name
    other_member: str  # whole member id (<coop>-<number>) of a member of eko's cooperative


def _member_with_profile(profiles: ProfileStore, coop: str) -> str:
    """The member number of the cooperative's first member with a profile."""
    members = profiles.members(coop)
    assert members, f"cooperative {coop} has no member with a profile to test with"
    return members[0].rpartition("-")[2]


def _seed_officers(url: str, first: str, second: str) -> None:
    """siti (officer), budi (supervisor) and lina (officer, for the lock-out test) in the
    first cooperative; eko (officer) in the second."""
    from serving.officers import add_officer

    people = [
        ("siti", "Siti Browser", "officer", first),
        ("budi", "Budi Browser", "supervisor", first),
        ("lina", "Lina Browser", "officer", first),
        ("eko", "Eko Browser", "officer", second),
    ]
    engine = make_engine(url)
    try:
        with sessions(engine)() as session:
            for username, display_name, role, coop in people:
                add_officer(
                    session, cooperative_id=coop, username=username, display_name=display_name,
                    password=PASSWORDS[username], role=role, actor="test",
                )  # fmt: skip
            session.commit()
    finally:
        engine.dispose()


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


@pytest.fixture(scope="package")
def console(
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    medium_features: Path,
    medium_ledger: Path,
) -> Iterator[Console]:
    """The real server on a free port, one for all the browser tests. Package scope: once
    per run like a session fixture, but the server, Chromium and Playwright's own event loop
    end with the last browser test instead of lasting through the rest of the suite."""
    tmp = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{tmp / 'amanah.db'}"
    trained.model.save(tmp / "model")
    ledger = Ledger(medium_ledger)
    first, second = ledger.cooperative_ids()[:2]
    profiles = ProfileStore(medium_features)
    number = _member_with_profile(profiles, first)
    # member numbers repeat across cooperatives (A00001 in each): eko's member is named by
    # the whole member id, which the console also accepts in its URLs
    other_member = f"{second}-{_member_with_profile(profiles, second)}"
    members = ledger.read("members", first, columns=["member_id", "name"])
    name = str(members.loc[members["member_id"] == f"{first}-{number}", "name"].iloc[0])
    upgrade(url)
    _seed_officers(url, first, second)
    port = free_port()
    env = {
        **os.environ, "AMANAH_DATABASE_URL": url, "AMANAH_ENVIRONMENT": "development",
        "AMANAH_PII_KEY": PII_KEY.decode(), "AMANAH_FEATURES_DIR": str(medium_features),
        "AMANAH_LEDGER_DIR": str(medium_ledger), "AMANAH_MODEL_URI": str(tmp / "model"),
        "AMANAH_IMPORTS_DIR": str(tmp / "imports"),
        "AMANAH_MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
        "AMANAH_MODEL_CHECK_SECONDS": "0", "AMANAH_RATE_LIMIT_PER_MINUTE": "0",
        "AMANAH_MEMBER_SCORES_PER_DAY": "0",
    }  # fmt: skip
    log = tmp / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "serving.app:create_app", "--factory",
                "--host", "127.0.0.1", "--port", str(port),
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, server, log)
            yield Console(base, url, log, first, number, name, other_member)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, once for the browser tests; missing, they fail (never skip)."""
    executable = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    if not Path(executable).is_file():
        pytest.fail(
            f"Chromium not found at {executable} ({CHROMIUM_ENV}): install Debian's chromium "
            "package with `bash scripts/chromium.sh` (scripts/test.sh sources it); the "
            "browser tests never skip"
        )
    try:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:
        pytest.fail(f"Chromium at {executable} did not start: {exc}")
    try:
        yield launched
    finally:
        launched.close()


def new_context(browser: Browser, width: int = WIDE["width"], height: int = 900) -> BrowserContext:
    """A context of its own (cookies, storage) at `width` px. CSP is bypassed only so that
    axe-core can be injected as an inline script."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=True, locale="id-ID"
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh context per test: no cookie of another test leaks in."""
    made = new_context(browser)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def login(page: Page, base: str, username: str, password: str) -> int:
    """Fill and send the login form; the status of the page the browser lands on."""
    page.goto(f"{base}/console/login")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", password)
    with page.expect_navigation() as landed:
        page.click("#login-form button[type=submit]")
    response = landed.value
    assert response is not None, "the login form did not navigate"
    return response.status


def _axe_script() -> Path:
    found = importlib.resources.files("axe_playwright_python").joinpath("axe.min.js")
    path = Path(str(found))
    assert path.is_file(), f"axe.min.js not found in axe_playwright_python ({path})"
    return path


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(_axe_script()))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in violations if v.get("impact") in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> list[str]:
    """One line per violation: rule id, impact, help and the first target."""
    lines = []
    for v in violations:
        nodes = v.get("nodes") or [{}]
        target = nodes[0].get("target") or ["?"]
        lines.append(f"{v.get('id')} ({v.get('impact')}): {v.get('help')} at {target[0]}")
    return lines


def assert_accessible(page: Page, name: str) -> None:
    found = describe(axe(page))
    assert not found, f"{name} ({page.url}) has accessibility violations:\n" + "\n".join(found)


def artifacts_dir() -> Path:
    """`$AMANAH_TEST_ARTIFACTS`, else test-artifacts/ of the repository (git-ignored)."""
    configured = os.environ.get(ARTIFACTS_ENV)
    return Path(configured) if configured else ROOT / "test-artifacts"


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG at the current viewport, `screenshots/<name>-<width>.png`."""
    size = page.viewport_size
    width = size["width"] if size else 0
    folder = artifacts_dir() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
