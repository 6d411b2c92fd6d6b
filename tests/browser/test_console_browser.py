"""The officer console driven in Chromium, page by page, by the console's contract (URL
map, form fields and data- attributes): log-in and lock-out, search, member page, scoring
an application, deciding and overriding, the printed letter, the language switch, the
cooperative boundary, CSRF, session expiry, the supervisor's view, and every page at a
phone's and a desk's width with axe-core and a screenshot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Response
from sqlalchemy import select, update

from features.ledger.enums import LoanPurpose
from serving.store import make_engine, sessions
from tests.browser.conftest import (
    PASSWORDS,
    Console,
    assert_accessible,
    login,
    new_context,
    screenshot,
)

DECISIONS = ("approve", "refer", "decline")
FIVE_C = {"character", "capacity", "capital", "collateral", "condition"}
PURPOSE = LoanPurpose.STOCK.value  # the ledger's values
RESULT_PATH = re.compile(r"/console/applications/([^/?#]+)$")


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def _navigated(page: Page, selector: str) -> Response:
    """Click `selector` and return the response of the page it leads to."""
    with page.expect_navigation() as landed:
        page.click(selector)
    response = landed.value
    assert response is not None, f"clicking {selector} on {page.url} did not navigate"
    return response


def _as(page: Page, console: Console, username: str) -> None:
    login(page, console.base, username, PASSWORDS[username])
    assert _path(page) == "/console/", f"{username} did not land on the home page: {page.url}"


def _apply(page: Page, console: Console, amount: str = "5.000.000") -> str:
    """Fill and send the application form for the test member; the new score's id."""
    page.goto(f"{console.base}/console/members/{console.number}/apply")
    form = page.locator("#application-form")
    form.locator("input[name=amount]").fill(amount)
    form.locator("input[name=tenor_months]").fill("12")
    form.locator("select[name=purpose]").select_option(PURPOSE)
    form.locator("input[name=declared_income]").fill("4.000.000")
    form.locator("input[name=declared_expenses]").fill("1.500.000")
    form.locator("input[type=checkbox][name=income_verified]").check()
    response = _navigated(page, "#application-form [type=submit]")
    found = RESULT_PATH.search(_path(page))
    assert found and response.status == 200, (
        f"the application did not land on a result page: {response.status} {page.url}"
    )
    return found.group(1)


def _recommendation(page: Page) -> str:
    value = page.locator("[data-recommendation]").first.get_attribute("data-recommendation")
    assert value in DECISIONS, f"data-recommendation={value!r} on {page.url}"
    return value


def _decide(page: Page, decision: str, reason: str = "") -> Response:
    """Choose `decision` on the result page, write `reason` (if any) and send."""
    form = page.locator("#decision-form")
    form.locator(f"input[name=decision][value={decision}]").check()
    if reason:
        form.locator("textarea[name=reason]").fill(reason)
    return _navigated(page, "#decision-form [type=submit]")


def _override(page: Page, console: Console, score_id: str) -> str:
    """Decide against the recommendation, with a reason; the decision taken."""
    page.goto(f"{console.base}/console/applications/{score_id}")
    other = next(d for d in DECISIONS if d != _recommendation(page))
    _decide(page, other, "Anggota dikenal baik oleh kelompok tanggung renteng")
    assert page.locator(f'[data-decided="{other}"]').is_visible(), page.url
    return other


def test_login_lands_on_home(page: Page, console: Console) -> None:
    assert login(page, console.base, "siti", PASSWORDS["siti"]) == 200
    assert _path(page) == "/console/"
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("main#main h1").count() == 1
    assert page.locator("form#search-form input[name=q]").is_visible()
    assert page.locator("form#logout-form").is_visible()
    session = [c for c in page.context.cookies() if c["name"] == "amanah_session"]
    assert len(session) == 1 and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"


def test_wrong_password_shows_bad_login(page: Page, console: Console) -> None:
    assert login(page, console.base, "siti", "not-her-password") == 200
    assert _path(page) == "/console/login"
    assert page.locator('[data-error="bad-login"]').is_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "amanah_session"]
    # one slip does not lock her out
    login(page, console.base, "siti", PASSWORDS["siti"])
    assert _path(page) == "/console/"


def test_five_wrong_passwords_lock_even_the_right_one_out(page: Page, console: Console) -> None:
    for attempt in range(4):
        login(page, console.base, "lina", f"wrong-{attempt}")
        assert page.locator('[data-error="bad-login"]').is_visible(), f"attempt {attempt + 1}"
    login(page, console.base, "lina", "wrong-4")
    assert page.locator('[data-error="bad-login"], [data-error="locked"]').count() == 1
    login(page, console.base, "lina", PASSWORDS["lina"])
    assert _path(page) == "/console/login"
    assert page.locator('[data-error="locked"]').is_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "amanah_session"]


def test_find_a_member_by_name_part_and_by_number(page: Page, console: Console) -> None:
    _as(page, console, "siti")
    part = console.name[: max(4, len(console.name) - 2)].lower()
    for query in (part, console.number):
        page.goto(f"{console.base}/console/")
        page.locator("form#search-form input[name=q]").fill(query)
        page.locator("form#search-form input[name=q]").press("Enter")
        page.wait_for_url(re.compile(r"/console/members\?"))
        assert parse_qs(urlsplit(page.url).query).get("q") == [query]
        hit = page.locator(f'a[data-member="{console.number}"]')
        assert hit.count() == 1, (
            f"no hit for the test member searching by {'number' if query == console.number else 'name part'}"
        )
    assert _navigated(page, f'a[data-member="{console.number}"]').status == 200
    assert _path(page) == f"/console/members/{console.number}"
    assert console.name in page.locator("main#main").inner_text()
    assert page.locator("main#main svg").count() >= 1  # savings and repayment charts
    link = page.locator("a#new-application")
    assert link.get_attribute("href") == f"/console/members/{console.number}/apply"


def test_an_application_is_scored_and_decided_as_recommended(page: Page, console: Console) -> None:
    _as(page, console, "siti")
    score_id = _apply(page, console, "5.000.000")
    main = page.locator("main#main")
    assert "5.000.000" in main.inner_text()  # read as five million, not five
    for attribute in ("data-grade", "data-pd", "data-score", "data-model-version"):
        assert page.locator(f"[{attribute}]").first.inner_text().strip(), attribute
    assert re.search(r"\d", page.locator("[data-pd]").first.inner_text())
    sections = page.locator("section[data-five-c]")
    groups = {sections.nth(i).get_attribute("data-five-c") for i in range(sections.count())}
    assert groups and groups <= FIVE_C, groups
    assert page.locator("section[data-five-c] [data-reason]").count() >= 1
    assert page.locator("[data-review-note]").is_visible()
    recommended = _recommendation(page)
    response = _decide(page, recommended)
    assert response.status == 200 and _path(page) == f"/console/applications/{score_id}"
    assert page.locator(f'[data-decided="{recommended}"]').is_visible()
    assert page.locator("#decision-form").count() == 0


def test_an_override_needs_a_written_reason(page: Page, console: Console) -> None:
    _as(page, console, "siti")
    score_id = _apply(page, console, "7.500.000")
    other = next(d for d in DECISIONS if d != _recommendation(page))
    response = _decide(page, other)
    assert response.status == 422
    assert page.locator('[data-field-error="reason"]').is_visible()
    page.goto(f"{console.base}/console/applications/{score_id}")
    assert page.locator("#decision-form").is_visible()  # nothing was decided
    response = _decide(page, other, "Usaha anggota sudah berjalan lima tahun, dicek langsung")
    assert response.status == 200 and _path(page) == f"/console/applications/{score_id}"
    assert page.locator(f'[data-decided="{other}"]').is_visible()


def test_the_letter_prints_with_the_review_right_and_without_the_menu(
    page: Page, console: Console
) -> None:
    _as(page, console, "siti")
    score_id = _apply(page, console, "3.000.000")
    _decide(page, _recommendation(page))
    response = page.goto(f"{console.base}/console/applications/{score_id}/letter")
    assert response is not None and response.status == 200
    assert page.locator("[data-letter]").is_visible()
    assert page.locator("#logout-form").is_visible()
    page.emulate_media(media="print")
    assert page.locator("[data-letter]").is_visible()
    assert page.locator("[data-review-right]").is_visible()
    assert page.locator("[data-review-right]").inner_text().strip()
    chrome = page.locator("header, nav, #logout-form")
    shown = [chrome.nth(i).evaluate("e => e.outerHTML.slice(0, 80)") for i in range(chrome.count()) if chrome.nth(i).is_visible()]  # fmt: skip
    assert not shown, f"visible in print: {shown}"


def test_the_language_switch_goes_to_english_and_back(page: Page, console: Console) -> None:
    _as(page, console, "siti")
    indonesian = page.locator("main#main h1").inner_text()
    _navigated(page, 'a[data-lang="en"]')
    assert page.locator("html").get_attribute("lang") == "en"
    assert "lang=" not in page.url and _path(page) == "/console/"
    english = page.locator("main#main h1").inner_text()
    assert english != indonesian
    page.goto(f"{console.base}/console/applications")  # the choice is kept across pages
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{console.base}/console/")
    _navigated(page, 'a[data-lang="id"]')
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("main#main h1").inner_text() == indonesian


def test_another_cooperatives_member_is_not_found(
    browser: Browser, page: Page, console: Console
) -> None:
    _as(page, console, "siti")
    for path in ("", "/apply"):
        response = page.goto(f"{console.base}/console/members/{console.other_member}{path}")
        assert response is not None and response.status == 404, path
        assert page.locator('[data-error="not-found"]').count() == 1
    eko = new_context(browser)
    try:
        theirs = eko.new_page()
        _as(theirs, console, "eko")
        response = theirs.goto(f"{console.base}/console/members/{console.other_member}")
        assert response is not None and response.status == 200  # the member exists: for eko
    finally:
        eko.close()


def test_a_form_posted_without_its_csrf_token_is_refused(
    context: BrowserContext, page: Page, console: Console
) -> None:
    _as(page, console, "siti")
    apply_url = f"{console.base}/console/members/{console.number}/apply"
    fields = {"amount": "5.000.000", "tenor_months": "12", "purpose": PURPOSE}
    for extra in ({}, {"csrf_token": "not-the-sessions-token"}):
        answer = context.request.post(apply_url, form={**fields, **extra}, max_redirects=0)
        assert answer.status == 403, (extra, answer.status)
        assert 'data-error="csrf"' in answer.text()
    answer = context.request.post(f"{console.base}/console/logout", form={}, max_redirects=0)
    assert answer.status == 403
    page.goto(f"{console.base}/console/")
    assert _path(page) == "/console/"  # still logged in


def test_an_expired_session_leads_back_to_login(page: Page, console: Console) -> None:
    from serving.store.tables import ConsoleSession, Officer

    _as(page, console, "siti")
    engine = make_engine(console.database_url)
    try:
        with sessions(engine).begin() as session:
            officer_id = session.scalars(select(Officer.id).where(Officer.username == "siti")).one()
            latest = session.scalars(
                select(ConsoleSession.id)
                .where(ConsoleSession.officer_id == officer_id)
                .order_by(ConsoleSession.created_at.desc())
                .limit(1)
            ).one()
            session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id == latest)
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
    finally:
        engine.dispose()
    page.goto(f"{console.base}/console/applications?status=pending")
    assert _path(page) == "/console/login"
    assert parse_qs(urlsplit(page.url).query).get("next") == [
        "/console/applications?status=pending"
    ]
    assert page.locator('[data-notice="expired"]').is_visible()
    # logging in again goes back where she was
    page.fill("#login-form input[name=username]", "siti")
    page.fill("#login-form input[name=password]", PASSWORDS["siti"])
    _navigated(page, "#login-form button[type=submit]")
    assert _path(page) == "/console/applications"


def test_the_supervisor_sees_overrides_in_the_queue(
    browser: Browser, page: Page, console: Console
) -> None:
    _as(page, console, "siti")
    followed = _apply(page, console, "2.000.000")
    _decide(page, _recommendation(page))
    overridden = _apply(page, console, "9.000.000")
    _override(page, console, overridden)
    supervisor = new_context(browser)
    try:
        budi = supervisor.new_page()
        _as(budi, console, "budi")
        budi.goto(f"{console.base}/console/applications?status=decided")
        for score_id in (followed, overridden):
            assert budi.locator(f'tr[data-application="{score_id}"]').count() == 1, score_id
        marked = f'tr[data-application="{overridden}"][data-overridden], tr[data-application="{overridden}"] [data-overridden]'
        plain = f'tr[data-application="{followed}"][data-overridden], tr[data-application="{followed}"] [data-overridden]'
        assert budi.locator(marked).count() >= 1
        assert budi.locator(plain).count() == 0
        budi.goto(f"{console.base}/console/applications?overridden=1")
        assert budi.locator(f'tr[data-application="{overridden}"]').count() == 1
        assert budi.locator(f'tr[data-application="{followed}"]').count() == 0
    finally:
        supervisor.close()


def test_every_page_at_a_phones_and_a_desks_width(browser: Browser, console: Console) -> None:
    problems: list[str] = []
    score_id = ""
    for width in (360, 1280):
        context = new_context(browser, width=width)
        try:
            page = context.new_page()
            page.goto(f"{console.base}/console/login")
            _check_page(page, "login", width, problems)
            _as(page, console, "siti")
            if not score_id:
                score_id = _apply(page, console, "4.000.000")
            n = console.number
            pages = {
                "home": "/console/",
                "search": f"/console/members?q={n}",
                "member": f"/console/members/{n}",
                "apply": f"/console/members/{n}/apply",
                "result": f"/console/applications/{score_id}",
                "letter": f"/console/applications/{score_id}/letter",
                "queue": "/console/applications",
                "collections": "/console/collections",
                "portfolio": "/console/portfolio",
                "import": "/console/import",
            }
            for name, path in pages.items():
                response = page.goto(f"{console.base}{path}")
                if response is None or response.status != 200 or _path(page) != path.split("?")[0]:
                    status = response.status if response else None
                    problems.append(f"{name} at {width}px: {path} answered {status} at {page.url}")
                    continue
                _check_page(page, name, width, problems)
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def _check_page(page: Page, name: str, width: int, problems: list[str]) -> None:
    """Screenshot, axe-core and (at a phone's width) no sideways scroll; what fails is
    added to `problems` so one run lists every page's faults."""
    screenshot(page, name)
    try:
        assert_accessible(page, f"{name} at {width}px")
    except AssertionError as failed:
        problems.append(str(failed).split("\nassert ")[0])  # without pytest's rewritten repeat
    if page.locator("main#main h1").count() != 1:
        problems.append(f"{name} at {width}px: no single <h1> in main#main")
    if width <= 360:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width + 1:
            problems.append(f"{name} at {width}px scrolls sideways: scrollWidth {scroll}")


def test_the_server_log_names_no_member(console: Console) -> None:
    """Runs last in this file: every page above was served, searches and member pages
    included, and the server's log (uvicorn's access lines among them) names no member."""
    log = console.log.read_text(encoding="utf-8")
    assert "GET /console/members/" in log  # the pages were logged, redacted
    assert f"/console/members/{console.number}" not in log
    assert console.name not in log and console.name.split()[0].lower() not in log.lower()
    assert "?q=" not in log
