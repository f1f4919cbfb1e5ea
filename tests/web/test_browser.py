"""The pages in real Chromium (Debian's, driven by Playwright) against a real server process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.user import service as users
from gtm_feedback.user.models import Role
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.runs import seeded_settings

CHROMIUM = os.environ.get("GTMFB_TEST_CHROMIUM", "/usr/bin/chromium")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
GTM_FEEDBACK = Path(sys.executable).with_name("gtm-feedback")
SELLER = "seller@gtm.example"
PM, PM_PASSWORD = "pm@gtm.example", "pm-password-for-tests"
VIEWER, VIEWER_PASSWORD = "viewer@gtm.example", "viewer-password-for-tests"


def _person(url: str, email: str, role: Role, password: str) -> None:
    with session_scope(url, write=True) as session:
        user = users.get_or_create(session=session, email=email)
        users.set_role(session=session, user_id=user.id, role=role)
        users.set_password(session=session, user=user, password=password)


def sign_in(page: Page, base: str, email: str = PM, password: str = PM_PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{base}/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    expect(page.locator("#whoami")).to_contain_text(email)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as found:
        yield found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[str]:
    settings: Settings = seeded_settings(tmp_path_factory, "pages")
    embedder = get_embedder(settings)
    with session_scope(settings.app_database_url) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)
    _person(settings.app_database_url, PM, Role.admin, PM_PASSWORD)
    _person(settings.app_database_url, VIEWER, Role.viewer, VIEWER_PASSWORD)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    env |= {
        "GTMFB_DATA_DIR": str(settings.data_dir),
        "GTMFB_LOG_LEVEL": "WARNING",
        "GTMFB_FOLLOWUP_DELAY": "1s",
        "GTMFB_APPROVAL_TIMEOUT": "60s",
        "GTMFB_OIDC_ISSUER": provider.issuer,
        "GTMFB_OIDC_CLIENT_ID": CLIENT_ID,
        "GTMFB_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "GTMFB_OIDC_NAME": "Test IdP",
    }
    process = subprocess.Popen(
        [str(GTM_FEEDBACK), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield found
        found.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A signed-in admin's tab."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    sign_in(opened, server)
    yield opened
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots with ``make screenshots``, else a temp folder."""
    if os.environ.get("GTMFB_SAVE_SCREENSHOTS") == "1":
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


def _shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _account(page: Page, base: str) -> str:
    page.goto(f"{base}/requests?sort=arr")
    page.locator("#requests tbody tr a").first.click()
    href = page.locator("ul.feedback a[href^='/accounts/']").first.get_attribute("href")
    assert href is not None
    return href.rsplit("/", 1)[1]


def _submit(page: Page, base: str, pain: str, account: str) -> None:
    page.goto(f"{base}/feedback/new")
    page.select_option("select[name=severity]", "high")
    page.fill("input[name=account_id]", account)
    page.fill("textarea[name=pain]", pain)
    page.fill("input[name=submitter_email]", SELLER)
    page.click("main button[type=submit]")


def test_submit_feedback_and_see_the_outcome(server: str, page: Page, shots: Path) -> None:
    account = _account(page, server)
    page.goto(f"{server}/feedback/new")
    _shot(page, shots, "submit-feedback")
    _submit(
        page,
        server,
        "Finance wants every invoice exported to NetSuite the day it is issued.",
        account,
    )
    outcome = page.locator("#outcome")
    expect(outcome).to_be_visible(timeout=60_000)  # HTMX polled the run until it finished
    expect(outcome).to_contain_text(re.compile("Attached to|A new request was written|Waiting"))
    outcome.locator("a").click()
    expect(page.locator("ul.feedback")).to_contain_text("NetSuite")
    _shot(page, shots, "request")


def test_the_form_shows_errors_next_to_fields(server: str, page: Page) -> None:
    page.goto(f"{server}/feedback/new")
    page.evaluate("document.querySelector('form.form').noValidate = true")
    page.click("main button[type=submit]")
    expect(page.locator("#severity-error")).to_be_visible()
    expect(page.locator("#pain-error")).to_be_visible()
    page.select_option("select[name=severity]", "low")
    page.fill("input[name=account_id]", "no-such-account")
    page.fill("textarea[name=pain]", "Anything")
    page.fill("input[name=submitter_email]", SELLER)
    page.click("main button[type=submit]")
    expect(page.locator("#account_id-error")).to_have_text("unknown account 'no-such-account'")


def test_approve_a_pending_match(server: str, page: Page, shots: Path) -> None:
    account = _account(page, server)
    _submit(page, server, "Our reps need the mobile app to work without signal.", account)
    expect(page.locator("#outcome")).to_contain_text("Waiting for a person", timeout=60_000)
    page.goto(f"{server}/approvals")
    item = page.locator("#pending li", has_text="work without signal").first
    expect(item).to_be_visible()
    _shot(page, shots, "approvals")
    item.locator("button", has_text="Approve").click()
    expect(page.locator("[role=status]")).to_have_text("Approved.")
    expect(page.locator("body")).to_contain_text("Approved by pm@gtm.example")


def test_filter_and_sort_requests(server: str, page: Page, shots: Path) -> None:
    page.goto(f"{server}/requests")
    _shot(page, shots, "requests")
    page.select_option("select[name=area]", "mobile")
    page.select_option("select[name=status]", "open")
    page.select_option("select[name=sort]", "feedback")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"area=mobile.*status=open.*sort=feedback"))
    rows = page.locator("#requests tbody tr")
    assert rows.count() > 0
    for n in range(rows.count()):
        expect(rows.nth(n)).to_contain_text("Mobile")
        expect(rows.nth(n)).to_contain_text("open")
    counts = [int(rows.nth(n).locator("td").nth(7).inner_text()) for n in range(rows.count())]
    assert counts == sorted(counts, reverse=True)


def test_mark_shipped(server: str, page: Page) -> None:
    page.goto(f"{server}/requests?status=open&sort=feedback")
    page.locator("#requests tbody tr a").first.click()
    page.select_option("select[name=status]", "shipped")
    page.click("text=Change status")
    banner = page.locator("[role=status]")
    expect(banner).to_contain_text(
        re.compile(r"Shipped “[a-z0-9-]+”: notified \d+ of \d+ followers"), timeout=30_000
    )
    expect(page.locator("#status")).to_have_text("shipped")


def test_user_text_is_escaped(server: str, page: Page) -> None:
    account = _account(page, server)
    _submit(
        page,
        server,
        "<script>window.__xss = 1</script> They need <b>SSO</b> for 2,000 seats.",
        account,
    )
    expect(page.locator("#outcome")).to_be_visible(timeout=60_000)
    page.locator("#outcome a").click()
    expect(page.locator("ul.feedback")).to_contain_text("<script>window.__xss = 1</script>")
    assert page.evaluate("window.__xss") is None


def test_area_pages(server: str, page: Page, shots: Path) -> None:
    page.goto(f"{server}/areas")
    _shot(page, shots, "areas")
    page.goto(f"{server}/areas/security-compliance")
    page.click("text=Generate insights now")
    expect(page.locator("[role=status]")).to_contain_text("Insights generated.", timeout=60_000)
    expect(page.locator("svg").first).to_be_visible()
    _shot(page, shots, "area")


def test_create_an_area_and_a_duplicate_name_is_refused(
    server: str, page: Page, shots: Path
) -> None:
    page.goto(f"{server}/admin/areas")
    page.fill("input[name=name]", "Data Platform")
    page.fill("input[name=firehose_channel]", "data")
    page.click("form.form button[type=submit]")
    expect(page.locator("#areas")).to_contain_text("#firehose-data")
    page.fill("input[name=name]", "data platform")
    page.click("form.form button[type=submit]")
    expect(page.locator("#area-error")).to_contain_text("already exists")
    expect(page.locator("input[name=name]")).to_have_value("data platform")  # kept for fixing
    _shot(page, shots, "admin-areas")
    page.goto(f"{server}/admin/users")
    row = page.locator("#users tr", has_text=SELLER)
    row.locator("select[name=role]").select_option("approver")
    row.locator("button", has_text="Save").click()
    expect(page.locator("#users tr", has_text=SELLER).locator("select")).to_have_value("approver")


def test_the_matching_page_refits_on_demand(server: str, page: Page, shots: Path) -> None:
    page.goto(f"{server}/admin/matching")
    expect(page.locator("#auto-threshold")).to_have_text("0.980")
    expect(page.locator("#source")).to_contain_text("shipped defaults")
    _shot(page, shots, "admin-matching")
    page.click("#refit")
    expect(page.locator("#run-status")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator("ol.timeline")).to_contain_text("refit_step")


def test_runs_and_a_run_with_its_steps(server: str, page: Page, shots: Path) -> None:
    page.goto(f"{server}/runs?workflow=process_feedback_workflow&status=SUCCESS")
    _shot(page, shots, "runs")
    first = page.locator("#runs tbody tr a").first
    expect(first).to_be_visible()
    first.click()
    expect(page.locator("#run-status")).to_have_text("SUCCESS")
    expect(page.locator("ol.timeline")).to_contain_text("match_step")
    _shot(page, shots, "run")
    page.click("text=Retry as a new run")
    expect(page.locator("[role=status]")).to_contain_text("Retried as a new run")


def test_account_outbox_and_error_pages(server: str, page: Page, shots: Path) -> None:
    account = _account(page, server)
    page.goto(f"{server}/accounts/{account}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("ul.feedback li").first).to_be_visible()
    _shot(page, shots, "account")
    page.goto(f"{server}/outbox")
    expect(page.locator("#outbox")).to_contain_text("Slack is not configured")
    _shot(page, shots, "outbox")
    missing = page.goto(f"{server}/requests/no-such-request")
    assert missing is not None
    assert missing.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


@pytest.mark.parametrize(
    "path",
    [
        "/requests",
        "/feedback/new",
        "/approvals",
        "/areas/security-compliance",
        "/runs",
        "/outbox",
        "/admin/matching",
    ],
)
def test_pages_fit_a_phone_screen(server: str, browser: Browser, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        sign_in(phone, server)
        phone.goto(f"{server}{path}")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than a phone screen"
    finally:
        context.close()


def test_cancel_and_resume_a_waiting_run(server: str, page: Page) -> None:
    account = _account(page, server)
    _submit(page, server, "Could we get a Python client library?", account)
    expect(page.locator("#outcome")).to_contain_text("Waiting for a person", timeout=60_000)
    page.goto(f"{server}/runs?workflow=approval_decision_workflow&status=PENDING")
    page.locator("#runs tbody tr a").first.click()
    expect(page.locator("#run-input")).to_contain_text("Python client library")
    page.click("text=Cancel")
    expect(page.locator("#run-status")).to_have_text("CANCELLED")
    page.click("text=Resume")
    expect(page.locator("[role=status]")).to_have_text("Resumed.")
    expect(page.locator("#run-status")).to_have_text(re.compile("PENDING|ENQUEUED"))


def _listed(page: Page, url: str, timeout: float = 60) -> None:
    """Open a runs list until it shows a run (the run may start just after the page asked)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator("#runs tbody tr").count() or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def test_cancel_and_resume_runs_picked_on_the_list(server: str, page: Page) -> None:
    account = _account(page, server)
    _submit(page, server, "Could we get a Python client library?", account)
    # Its decision run waits (PENDING) for a person, up to GTMFB_APPROVAL_TIMEOUT.
    expect(page.locator("#outcome")).to_contain_text("Waiting for a person", timeout=60_000)
    _listed(page, f"{server}/runs?workflow=approval_decision_workflow&status=PENDING")
    page.locator("#runs tbody input[type=checkbox]").first.check()
    page.click("text=Cancel selected")
    expect(page.locator("[role=status]")).to_have_text("Cancel: 1 of 1 selected run(s).")
    expect(page).to_have_url(re.compile(r"workflow=approval_decision_workflow&status=PENDING"))
    _listed(page, f"{server}/runs?workflow=approval_decision_workflow&status=CANCELLED")
    page.locator("#runs thead input[type=checkbox]").check()  # every run on the page
    picked = page.locator("#runs tbody input[type=checkbox]:checked").count()
    assert picked >= 1
    page.click("text=Resume selected")
    expect(page.locator("[role=status]")).to_have_text(
        f"Resume: {picked} of {picked} selected run(s)."
    )


def test_sign_in_sign_out_and_what_a_viewer_sees(
    server: str, browser: Browser, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    try:
        tab.goto(f"{server}/requests?sort=feedback")
        expect(tab).to_have_url(re.compile(r"/signin\?next=%2Frequests%3Fsort%3Dfeedback"))
        _shot(tab, shots, "signin")
        tab.fill("input[name=email]", VIEWER)
        tab.fill("input[name=password]", "not the password")
        tab.click("form.form button[type=submit]")
        expect(tab.locator("[role=alert]")).to_have_text("Wrong email or password.")
        tab.fill("input[name=email]", VIEWER)
        tab.fill("input[name=password]", VIEWER_PASSWORD)
        tab.click("form.form button[type=submit]")
        expect(tab).to_have_url(re.compile(r"/requests\?sort=feedback$"))  # back where it began
        expect(tab.locator("#whoami")).to_have_text(f"{VIEWER} · viewer")
        tab.locator("#requests tbody tr a").first.click()
        expect(tab.locator("h1")).to_be_visible()
        expect(tab.locator("text=Change status")).to_have_count(0)  # a viewer only reads
        assert tab.goto(f"{server}/approvals").status == 403  # type: ignore[union-attr]
        tab.goto(f"{server}/requests")
        tab.click("text=Sign out")
        expect(tab).to_have_url(re.compile(r"/signin$"))
        tab.goto(f"{server}/requests")
        expect(tab).to_have_url(re.compile(r"/signin\?next="))
    finally:
        context.close()


def test_no_page_breaks_its_content_security_policy(server: str, page: Page, shots: Path) -> None:
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    account = _account(page, server)
    pages = ["/requests", "/feedback/new", "/approvals", "/areas", "/runs", "/admin/audit"]
    for path in [*pages, "/matching/automatic", "/admin/matching", "/admin/ai"]:
        response = page.goto(f"{server}{path}")
        assert response is not None
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers  # no banner naming the server software
    page.goto(f"{server}/feedback/new")
    page.fill("input[name=account_id]", account[:3])  # htmx fetches the account options
    expect(page.locator("#account-options option").first).to_be_attached()
    assert not [text for text in refused if "Content Security Policy" in text], refused
    page.goto(f"{server}/admin/audit")
    expect(page.locator("#audit")).to_contain_text("signin")  # this admin's own sign-in
    _shot(page, shots, "admin-audit")


def test_sign_in_with_the_identity_provider(
    server: str, browser: Browser, provider: Provider
) -> None:
    provider.next_identity = {"sub": "42", "email": VIEWER, "email_verified": True}
    context = browser.new_context()
    tab = context.new_page()
    try:
        tab.goto(f"{server}/areas")
        tab.click("#oidc")  # to the provider, which signs the person in and sends them back
        expect(tab).to_have_url(re.compile(r"/areas$"))
        expect(tab.locator("#whoami")).to_have_text(f"{VIEWER} · viewer")
    finally:
        context.close()


def test_save_a_view_and_subscribe(server: str, page: Page, shots: Path) -> None:
    page.goto(f"{server}/requests?area=mobile&status=open")
    page.fill("#save-view input[name=name]", "Mobile, open")
    page.click("#save-view button[type=submit]")
    expect(page.locator("#notice")).to_have_text("Saved “Mobile, open”")
    row = page.locator("#views tbody tr", has_text="Mobile, open")
    expect(row).to_contain_text("area mobile · open")
    row.locator("summary").click()
    row.locator("select[name=frequency]").select_option("daily")
    row.locator("form.form button[type=submit]").click()
    expect(page.locator("#notice")).to_have_text("Subscribed to “Mobile, open”")
    row = page.locator("#views tbody tr", has_text="Mobile, open")
    expect(row).to_contain_text("new feedback and status changes, daily, DM")
    _shot(page, shots, "views")
    row.get_by_role("link", name="Mobile, open").click()
    expect(page).to_have_url(re.compile(r"/requests\?area=mobile&status=open$"))
