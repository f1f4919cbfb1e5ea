"""Signing in with OpenID Connect against a real provider on loopback (tests/oidc_provider.py):
the app's real Authlib client fetches discovery, exchanges the code and checks the ID token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.main import create_app
from gtm_feedback.user import service as users
from gtm_feedback.user.models import Role
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.runs import seeded_settings


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as found:
        yield found


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Settings:
    found = seeded_settings(
        tmp_path_factory,
        "oidc",
        port=8121,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_name="Test IdP",
        oidc_allowed_domains="acme.example, @corp.example",
    )
    with session_scope(found.app_database_url, write=True) as session:
        known = users.get_or_create(session=session, email="pat@partner.example")
        users.set_role(session=session, user_id=known.id, role=Role.approver)
    return found


@pytest.fixture
def browser(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, launch_dbos=False), follow_redirects=False) as client:
        yield client


def sign_in_as(client: TestClient, provider: Provider, identity: dict[str, Any]) -> Any:
    """Click "Sign in with Test IdP", let the provider answer, come back; the last answer."""
    provider.next_identity = identity
    to_provider = client.get("/signin/oidc", params={"next": "/areas"})
    assert to_provider.status_code == 302
    assert to_provider.headers["location"].startswith(f"{provider.issuer}/authorize?")
    back = httpx.get(to_provider.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/signin/oidc/callback"
    return client.get(f"{callback.path}?{callback.query}", headers={"accept": "text/html"})


def test_the_sign_in_page_offers_the_provider(browser: TestClient) -> None:
    page = browser.get("/signin", params={"next": "/areas"})
    assert 'href="/signin/oidc?next=/areas"' in page.text
    assert "Sign in with Test IdP" in page.text


def test_a_known_person_signs_in_with_their_role(browser: TestClient, provider: Provider) -> None:
    done = sign_in_as(
        browser, provider, {"sub": "1", "email": "Pat@Partner.example", "email_verified": True}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/areas"
    page = browser.get("/approvals", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "pat@partner.example · approver" in page.text


def test_a_new_person_of_an_allowed_domain_gets_the_default_role(
    browser: TestClient, provider: Provider, settings: Settings
) -> None:
    identity = {"sub": "2", "email": "new@corp.example", "email_verified": True, "name": "New"}
    assert sign_in_as(browser, provider, identity).status_code == 303
    assert browser.get("/requests", headers={"accept": "text/html"}).status_code == 200
    with session_scope(settings.app_database_url) as session:
        made = users.get_by_email(session=session, email="new@corp.example")
        assert made is not None
        assert (made.role, made.name, made.password_hash) == ("viewer", "New", None)


@pytest.mark.parametrize(
    ("identity", "why"),
    [
        ({"sub": "3", "email": "stranger@elsewhere.example", "email_verified": True}, "no account"),
        ({"sub": "4", "email": "liar@acme.example", "email_verified": False}, "no verified"),
        ({"sub": "5"}, "no verified email"),
    ],
)
def test_people_the_rules_do_not_admit_are_refused(
    browser: TestClient, provider: Provider, identity: dict[str, Any], why: str
) -> None:
    refused = sign_in_as(browser, provider, identity)
    assert refused.status_code == 403
    assert why in refused.text
    assert browser.get("/requests", headers={"accept": "text/html"}).status_code == 303


def test_a_callback_without_its_state_is_refused(browser: TestClient, provider: Provider) -> None:
    provider.next_identity = {"sub": "6", "email": "pat@partner.example", "email_verified": True}
    forged = browser.get(
        "/signin/oidc/callback", params={"code": "stolen", "state": "made-up"}, headers={}
    )
    assert forged.status_code == 401
    assert "Sign-in failed" in forged.text
