"""``gtm-feedback agents try`` on the sample data, offline and against the fake LLM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gtm_feedback.cli import app
from gtm_feedback.config import get_settings
from tests.integrations.fake_llm import FakeLLM, Reply
from tests.integrations.fake_openai import serve

runner = CliRunner()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agents") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GTMFB_DATA_DIR", str(folder))
        get_settings.cache_clear()
        assert runner.invoke(app, ["seed"]).exit_code == 0
    get_settings.cache_clear()
    return folder


def run(sample: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[dict[str, Any], str]:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(sample))
    get_settings.cache_clear()
    result = runner.invoke(app, ["agents", "try", *args])
    assert result.exit_code == 0, result.output
    body, _, tail = result.stdout.rpartition("}")
    return json.loads(body + "}"), tail


def test_request_writer_offline_on_the_sample(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, tail = run(
        sample, monkeypatch, "request-writer", "We need SAML single sign-on via Okta."
    )
    assert output["title"] == "SAML single sign-on via Okta"
    assert output["area_ids"]
    assert "engine: offline (request-writer/1)" in tail


@pytest.mark.parametrize(
    ("agent", "text", "key"),
    [
        ("related", "Audit log export for admins", "related_request_id"),
        ("slack-extract", "Hi!\nAcme cannot export CSV\n---\n+1", "pain"),
        ("slack-compose", "They need SSO", "text"),
        ("identity", "nobody@example.com", "user_id"),
        ("insights", "mobile", "summaries"),
    ],
)
def test_every_agent_can_be_tried(
    sample: Path, monkeypatch: pytest.MonkeyPatch, agent: str, text: str, key: str
) -> None:
    output, _ = run(sample, monkeypatch, agent, text)
    assert key in output


def test_try_uses_the_configured_llm(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline, _ = run(sample, monkeypatch, "insights", "mobile")
    # The same sections and theme groups, worded by the model.
    answer = {
        "summaries": dict.fromkeys(offline["summaries"], "Mobile ships slowly."),
        "themes": [{"group": t["group"], "name": "Mobile things"} for t in offline["themes"]],
    }
    with serve(FakeLLM([Reply(json.dumps(answer))])) as fake:
        monkeypatch.setenv("GTMFB_LLM_BASE_URL", fake.base_url)
        output, tail = run(sample, monkeypatch, "insights", "mobile")
    assert output["summaries"] == answer["summaries"]
    assert [t["name"] for t in output["themes"]] == ["Mobile things"] * len(offline["themes"])
    assert "engine: llm (insights/1), attempts: 1, tokens: 100 in / 20 out" in tail


def test_match_check_asks_about_the_best_candidates(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(sample))
    get_settings.cache_clear()
    assert runner.invoke(app, ["embeddings", "sync"]).exit_code == 0
    offline, tail = run(sample, monkeypatch, "match-check", "Need Okta SAML SSO for 500 seats")
    # Offline there is no second opinion to give.
    assert (offline["request_id"], offline["confidence"]) == (None, 0.0)
    assert "engine: offline (match-check/1)" in tail
    with serve(FakeLLM([Reply(json.dumps({"request_id": "nope", "confidence": 0.9}))])) as fake:
        monkeypatch.setenv("GTMFB_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("GTMFB_LLM_ANSWER_RETRIES", "0")
        _, tail = run(sample, monkeypatch, "match-check", "Need Okta SAML SSO for 500 seats")
    question = json.loads(fake.requests[0]["messages"][1]["content"])
    assert 1 <= len(question["candidates"]) <= 3
    assert "SAML" in question["candidates"][0]["title"]
    # An id the model made up is refused, and the offline engine answers instead.
    assert "unknown request id 'nope'" in " ".join(tail.split())


def test_unknown_area_is_a_clear_error(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(sample))
    get_settings.cache_clear()
    result = runner.invoke(app, ["agents", "try", "insights", "nope"])
    assert result.exit_code == 2
    assert "no product area with slug 'nope'" in " ".join(result.output.split())
    listed = runner.invoke(app, ["agents", "list"])
    assert "request-writer" in listed.output
    assert "identity/1" in listed.output
