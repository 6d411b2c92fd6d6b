"""The officer console in-process (TestClient, SQLite): login, lock-out, CSRF, tenancy,
the application -> result -> decision -> letter path with its audit entries, the queue by
role, the book pages and the language switch. The real server in a real browser is
tests/browser; this file pins the rules page by page."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from features.ledger.store import Ledger
from features.profile_store import ProfileStore
from serving.app import create_app
from serving.audit import verify
from serving.config import load_settings
from serving.officers import add_officer
from serving.store.tables import AuditEntry, ConsoleSession, Decision, Score
from tests.conftest import PII_KEY

if TYPE_CHECKING:
    from models.training import TrainingResult

PASSWORD = "kata-sandi-uji-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Console:
    app: FastAPI
    coop: str
    other_coop: str
    number: str  # a member of `coop` with a profile
    other_number: str  # a member of `other_coop`
    name: str


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory,
    trained: TrainingResult,
    medium_features: Path,
    medium_ledger: Path,
) -> Console:
    tmp = tmp_path_factory.mktemp("console")
    settings = load_settings(
        database_url=f"sqlite:///{tmp / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features, ledger_dir=medium_ledger,
        imports_dir=tmp / "imports", model_cache_dir=tmp / "cache",
        mlflow_tracking_uri=f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
    )  # fmt: skip
    app = create_app(settings, trained.model)
    store = ProfileStore(medium_features)
    coops = sorted({m.rpartition("-")[0] for m in store.members()})
    coop, other = coops[0], coops[1]
    member_id = store.members(coop)[0]
    members = Ledger(medium_ledger).read("members", coop)
    name = str(members.loc[members["member_id"] == member_id, "name"].iloc[0])
    with app.state.sessions() as session:
        for username, role, where in (
            ("siti", "officer", coop), ("budi", "supervisor", coop), ("eko", "officer", other),
            ("lina", "officer", coop),
        ):  # fmt: skip
            add_officer(
                session, cooperative_id=where, username=username, display_name=username.title(),
                password=PASSWORD, role=role, actor="test",
            )  # fmt: skip
        session.commit()
    other_number = store.members(other)[0].removeprefix(f"{other}-")
    return Console(app, coop, other, member_id.removeprefix(f"{coop}-"), other_number, name)


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no csrf_token in the page"
    return found.group(1)


def _login(app: FastAPI, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": _csrf(page.text)},
    )
    return client, answer.text if answer.status_code != 303 else answer.headers["location"]


def _logged_in(app: FastAPI, username: str = "siti") -> TestClient:
    client, where = _login(app, username)
    assert where == "/console/", where
    return client


def test_pages_need_a_login_and_send_back_to_it(console: Console) -> None:
    client = TestClient(console.app, follow_redirects=False)
    answer = client.get("/console/members?q=a")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=/console/members")


def test_wrong_password_then_lock_out(console: Console) -> None:
    _, said = _login(console.app, "lina", "salah-salah-salah")
    assert 'data-error="bad-login"' in said
    for _ in range(3):
        _login(console.app, "lina", "salah-salah-salah")
    _, fifth = _login(console.app, "lina", "salah-salah-salah")
    assert 'data-error="locked"' in fifth
    _, right = _login(console.app, "lina")  # the right password is refused while locked
    assert 'data-error="locked"' in right


def test_login_form_without_its_csrf_cookie_is_refused(console: Console) -> None:
    client = TestClient(console.app, follow_redirects=False)
    answer = client.post("/console/login", data={"username": "siti", "password": PASSWORD})
    assert answer.status_code == 403
    assert 'data-error="csrf"' in answer.text


def test_search_by_name_and_number_and_the_member_page(console: Console) -> None:
    client = _logged_in(console.app)
    by_name = client.get("/console/members", params={"q": console.name.split()[0].lower()})
    assert f'data-member="{console.number}"' in by_name.text
    by_number = client.get("/console/members", params={"q": console.number})
    assert f'data-member="{console.number}"' in by_number.text
    page = client.get(f"/console/members/{console.number}")
    assert page.status_code == 200
    assert console.name in page.text
    assert "<svg" in page.text and 'data-five-c="character"' in page.text
    assert 'id="new-application"' in page.text


def test_another_cooperatives_member_is_not_found(console: Console) -> None:
    """Member numbers repeat across cooperatives ("A00001" in each): another
    cooperative's member is named by her whole member id, and is not found."""
    client = _logged_in(console.app)
    other = f"{console.other_coop}-{console.other_number}"
    for path in (f"/console/members/{other}", f"/console/members/{other}/apply",
                 "/console/members/A99999"):  # fmt: skip
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert 'data-error="not-found"' in answer.text
    mine = client.get(f"/console/members/{console.coop}-{console.number}")
    assert mine.status_code == 200  # her own member by whole id works


def _apply(client: TestClient, console: Console, amount: str = "5.000.000") -> str:
    form = client.get(f"/console/members/{console.number}/apply")
    answer = client.post(
        f"/console/members/{console.number}/apply",
        data={
            "csrf_token": _csrf(form.text), "amount": amount, "tenor_months": "12",
            "purpose": "stock", "product": "working_capital", "flat_rate_percent": "1,5",
            "declared_income": "Rp 4.000.000", "declared_expenses": "",
        },
    )  # fmt: skip
    assert answer.status_code == 303, answer.text[:500]
    return answer.headers["location"]


def test_bad_application_fields_are_named(console: Console) -> None:
    client = _logged_in(console.app)
    form = client.get(f"/console/members/{console.number}/apply")
    answer = client.post(
        f"/console/members/{console.number}/apply",
        data={"csrf_token": _csrf(form.text), "amount": "lima juta", "tenor_months": "99",
              "purpose": ""},
    )  # fmt: skip
    assert answer.status_code == 422
    for field in ("amount", "tenor_months", "purpose"):
        assert f'data-field-error="{field}"' in answer.text
    assert 'value="lima juta"' in answer.text  # what she typed is shown again


def test_apply_score_decide_and_letter_audited(console: Console) -> None:
    client = _logged_in(console.app)
    where = _apply(client, console)
    score_id = where.rsplit("/", 1)[1]
    page = client.get(where)
    assert page.status_code == 200
    for mark in ("data-grade=", "data-pd=", "data-score=", "data-recommendation=",
                 "data-model-version=", "data-review-note", 'id="decision-form"'):  # fmt: skip
        assert mark in page.text, mark
    with console.app.state.sessions() as session:
        row = session.get(Score, score_id)
        assert row is not None and row.partner_id is None and row.answer["request_id"]
        assert row.cooperative_id == console.coop
        recommended = row.decision
    override = next(d for d in ("approve", "decline", "refer") if d != recommended)
    csrf = _csrf(page.text)
    refused = client.post(f"{where}/decision", data={"csrf_token": csrf, "decision": override})
    assert refused.status_code == 422 and 'data-field-error="reason"' in refused.text
    done = client.post(
        f"{where}/decision",
        data={"csrf_token": csrf, "decision": override, "reason": "Usaha baru diperluas."},
    )
    assert done.status_code == 303
    decided = client.get(where)
    assert f'data-decided="{override}"' in decided.text and "data-overridden" in decided.text
    again = client.post(f"{where}/decision", data={"csrf_token": csrf, "decision": recommended})
    assert again.status_code == 422  # one decision per application
    letter = client.get(f"{where}/letter")
    assert "data-letter" in letter.text and "data-review-right" in letter.text
    with console.app.state.sessions() as session:
        decision = session.scalars(select(Decision).where(Decision.score_id == score_id)).one()
        assert decision.by_person and decision.overridden and decision.decision == override
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == score_id)
        ).all()
        assert sorted(actions) == ["decision.create", "score.create"]
        assert verify(session).intact
        canonicals = " ".join(session.scalars(select(AuditEntry.canonical)).all())
    assert console.name not in canonicals and console.number not in canonicals
    assert "Usaha baru" not in canonicals  # the reason is digested, not copied


def test_forms_without_the_session_csrf_token_are_refused(console: Console) -> None:
    client = _logged_in(console.app)
    answer = client.post(
        f"/console/members/{console.number}/apply",
        data={"amount": "5.000.000", "tenor_months": "12", "purpose": "stock"},
    )
    assert answer.status_code == 403 and 'data-error="csrf"' in answer.text
    with console.app.state.sessions() as session:
        before = session.scalars(select(Score.id)).all()
    forged = client.post(
        f"/console/members/{console.number}/apply",
        data={"csrf_token": "x" * 43, "amount": "5.000.000", "tenor_months": "12",
              "purpose": "stock"},
    )  # fmt: skip
    assert forged.status_code == 403
    with console.app.state.sessions() as session:
        assert session.scalars(select(Score.id)).all() == before


def test_queue_by_role_and_tenancy_of_results(console: Console) -> None:
    siti = _logged_in(console.app)
    where = _apply(siti, console, "3.000.000")
    score_id = where.rsplit("/", 1)[1]
    assert f'data-application="{score_id}"' in siti.get("/console/applications").text
    eko = _logged_in(console.app, "eko")
    assert eko.get(where).status_code == 404  # another cooperative's application
    assert score_id not in eko.get("/console/applications").text
    budi = _logged_in(console.app, "budi")
    listed = budi.get("/console/applications", params={"status": "pending"})
    assert f'data-application="{score_id}"' in listed.text
    assert 'name="overridden"' in listed.text  # the supervisor's filter
    assert 'name="overridden"' not in siti.get("/console/applications").text


def test_collections_and_portfolio_pages(console: Console) -> None:
    client = _logged_in(console.app)
    collections = client.get("/console/collections")
    assert collections.status_code == 200 and "<h1>" in collections.text
    portfolio = client.get("/console/portfolio")
    assert portfolio.status_code == 200
    for band in range(1, 6):
        assert f'data-kol-band="{band}"' in portfolio.text
    assert "data-expected-loss=" in portfolio.text
    # the book under stress: every scenario, none covering more than the book as it stands
    coverage = dict(re.findall(r'data-scenario="(\w+)".*?data-coverage="([\d.]+)"',
                               portfolio.text))  # fmt: skip
    assert set(coverage) == {"base", "west_monsoon", "bad_month", "shocks"}
    assert float(coverage["base"]) > 0
    assert all(float(v) <= float(coverage["base"]) for v in coverage.values())
    assert "Musim angin barat" in portfolio.text


def test_language_switch_is_remembered(console: Console) -> None:
    client = _logged_in(console.app)
    switched = client.get("/console/members?q=a&lang=en")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/console/members?q=a"
    page = client.get("/console/members?q=a")
    assert '<html lang="en">' in page.text and "Search results" in page.text
    client.get("/console/?lang=id")
    assert '<html lang="id">' in client.get("/console/").text


def test_an_expired_session_goes_back_to_the_login(console: Console) -> None:
    client = _logged_in(console.app)
    with console.app.state.sessions() as session:
        session.execute(
            update(ConsoleSession).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        session.commit()
    answer = client.get("/console/")
    assert answer.status_code == 303 and "expired=1" in answer.headers["location"]
    login = client.get(answer.headers["location"])
    assert 'data-notice="expired"' in login.text


def test_logout_ends_the_session(console: Console) -> None:
    client = _logged_in(console.app)
    home = client.get("/console/")
    out = client.post("/console/logout", data={"csrf_token": _csrf(home.text)})
    assert out.status_code == 303
    assert client.get("/console/").status_code == 303


def _upload(client: TestClient, files: dict[str, str]) -> tuple[int, str]:
    page = client.get("/console/import")
    answer = client.post(
        "/console/import",
        data={"csrf_token": _csrf(page.text)},
        files=[("files", (name, text.encode(), "text/csv")) for name, text in files.items()],
    )
    return answer.status_code, answer.text


def test_import_reports_counts_and_gives_the_quarantine_workbook(console: Console) -> None:
    from openpyxl import load_workbook

    from tests.test_quarantine_book import ANGGOTA, KOPERASI, PINJAMAN

    client = _logged_in(console.app)
    own = {
        "01_koperasi.csv": KOPERASI.replace("KMP-TRT", console.coop),
        "Data Anggota.csv": ANGGOTA, "pinjaman.csv": PINJAMAN,
    }  # fmt: skip
    status, page = _upload(client, own)
    assert status == 200, page[:400]
    counts = {
        table: [int(n) for n in re.findall(rf'data-{what}="(\d+)"', row)]
        for table, row in re.findall(r'<tr data-table="(\w+)">(.*?)</tr>', page)
        for what in ("read",)
    }
    assert counts["members"] == [4] and counts["loans"] == [4]
    assert 'data-quarantined="3"' in page  # the loans with a bad amount, tenor, member
    link = re.search(r'href="(/console/import/imp_[0-9a-f]+/quarantine\.xlsx)"', page)
    assert link is not None
    workbook = client.get(link.group(1))
    assert workbook.status_code == 200
    sheets = load_workbook(io.BytesIO(workbook.content)).sheetnames
    assert "pinjaman" in sheets and "anggota" in sheets
    # another officer's cooperative cannot fetch it
    assert _logged_in(console.app, "eko").get(link.group(1)).status_code == 404


def test_import_of_another_cooperative_is_refused(console: Console) -> None:
    from tests.test_quarantine_book import ANGGOTA, KOPERASI

    client = _logged_in(console.app)
    status, page = _upload(client, {"koperasi.csv": KOPERASI, "anggota.csv": ANGGOTA})
    assert status == 422 and 'data-error="other-cooperative"' in page
    status, page = _upload(client, {"notes.txt": "hello"})
    assert status == 422 and 'data-error="import"' in page


def test_access_log_paths_lose_members_and_queries() -> None:
    import logging

    from serving.log_redaction import RedactPersonalPaths, redact_path

    assert redact_path("/console/members/A00001/apply") == "/console/members/…/apply"
    assert redact_path("/console/members?q=siti") == "/console/members?…"
    assert redact_path("/v1/scores") == "/v1/scores"
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/console/members/A00001", "1.1", 200), None,
    )  # fmt: skip
    assert RedactPersonalPaths().filter(record)
    assert "A00001" not in record.getMessage() and "/console/members/…" in record.getMessage()


def test_demo_officers_log_in_and_a_second_demo_gives_new_passwords(console: Console) -> None:
    from serving.demo_access import open_demo_officers

    with console.app.state.sessions() as session:
        first = open_demo_officers(session, console.coop)
    assert [(u, r) for u, r, _ in first] == [("petugas", "officer"), ("pengawas", "supervisor")]
    for username, _, password in first:
        assert _login(console.app, username, password)[1] == "/console/"
    with console.app.state.sessions() as session:
        second = open_demo_officers(session, console.coop)
    assert all(a[2] != b[2] for a, b in zip(first, second, strict=True))
    assert "data-error" in _login(console.app, "petugas", first[0][2])[1]  # old one refused
    assert _login(console.app, "petugas", second[0][2])[1] == "/console/"


def test_the_validation_report_of_the_registered_model(
    tmp_path: Path, trained: TrainingResult, medium_features: Path, medium_ledger: Path
) -> None:
    """The portfolio's link: the served registered version's report, from its MLflow run."""
    from models.registry import log_training

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    log_training(trained, source="test", uri=uri)  # version 1, with its report
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'amanah.db'}", environment="development",
        pii_key=PII_KEY.decode(), features_dir=medium_features, ledger_dir=medium_ledger,
        model_uri="models:/amanah-pd/1", mlflow_tracking_uri=uri,
        model_cache_dir=tmp_path / "cache", model_check_seconds=0,
    )  # fmt: skip
    app = create_app(settings)
    with app.state.sessions() as session:
        add_officer(session, cooperative_id="KMP-0001", username="rina", display_name="Rina",
                    password=PASSWORD, role="officer", actor="test")  # fmt: skip
        session.commit()
    client = _logged_in(app, "rina")
    report = client.get("/console/model/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "<html" in report.text.lower() and "AUC" in report.text
    assert (tmp_path / "cache" / "reports" / "amanah-pd-1.html").is_file()  # kept for next time
