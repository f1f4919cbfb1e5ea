"""Approvals: a workflow waits durably, the API decides once, the workflow resumes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from dbos import DBOS, SetWorkflowID
from fastapi.testclient import TestClient

from gtm_feedback.approval import service
from gtm_feedback.approval.models import Approval, ApprovalStatus
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.main import create_app
from gtm_feedback.migrations import upgrade
from gtm_feedback.user.models import Role
from tests.auth import bearer, signed_in


@DBOS.step()
def ask_step(url: str, question: str) -> str:
    """Record the approval for this workflow (a step: done once, even after a restart)."""
    with session_scope(url) as session:
        approval = service.request_approval(
            session=session,
            workflow_id=DBOS.workflow_id or "",
            kind="test",
            payload={"question": question},
        )
        return approval.token


@DBOS.workflow()
def ask_workflow(url: str, question: str) -> dict[str, Any] | None:
    """Ask, then wait for the decision (or time out)."""
    token = ask_step(url, question)
    decision: dict[str, Any] | None = DBOS.recv(service.topic(token), timeout_seconds=30)
    return decision


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    found = Settings(data_dir=tmp_path_factory.mktemp("approvals"), port=8112)
    upgrade(found.app_database_url)
    return found


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _pending_token(url: str, workflow_id: str) -> str:
    for _ in range(200):
        with session_scope(url) as session:
            found = [a for a in service.pending(session=session) if a.workflow_id == workflow_id]
        if found:
            return found[0].token
        threading.Event().wait(0.05)
    raise AssertionError("the workflow never asked")


def test_decision_resumes_the_waiting_workflow_once(client: TestClient, settings: Settings) -> None:
    url = settings.app_database_url
    with SetWorkflowID("approval-test-1"):
        handle = DBOS.start_workflow(ask_workflow, url, "Attach to SSO?")
    token = _pending_token(url, "approval-test-1")
    inbox = client.get("/api/approvals").json()["items"]
    assert [a["token"] for a in inbox] == [token]
    assert inbox[0]["payload"] == {"question": "Attach to SSO?"}

    pm = bearer(url, Role.approver, "pm@x.io")
    decided = client.post(f"/api/approvals/{token}", json={"approved": True}, headers=pm)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert decided.json()["decided_by"] == "pm@x.io"
    assert handle.get_result() == {"token": token, "approved": True, "decided_by": "pm@x.io"}

    other = bearer(url, Role.approver, "other@x.io")
    again = client.post(f"/api/approvals/{token}", json={"approved": False}, headers=other)
    assert again.status_code == 409
    assert "already approved by pm@x.io at" in again.json()["detail"]
    assert client.get("/api/approvals").json()["items"] == []


def test_unknown_token_and_bad_bodies(client: TestClient) -> None:
    assert client.post("/api/approvals/nope", json={"approved": True}).status_code == 404
    bad = client.post("/api/approvals/nope", json={"approved": "perhaps", "user": "a"})
    assert bad.status_code == 422
    fields = {tuple(error["loc"]) for error in bad.json()["detail"]}
    # Who decides is the signed-in user, never a name in the body.
    assert fields == {("body", "approved"), ("body", "user")}


def test_only_one_of_two_racing_deciders_wins(db_url: str) -> None:
    with session_scope(db_url) as session:
        token = service.request_approval(
            session=session, workflow_id="wf-race", kind="test", payload={}
        ).token
    outcomes: list[str] = []

    def decide(approved: bool) -> None:
        try:
            with session_scope(db_url, write=True) as session:
                service.decide(session=session, token=token, approved=approved, user=str(approved))
            outcomes.append("won")
        except service.AlreadyDecidedError:
            outcomes.append("lost")

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]
    with session_scope(db_url) as session:
        row = session.get(Approval, token)
        assert row is not None
        assert row.status in {ApprovalStatus.APPROVED, ApprovalStatus.DECLINED}
        assert row.decided_by == ("True" if row.status is ApprovalStatus.APPROVED else "False")
        assert row.decided_at is not None
        with pytest.raises(service.ApprovalNotFoundError):
            service.decide(session=session, token="missing", approved=True, user="x")
