"""Account owners: set from the CRM import and the API, and told once when a request their
accounts asked for ships, whatever the run does again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.importing.reader import read_csv_bytes
from gtm_feedback.importing.service import ImportReport, import_rows
from gtm_feedback.main import create_app
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.models import AuditEvent, Role, User
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_settings

CRM = "https://crm.example.com/accounts/{account_id}"


def _import(url: str, data: bytes) -> ImportReport:
    header, rows = read_csv_bytes(data)
    return import_rows(url, "accounts", header, rows)


def _owner(url: str, account_id: str) -> str | None:
    with session_scope(url) as session:
        found = session.get(Account, account_id)
        assert found is not None
        return found.owner_email


def test_the_crm_import_sets_keeps_and_clears_owners(db_url: str) -> None:
    first = _import(
        db_url,
        b"id,name,owner_email\nA1,Acme,Maria.Lopez@Example.com\nA2,Beta,\nA3,Gamma,not an email\n",
    )
    assert [(e.line, "owner_email" in e.reason) for e in first.errors] == [(4, True)]
    assert _owner(db_url, "A1") == "maria.lopez@example.com"  # a user made for the owner
    assert _owner(db_url, "A2") is None
    _import(db_url, b"id,name\nA1,Acme Corp\n")  # a file without owners leaves them
    assert _owner(db_url, "A1") == "maria.lopez@example.com"
    _import(db_url, b"id,name,owner_email\nA1,Acme Corp,\n")  # a blank owner clears it
    assert _owner(db_url, "A1") is None
    with session_scope(db_url) as session:
        emails = session.scalars(select(User.email)).all()
    assert list(emails) == ["maria.lopez@example.com"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "owners", port=8162, crm_account_url=CRM)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def test_owners_through_the_api(client: TestClient, settings: Settings) -> None:
    account = client.get("/api/accounts", params={"limit": 1}).json()["items"][0]
    path = f"/api/accounts/{account['id']}"
    set_to = client.patch(path, json={"owner_email": " Nora.Field@Example.com "})
    assert set_to.status_code == 200, set_to.text
    assert set_to.json()["owner_email"] == "nora.field@example.com"
    owned = client.get("/api/accounts", params={"owner": "nora.field@example.com"}).json()
    assert [a["id"] for a in owned["items"]] == [account["id"]]
    assert client.patch(path, json={"owner_email": "nope"}).status_code == 422
    member = bearer(settings.app_database_url, Role.member)
    assert client.patch(path, json={"owner_email": None}, headers=member).status_code == 403
    assert client.patch(path, json={"owner_email": None}).json()["owner_email"] is None
    assert client.patch("/api/accounts/none", json={"owner_email": None}).status_code == 404
    with session_scope(settings.app_database_url) as session:
        details = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "account.edit")
        ).all()
    assert list(details) == ["owner nora.field@example.com", "owner none"]


def _request_with_owners(settings: Settings) -> tuple[FeatureRequest, dict[str, set[str]]]:
    """An open request whose feedback comes from owned accounts: owner id -> account ids."""
    with session_scope(settings.app_database_url) as session:
        for request in session.scalars(
            select(FeatureRequest)
            .where(FeatureRequest.status == RequestStatus.OPEN)
            .order_by(FeatureRequest.slug)
        ):
            owners: dict[str, set[str]] = {}
            rows = session.execute(
                select(Account.owner_id, Account.id)
                .join(Feedback, Feedback.account_id == Account.id)
                .where(Feedback.request_id == request.id, Account.owner_id.is_not(None))
            )
            for owner_id, account_id in rows:
                owners.setdefault(str(owner_id), set()).add(account_id)
            if len(owners) >= 2:
                return request, owners
    raise AssertionError("the sample has no request asked for by two owners' accounts")


def _owner_messages(settings: Settings, request_id: str) -> list[OutboxMessage]:
    with session_scope(settings.app_database_url) as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "shipped_owner",
                    OutboxMessage.key.like(f"shipped_owner:{request_id}:%"),
                )
            )
        )


def test_each_owner_hears_once_when_it_ships(client: TestClient, settings: Settings) -> None:
    request, owners = _request_with_owners(settings)
    shipped = client.patch(f"/api/requests/{request.slug}", json={"status": "shipped"}).json()
    run = finished(client, shipped["run_id"], timeout=120)
    assert run["status"] == "SUCCESS"
    assert (run["result"]["owners"], run["result"]["owners_notified"]) == (len(owners),) * 2
    messages = _owner_messages(settings, request.id)
    assert sorted(m.recipient_user_id or "" for m in messages) == sorted(owners)
    with session_scope(settings.app_database_url) as session:
        names = {a.id: a.name for a in session.scalars(select(Account))}
    for message in messages:
        mine = owners[message.recipient_user_id or ""]
        for account_id in mine:  # each of their accounts, linked to its CRM record
            assert f"<{CRM.format(account_id=account_id)}|{names[account_id]}>" in message.text
        others = set().union(*owners.values()) - mine
        assert not any(names[other] in message.text for other in others)
        assert f"/requests/{request.slug}" in message.text
    # A follower who owns one of the accounts hears it as the owner only.
    follower_kinds = {
        m.recipient_user_id for m in _all_messages(settings, f"shipped:{request.id}:%")
    }
    assert not follower_kinds & set(owners)

    # The fan-out again, from its recorded start: the same people are not told twice.
    again = DBOS.fork_workflow(shipped["run_id"], _fan_out_step(shipped["run_id"]))
    assert again.get_result().owners_notified == len(owners)
    assert len(_owner_messages(settings, request.id)) == len(owners)


def _fan_out_step(run_id: str) -> int:
    steps = DBOS.list_workflow_steps(run_id)
    return int(next(s["function_id"] for s in steps if s["function_name"] != "ship_step"))


def _all_messages(settings: Settings, key: str) -> list[OutboxMessage]:
    with session_scope(settings.app_database_url) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.key.like(key))))
