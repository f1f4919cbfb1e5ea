"""Nobody acts without a credential: every route's declared role, tokens, sessions, CSRF and
security headers, against the real app on a seeded embedded database."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount

from gtm_feedback.config import Settings
from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.main import create_app
from gtm_feedback.user import service as users
from gtm_feedback.user import tokens
from gtm_feedback.user.access import Requires
from gtm_feedback.user.models import ApiToken, AuditEvent, Role
from tests.auth import bearer, grant
from tests.runs import seeded_settings

PASSWORD = "a-long-password-for-tests"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: The only routes anyone may call: probes, signing in and out, Slack (signature-checked).
PUBLIC_ROUTES = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("POST", "/signout"),
    ("GET", "/signin/oidc"),
    ("GET", "/signin/oidc/callback"),
    ("POST", "/slack/events"),
    ("POST", "/slack/interactions"),
    ("POST", "/slack/commands"),
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    found = seeded_settings(tmp_path_factory, "access", port=8119)
    with session_scope(found.app_database_url, write=True) as session:
        for role in Role:
            user = users.get_or_create(session=session, email=f"{role.value}@access.example")
            users.set_role(session=session, user_id=user.id, role=role)
            users.set_password(session=session, user=user, password=PASSWORD)
    return found


@pytest.fixture(scope="module")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="module")
def pages_app(settings: Settings) -> FastAPI:
    """The app for the sign-in tests, each with its own cookie jar (DBOS is not needed: a
    second start of ``app`` would stop the DBOS of the first when it ends)."""
    return create_app(settings, launch_dbos=False)


@pytest.fixture(scope="module")
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def roles_of(dependant: Dependant) -> list[Role | None]:
    """Every role a route's dependency tree declares (None for public)."""
    found = [d.call.role for d in dependant.dependencies if isinstance(d.call, Requires)]
    for sub in dependant.dependencies:
        found.extend(roles_of(sub))
    return found


def route_table(app: FastAPI) -> dict[tuple[str, str], Role | None]:
    """(method, path) -> the one role each route declares; fails for none or several."""
    table: dict[tuple[str, str], Role | None] = {}
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        declared = set(roles_of(route.dependant))
        assert len(declared) == 1, f"{route.path} declares {declared or 'no role'}"
        (role,) = declared
        for method in route.methods or ():
            table[(method, route.path)] = role
    return table


def test_every_route_declares_exactly_one_role(app: FastAPI) -> None:
    table = route_table(app)
    assert len(table) > 40
    assert {key for key, role in table.items() if role is None} == PUBLIC_ROUTES
    mounts = [r for r in app.routes if isinstance(r, Mount)]
    assert [m.path for m in mounts] == ["/static"]  # css and js only: no role needed


def _sample_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_without_a_credential_every_guarded_route_is_refused(
    app: FastAPI, anonymous: TestClient
) -> None:
    checked = 0
    for (method, path), role in route_table(app).items():
        if role is None or method == "HEAD":
            continue
        target = _sample_path(path)
        api = anonymous.request(method, target, json={})
        page = anonymous.request(method, target, headers={"accept": "text/html"}, data={})
        # Programs' endpoints (the API, its schema, the Prometheus scrape) answer 401 even to
        # a browser; the pages send people to sign in.
        if path.startswith("/api/") or path in ("/openapi.json", "/metrics"):
            assert api.status_code == 401, (method, path, api.text)
            assert api.headers["www-authenticate"].startswith("Bearer")
        else:
            assert page.status_code == 303, (method, path, page.text)
            assert page.headers["location"].startswith("/signin"), (method, path)
        checked += 1
    assert checked > 30


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        (Role.viewer, "POST", "/api/feedback", {}),
        (Role.viewer, "POST", "/requests/x/followers", None),
        (Role.member, "POST", "/api/approvals/x", {"approved": True}),
        (Role.member, "GET", "/api/approvals", None),
        (Role.member, "POST", "/requests/x/status", None),
        (Role.member, "POST", "/api/workflows/import", {"kind": "accounts", "csv": "id\n1\n"}),
        (Role.approver, "GET", "/api/outbox", None),
        (Role.approver, "POST", "/runs/x/cancel", None),
        (Role.approver, "POST", "/runs/bulk", None),
        (Role.approver, "POST", "/admin/users/x/role", None),
        (Role.approver, "POST", "/api/workflows/weekly-digest", {}),
    ],
)
def test_the_wrong_role_is_refused(
    anonymous: TestClient,
    settings: Settings,
    role: Role,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    headers = bearer(settings.app_database_url, role)
    answer = anonymous.request(method, path, json=body, headers=headers)
    assert answer.status_code == 403, answer.text
    assert f"you are {role.value}" in answer.json()["detail"]


def test_a_token_works_until_revoked_or_expired(anonymous: TestClient, settings: Settings) -> None:
    url = settings.app_database_url
    token = grant(url, Role.viewer, "reader@access.example")
    auth = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/requests", headers=auth).status_code == 200
    token_id, _secret = tokens.split(token)
    with session_scope(url) as session:
        used = session.get(ApiToken, token_id)
        assert used is not None
        assert used.last_used_at is not None  # written after the answer, before the next
    wrong = {"Authorization": f"Bearer {token[:-4]}abcd"}
    assert anonymous.get("/api/requests", headers=wrong).status_code == 401
    with session_scope(url, write=True) as session:
        tokens.revoke(session=session, token_id=token_id)
    assert anonymous.get("/api/requests", headers=auth).status_code == 401
    with session_scope(url, write=True) as session:
        user = users.get_by_email(session=session, email="reader@access.example")
        assert user is not None
        issued = tokens.create(session=session, user=user, name="short", expires_in=timedelta(0))
    late = {"Authorization": f"Bearer {issued.secret}"}
    assert anonymous.get("/api/requests", headers=late).status_code == 401
    assert (
        anonymous.get("/api/requests", headers={"Authorization": "Bearer junk"}).status_code == 401
    )


def _sign_in(client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/") -> str:
    answer = client.post(
        "/signin",
        data={"email": email, "password": password, "next": next_url},
        headers={"accept": "text/html"},
    )
    return answer.headers.get("location", str(answer.status_code))


def test_signing_in_sets_a_hardened_cookie_and_signing_out_ends_it(pages_app: FastAPI) -> None:
    with TestClient(pages_app, follow_redirects=False) as browser:
        assert _sign_in(browser, "member@access.example", "wrong password") == "401"
        assert _sign_in(browser, "member@access.example", next_url="/requests?sort=feedback") == (
            "/requests?sort=feedback"
        )
        cookie = browser.cookies.jar
        assert [c.name for c in cookie] == ["gtmfb_session"]
        answer = browser.get("/requests", headers={"accept": "text/html"})
        assert answer.status_code == 200
        assert "member@access.example · member" in answer.text
        browser.post("/signout")
        after = browser.get("/requests", headers={"accept": "text/html"})
        assert after.headers["location"] == "/signin?next=%2Frequests"


def test_the_cookie_is_httponly_and_samesite(pages_app: FastAPI) -> None:
    with TestClient(pages_app, follow_redirects=False) as browser:
        answer = browser.post(
            "/signin", data={"email": "viewer@access.example", "password": PASSWORD}
        )
        set_cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in set_cookie
        assert "samesite=lax" in set_cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(pages_app: FastAPI, target: str) -> None:
    with TestClient(pages_app, follow_redirects=False) as browser:
        assert _sign_in(browser, "viewer@access.example", next_url=target) == "/requests"


def test_a_role_change_ends_the_sessions_of_that_user(
    pages_app: FastAPI, settings: Settings
) -> None:
    with TestClient(pages_app, follow_redirects=False) as browser:
        _sign_in(browser, "approver@access.example")
        assert browser.get("/approvals", headers={"accept": "text/html"}).status_code == 200
        with session_scope(settings.app_database_url, write=True) as session:
            user = users.get_by_email(session=session, email="approver@access.example")
            assert user is not None
            users.set_role(session=session, user_id=user.id, role=Role.viewer)
            users.set_role(session=session, user_id=user.id, role=Role.approver)
        assert browser.get("/approvals", headers={"accept": "text/html"}).status_code == 303


def test_an_idle_session_ends(settings: Settings) -> None:
    quick = settings.model_copy(update={"session_idle_timeout": 1.0})
    with TestClient(create_app(quick, launch_dbos=False), follow_redirects=False) as browser:
        _sign_in(browser, "viewer@access.example")
        assert browser.get("/requests").status_code == 200
        time.sleep(1.5)  # a lower bound: the session must be over after its idle timeout
        assert browser.get("/requests", headers={"accept": "text/html"}).status_code == 303


def test_sign_in_attempts_are_rate_limited(settings: Settings) -> None:
    with TestClient(create_app(settings, launch_dbos=False), follow_redirects=False) as browser:
        answers = [_sign_in(browser, "admin@access.example", "guess") for _ in range(12)]
    assert answers[:10] == ["401"] * 10
    assert answers[10:] == ["429", "429"]


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
    ],
)
def test_cross_site_form_posts_are_refused(
    anonymous: TestClient, settings: Settings, headers: dict[str, str]
) -> None:
    auth = bearer(settings.app_database_url, Role.admin)
    answer = anonymous.post("/requests/x/followers", headers=auth | headers)
    assert answer.status_code == 403
    assert answer.json()["detail"] == "cross-site request refused"


@pytest.mark.parametrize(
    "headers", [{"sec-fetch-site": "same-origin"}, {"origin": "http://testserver"}, {}]
)
def test_same_site_and_non_browser_posts_pass(
    anonymous: TestClient, settings: Settings, headers: dict[str, str]
) -> None:
    auth = bearer(settings.app_database_url, Role.admin)
    answer = anonymous.post("/requests/no-such-request/followers", headers=auth | headers)
    assert answer.status_code == 404  # through the guard, to the route


def test_security_headers_on_every_answer(
    app: FastAPI, anonymous: TestClient, settings: Settings
) -> None:
    viewer = bearer(settings.app_database_url, Role.viewer)
    paths = [path for (method, path) in route_table(app) if method == "GET"]
    assert len(paths) > 20
    for path in [*paths, "/nope", "/static/app.css"]:
        for headers in ({}, viewer):  # refused, redirected, served or missing: all carry them
            _assert_hardened(anonymous.get(_sample_path(path), headers=headers))


def _assert_hardened(answer: Any) -> None:
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in answer.headers["permissions-policy"]
    assert "strict-transport-security" not in answer.headers  # plain http here


def test_hsts_when_served_over_https(settings: Settings) -> None:
    secure = settings.model_copy(update={"public_url": "https://feedback.example"})
    with TestClient(create_app(secure, launch_dbos=False), follow_redirects=False) as client:
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_decisions_and_role_changes_are_audited(anonymous: TestClient, settings: Settings) -> None:
    url = settings.app_database_url
    admin = bearer(url, Role.admin, "boss@access.example")
    with session_scope(url) as session:
        target = users.get_by_email(session=session, email="viewer@access.example")
        assert target is not None
        target_id = target.id
    answer = anonymous.post(
        f"/admin/users/{target_id}/role", data={"role": "member"}, headers=admin
    )
    assert answer.status_code == 303
    with session_scope(url) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.role").order_by(AuditEvent.at)
        ).all()[-1]
        assert (event.actor, event.target, event.detail) == (
            "boss@access.example",
            "viewer@access.example",
            "member",
        )
        assert "token tests-admin" in event.source
        assert event.at <= utcnow()


def test_an_approver_shipping_through_the_api_is_audited(
    anonymous: TestClient, settings: Settings
) -> None:
    url = settings.app_database_url
    pm = bearer(url, Role.approver, "shipper@access.example")
    slug = anonymous.get("/api/requests", headers=pm).json()["items"][0]["slug"]
    started = anonymous.post("/api/workflows/mark-shipped", json={"request": slug}, headers=pm)
    assert started.status_code == 202, started.text
    with session_scope(url) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "workflow.start")
        ).one()
        assert (event.actor, event.target, event.detail) == (
            "shipper@access.example",
            "mark-shipped",
            started.json()["run_id"],
        )
    # The run tells followers and account owners: let it finish inside this test.
    run_id, deadline = started.json()["run_id"], time.monotonic() + 60
    while anonymous.get(f"/api/runs/{run_id}", headers=pm).json()["status"] != "SUCCESS":
        assert time.monotonic() < deadline, "the mark-shipped run did not finish"
        time.sleep(0.05)


def test_an_admin_makes_a_token_on_the_page_and_sees_it_once(
    anonymous: TestClient, settings: Settings
) -> None:
    admin = bearer(settings.app_database_url, Role.admin)
    form = {"email": "viewer@access.example", "name": "from-the-page", "days": "30"}
    made = anonymous.post("/admin/tokens", data=form, headers=admin)
    assert made.status_code == 200
    shown = re.search(r'id="new-token">(gtmfb_[^<]+)<', made.text)
    assert shown is not None
    assert (
        anonymous.get("/api/requests", headers={"Authorization": f"Bearer {shown[1]}"}).status_code
        == 200
    )
    listed = anonymous.get("/admin/tokens", headers=admin)
    assert "from-the-page" in listed.text
    assert shown[1] not in listed.text  # never shown again
