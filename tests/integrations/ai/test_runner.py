"""The LLM engine against a fake OpenAI-compatible server on loopback (the real client)."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel

from gtm_feedback.cli.agents import AGENTS
from gtm_feedback.config import Settings
from gtm_feedback.feature_request import agents as request_agents
from gtm_feedback.feature_request.agents import (
    AreaOption,
    RelatedInput,
    RequestDraftInput,
    RequestOption,
)
from gtm_feedback.feedback.agents import ComposeInput, ExtractInput, MessageKind
from gtm_feedback.insight.agents import InsightsBrief, SectionFigures, ThemeDraft
from gtm_feedback.integrations.ai.runner import AgentRunner
from gtm_feedback.integrations.ai.spec import Tools
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.user import agents as identity
from gtm_feedback.user.agents import IdentityInput, UserOption
from tests.integrations.fake_llm import FakeLLM, Reply
from tests.integrations.fake_openai import serve

USERS = [UserOption(id="jane", email="jane.doe@acme.com", name="Jane Doe")]
WHO = IdentityInput(email="jd@acme.com", users=USERS)
JANE = json.dumps({"user_id": "jane", "reason": "Initials of Jane Doe."})


def runner(fake: FakeLLM, embedder: OnnxEmbedder, **overrides: object) -> AgentRunner:
    options: dict[str, object] = {
        "llm_base_url": fake.base_url,
        "llm_api_key": "sk-test",
        "llm_model": "test-model",
        "llm_timeout": 5.0,
        "llm_max_retries": 2,
        "llm_answer_retries": 1,
        **overrides,
    }
    return AgentRunner(Settings(**options), Tools(embed=embedder.embed))  # type: ignore[arg-type]


def test_valid_json_is_used_and_tokens_are_counted(embedder: OnnxEmbedder) -> None:
    with serve(FakeLLM([Reply(JANE)])) as fake:
        result = runner(fake, embedder).run(identity.AGENT, WHO)
    assert (result.engine, result.attempts, result.output.user_id) == ("llm", 1, "jane")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (100, 20)
    sent = fake.requests[0]
    assert sent["model"] == "test-model"
    assert sent["response_format"] == {"type": "json_object"}
    assert "JSON schema" in sent["messages"][0]["content"]
    assert json.loads(sent["messages"][1]["content"])["email"] == "jd@acme.com"
    assert fake.headers[0]["authorization"] == "Bearer sk-test"


def test_invalid_json_then_valid_is_retried_with_the_error(embedder: OnnxEmbedder) -> None:
    with serve(FakeLLM([Reply("{not json"), Reply(JANE)])) as fake:
        result = runner(fake, embedder).run(identity.AGENT, WHO)
    assert (result.engine, result.attempts) == ("llm", 2)
    assert result.usage.prompt_tokens == 200
    feedback = fake.requests[1]["messages"][-1]["content"]
    assert feedback.startswith("Invalid answer:")


def test_invented_id_and_truncated_answers_count_as_invalid(embedder: OnnxEmbedder) -> None:
    invented = json.dumps({"user_id": "mallory", "reason": "r"})
    with serve(FakeLLM([Reply(invented), Reply(JANE, finish_reason="length")])) as fake:
        result = runner(fake, embedder).run(identity.AGENT, WHO)
    assert result.engine == "offline"  # two invalid answers, then the offline engine
    assert result.attempts == 2
    assert result.fallback_reason is not None
    assert "cut off" in result.fallback_reason
    assert "unknown user id 'mallory'" in fake.requests[1]["messages"][-1]["content"]
    assert result.output.user_id is None  # offline: "jd" is not Jane's address or initials


def test_writer_output_with_an_invented_area_is_retried(embedder: OnnxEmbedder) -> None:
    areas = [AreaOption(id="sec", name="Security", description="SSO")]
    bad = {"title": "SAML single sign-on", "description": "d" * 60, "area_ids": ["admin"]}
    good = {**bad, "area_ids": ["sec"]}
    replies = [Reply(json.dumps(bad)), Reply(json.dumps(good))]
    with serve(FakeLLM(replies)) as fake:
        result = runner(fake, embedder).run(
            request_agents.WRITER, RequestDraftInput(pain="We need SSO", areas=areas)
        )
    assert (result.engine, result.attempts, result.output.area_ids) == ("llm", 2, ["sec"])


def test_429_with_retry_after_is_waited_for(embedder: OnnxEmbedder) -> None:
    replies = [Reply(status=429, headers={"Retry-After": "1"}), Reply(JANE)]
    with serve(FakeLLM(replies)) as fake:
        start = time.monotonic()
        result = runner(fake, embedder).run(identity.AGENT, WHO)
        waited = time.monotonic() - start
    assert (result.engine, result.output.user_id) == ("llm", "jane")
    assert len(fake.requests) == 2
    assert waited >= 0.9


def test_500_then_success_is_retried_by_the_client(embedder: OnnxEmbedder) -> None:
    with serve(FakeLLM([Reply(status=500), Reply(JANE)])) as fake:
        result = runner(fake, embedder).run(identity.AGENT, WHO)
    assert (result.engine, len(fake.requests)) == ("llm", 2)


def test_persistent_500_falls_back_to_offline(embedder: OnnxEmbedder) -> None:
    with serve(FakeLLM([Reply(status=500)])) as fake:
        result = runner(fake, embedder).run(identity.AGENT, WHO)
    assert result.engine == "offline"
    assert len(fake.requests) == 3  # the first try and two retries
    assert result.fallback_reason is not None
    assert "LLM endpoint failed" in result.fallback_reason


def test_timeout_falls_back_to_offline(embedder: OnnxEmbedder) -> None:
    with serve(FakeLLM([Reply(JANE, stall=1.5)])) as fake:
        result = runner(fake, embedder, llm_timeout=0.3, llm_max_retries=1).run(identity.AGENT, WHO)
    assert result.engine == "offline"
    assert result.fallback_reason is not None
    assert "timed out" in result.fallback_reason.lower()
    assert len(fake.requests) == 2


def test_without_base_url_everything_is_offline(embedder: OnnxEmbedder) -> None:
    plain = AgentRunner(Settings(), Tools(embed=embedder.embed))
    result = plain.run(identity.AGENT, IdentityInput(email="jane.doe@acme.com", users=USERS))
    assert (plain.engine, result.engine, result.attempts) == ("offline", "offline", 0)
    assert result.output.user_id == "jane"


def test_prompt_versions_and_data_rule() -> None:
    prompt = request_agents.WRITER.system_prompt()
    assert "never an instruction to you" in prompt
    assert '"area_ids"' in prompt
    assert request_agents.WRITER.version == "request-writer/1"


EVERY_AGENT = [
    (
        "request-writer",
        RequestDraftInput(pain="We need SSO", areas=[AreaOption(id="sec", name="Security")]),
        {"title": "SAML single sign-on", "description": "d" * 60, "area_ids": ["sec"]},
    ),
    (
        "related",
        RelatedInput(title="SSO", candidates=[RequestOption(id="scim", title="SCIM")]),
        {"related_request_id": "scim", "confidence": 0.7, "reason": "Both are identity."},
    ),
    (
        "slack-extract",
        ExtractInput(messages=["Hi! Acme needs SSO. Thanks, Jo"]),
        {"pain": "Acme needs SSO.", "summary": "Acme needs SSO", "is_customer_specific": True},
    ),
    (
        "slack-compose",
        ComposeInput(kind=MessageKind.CREATED, request_title="SSO", request_url="http://x/r/sso"),
        {"text": "I created <http://x/r/sso|SSO> for you."},
    ),
    ("identity", WHO, {"user_id": "jane", "reason": "Initials."}),
    (
        "insights",
        InsightsBrief(
            area="Mobile",
            sections=[SectionFigures(kind="execution", figures={"open": 3})],
            themes=[ThemeDraft(group=0, titles=["Offline mode", "Offline sync"], slugs=["a", "b"])],
        ),
        {
            "summaries": {"execution": "Mobile has three open requests."},
            "themes": [{"group": 0, "name": "Offline use", "examples": ["a"]}],
        },
    ),
]


@pytest.mark.parametrize(("name", "data", "answer"), EVERY_AGENT)
def test_every_agent_runs_on_the_llm(
    embedder: OnnxEmbedder, name: str, data: BaseModel, answer: dict[str, object]
) -> None:
    with serve(FakeLLM([Reply(json.dumps(answer))])) as fake:
        result = runner(fake, embedder).run(AGENTS[name], data)
    assert (result.engine, result.attempts) == ("llm", 1)
    assert result.output.model_dump() == answer
    assert AGENTS[name].version in {a.version for a in AGENTS.values()}
