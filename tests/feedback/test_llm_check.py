"""The LLM check of the approval band: the real app and DBOS, an OpenAI-compatible fake on loopback.

The fake answers the match-check agent as scripted and fails every other agent (they fall back to
offline), so each test can count exactly the questions matching asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feedback.models import Feedback, MatchTier
from gtm_feedback.learning import agents, checks
from gtm_feedback.learning.models import (
    CalibrationStatus,
    MatchCalibration,
    MatchCheck,
    MatchDecision,
)
from gtm_feedback.main import create_app
from gtm_feedback.matching.calibration import calibration_for
from tests.auth import signed_in
from tests.feedback.test_process_feedback import account_id, body
from tests.integrations.fake_openai import serve
from tests.runs import finished, seeded_settings

MOBILE = "Our reps need the mobile app to work without signal."
PYTHON = "Could we get a Python client library?"


@dataclass
class CheckingLLM:
    """Answers match checks with ``mode`` (agree: the first candidate; none; fail: HTTP 500)."""

    mode: str = "agree"
    confidence: float = 0.9
    base_url: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """A scripted answer to a match check; a 500 for every other agent."""
        if agents.INSTRUCTIONS.strip()[:40] not in body["messages"][0]["content"]:
            return 500, {}, b'{"error": {"message": "only match checks here"}}'
        question = json.loads(body["messages"][-1]["content"])
        self.questions.append(question)
        if self.mode == "fail":
            return 500, {}, b'{"error": {"message": "model overloaded"}}'
        chosen = question["candidates"][0]["id"] if self.mode == "agree" else None
        answer = {"request_id": chosen, "confidence": self.confidence, "reason": "Same need."}
        message = {"role": "assistant", "content": json.dumps(answer)}
        payload = {
            "id": "1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 25, "total_tokens": 325},
        }
        return 200, {}, json.dumps(payload).encode()


@pytest.fixture(scope="module")
def llm() -> Iterator[CheckingLLM]:
    with serve(CheckingLLM()) as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, llm: CheckingLLM) -> Settings:
    return seeded_settings(
        tmp_path_factory,
        "llm-check",
        embed=True,
        port=8142,
        followup_delay=1.0,
        approval_timeout=60.0,
        llm_base_url=llm.base_url,
        llm_max_retries=0,
        llm_answer_retries=0,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def run(client: TestClient, settings: Settings, pain: str) -> dict[str, Any]:
    started = client.post("/api/feedback", json=body(pain, account_id(settings)))
    assert started.status_code == 202, started.text
    done = finished(client, started.json()["run_id"], timeout=120)
    assert done["status"] == "SUCCESS", done
    result: dict[str, Any] = done["result"]
    return result


def decide(client: TestClient, result: dict[str, Any], approved: bool) -> dict[str, Any]:
    """Answer the approval a waiting result asked for; the decision run's result."""
    token = next(
        a["token"]
        for a in client.get("/api/approvals").json()["items"]
        if a["workflow_id"] == result["decision_run_id"]
    )
    answered = client.post(f"/api/approvals/{token}", json={"approved": approved})
    assert answered.status_code == 200, answered.text
    done: dict[str, Any] = finished(client, result["decision_run_id"], timeout=120)["result"]
    return {**done, "token": token}


def stored_checks(settings: Settings) -> list[MatchCheck]:
    with session_scope(settings.app_database_url) as session:
        return list(session.scalars(select(MatchCheck)))


def test_the_llm_opinion_is_a_feature_asked_once_per_question(
    client: TestClient, settings: Settings, llm: CheckingLLM
) -> None:
    llm.mode, asked = "agree", len(llm.questions)
    first = run(client, settings, MOBILE)
    # The shipped calibration gives the opinion no weight: a person is still asked.
    assert (first["tier"], first["outcome"]) == ("approval", "waiting")
    best = first["candidates"][0]
    assert (best["llm"], best["request_id"]) == (0.9, first["request_id"])
    assert "an AI check agrees (0.90)" in best["reason"]
    assert len(llm.questions) == asked + 1
    question = llm.questions[-1]
    assert question["pain"] == MOBILE
    assert question["candidates"][0]["id"] == first["request_id"]
    assert 1 <= len(question["candidates"]) <= checks.CHECKED
    [row] = [c for c in stored_checks(settings) if c.request_id == first["request_id"]]
    assert (row.prompt_tokens, row.completion_tokens, row.confidence) == (300, 25, 0.9)
    # The same question again (nothing changed in between) is answered from the cache.
    again = run(client, settings, MOBILE)
    assert again["candidates"][0]["llm"] == 0.9
    assert len(llm.questions) == asked + 1
    # The person's decision keeps the opinion with its label, for the next refit.
    approved = decide(client, first, approved=True)
    assert approved["outcome"] == "attached"
    assert decide(client, again, approved=True)["outcome"] == "attached"
    with session_scope(settings.app_database_url) as session:
        label = session.scalars(
            select(MatchDecision).where(MatchDecision.key == f"approval:{approved['token']}")
        ).one()
    assert (label.right, label.llm) == (True, 0.9)
    page = client.get("/api/matching").json()
    assert page["llm_check"] is True
    assert page["llm_checks_30_days"] >= 1
    assert page["llm_tokens_30_days"] == 325 * page["llm_checks_30_days"]


def test_a_dissenting_or_failing_llm_never_sends_feedback_elsewhere(
    client: TestClient, settings: Settings, llm: CheckingLLM
) -> None:
    llm.mode = "none"
    dissent = run(client, settings, PYTHON)
    assert (dissent["tier"], dissent["outcome"]) == ("approval", "waiting")
    best = dissent["candidates"][0]
    assert best["llm"] == -0.9
    assert "an AI check finds no match (0.90)" in best["reason"]
    llm.mode, before = "fail", len(stored_checks(settings))
    failed = run(client, settings, "Reps want the phone app usable on planes with no network.")
    assert (failed["tier"], failed["outcome"]) == ("approval", "waiting")
    assert "llm" not in failed["candidates"][0]  # no answer, no opinion, nothing cached
    assert len(stored_checks(settings)) == before
    for waiting in (dissent, failed):
        assert decide(client, waiting, approved=False)["outcome"] == "created"


def test_a_learnt_weight_lets_agreement_attach_automatically(
    client: TestClient, settings: Settings, llm: CheckingLLM
) -> None:
    llm.mode, llm.confidence = "agree", 0.95
    shipped = calibration_for("all-MiniLM-L6-v2-onnx-int8")
    learnt = MatchCalibration(
        run_id="tests-llm-weight",
        model_id=shipped.model_id,
        coefficients=[*shipped.coefficients[:4], 12.0],
        auto_threshold=0.98,
        decisions=200,
        held_back=50,
        status=CalibrationStatus.ACTIVE,
        trigger="tests",
    )
    with session_scope(settings.app_database_url, write=True) as session:
        session.add(learnt)
    try:
        result = run(client, settings, "Field sales needs the mobile app to keep working offline.")
    finally:
        with session_scope(settings.app_database_url, write=True) as session:
            session.execute(
                update(MatchCalibration)
                .where(MatchCalibration.run_id == "tests-llm-weight")
                .values(status=CalibrationStatus.REVERTED)
            )
    assert (result["tier"], result["outcome"]) == ("auto", "attached")
    assert result["confidence"] >= 0.98
    with session_scope(settings.app_database_url) as session:
        stored = session.get(Feedback, result["feedback_id"])
        assert stored is not None
        assert stored.match_tier is MatchTier.AUTO
        assert "an AI check agrees (0.95)" in (stored.match_reason or "")
