"""AI usage: every LLM agent run recorded with tokens and cost, a monthly budget that sends
the agents offline once spent (and says why), totals on the admin page and the command line.
The LLM is a fake OpenAI-compatible server on loopback, spoken to by the real client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gtm_feedback.ai_usage.ledger import SqlLedger, month_start
from gtm_feedback.ai_usage.models import AgentCall
from gtm_feedback.cli import app
from gtm_feedback.config import Settings, get_settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.ai.runner import AgentRunner
from gtm_feedback.integrations.ai.spec import Tools
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.main import create_app
from gtm_feedback.migrations import upgrade
from gtm_feedback.user import agents as identity
from gtm_feedback.user.agents import IdentityInput, UserOption
from tests.auth import signed_in
from tests.integrations.fake_llm import FakeLLM, Reply
from tests.integrations.fake_openai import serve

WHO = IdentityInput(
    email="jd@acme.com", users=[UserOption(id="jane", email="jane.doe@acme.com", name="Jane")]
)
JANE = json.dumps({"user_id": "jane", "reason": "Initials of Jane Doe."})
#: 100 prompt and 20 completion tokens a call (the fake's usage) at these prices.
PRICES = "test-model=150/600"
CALL_COST = (100 * 150 + 20 * 600) / 1_000_000  # $0.027


def _runner(
    fake: FakeLLM, embedder: OnnxEmbedder, ledger: SqlLedger, budget: float | None
) -> AgentRunner:
    settings = Settings(
        llm_base_url=fake.base_url,
        llm_model="test-model",
        llm_prices=PRICES,
        llm_monthly_budget=budget,
        llm_max_retries=0,
        llm_answer_retries=0,
    )
    return AgentRunner(settings, Tools(embed=embedder.embed), ledger)


def _calls(url: str) -> list[AgentCall]:
    with session_scope(url) as session:
        return list(session.scalars(select(AgentCall).order_by(AgentCall.at)))


def test_every_llm_run_is_recorded_with_its_cost(db_url: str, embedder: OnnxEmbedder) -> None:
    ledger = SqlLedger(db_url)
    with serve(FakeLLM([Reply(JANE)])) as fake:
        runner = _runner(fake, embedder, ledger, budget=None)
        for _ in range(3):
            assert runner.run(identity.AGENT, WHO).engine == "llm"
    ledger.flush()
    calls = _calls(db_url)
    assert len(calls) == 3
    for call in calls:
        assert (call.agent, call.engine, call.model) == ("identity", "llm", "test-model")
        assert (call.prompt_tokens, call.completion_tokens) == (100, 20)
        assert call.cost_usd == pytest.approx(CALL_COST)
        assert call.duration_ms > 0
        assert call.fallback_reason is None


def test_past_the_budget_the_agents_run_offline_and_say_why(
    db_url: str, embedder: OnnxEmbedder
) -> None:
    budget = 2.5 * CALL_COST  # the third call would pass it
    ledger = SqlLedger(db_url)
    with serve(FakeLLM([Reply(JANE)])) as fake:
        runner = _runner(fake, embedder, ledger, budget)
        engines = [runner.run(identity.AGENT, WHO).engine for _ in range(3)]
        over = runner.run(identity.AGENT, WHO)
        assert len(fake.requests) == 3  # nothing sent once the month's budget was spent
    assert engines == ["llm", "llm", "llm"]
    assert over.engine == "offline"
    assert over.fallback_reason is not None
    assert "monthly AI budget of $0.07 is spent ($0.08)" in over.fallback_reason
    ledger.flush()
    assert [c.engine for c in _calls(db_url)] == ["llm", "llm", "llm", "offline"]
    # A new month starts from nothing: last month's calls do not count against it.
    with session_scope(db_url, write=True) as session:
        for call in session.scalars(select(AgentCall)):
            call.at = month_start() - timedelta(days=3)
    next_month = SqlLedger(db_url)
    with serve(FakeLLM([Reply(JANE)])) as fake:
        again = _runner(fake, embedder, next_month, budget).run(identity.AGENT, WHO)
    next_month.flush()  # written before the test's database goes
    assert again.engine == "llm"


def test_without_an_llm_nothing_is_recorded(db_url: str, embedder: OnnxEmbedder) -> None:
    runner = AgentRunner(Settings(), Tools(embed=embedder.embed), SqlLedger(db_url))
    assert runner.run(identity.AGENT, WHO).engine == "offline"
    assert _calls(db_url) == []


def _spend(url: str, agent: str, cost: float, reason: str | None = None) -> None:
    with session_scope(url, write=True) as session:
        row = AgentCall(agent=agent, engine="offline" if reason else "llm", model="gpt-4o-mini")
        row.prompt_tokens, row.completion_tokens = 1000, 200
        row.duration_ms, row.cost_usd, row.fallback_reason = 850.0, cost, reason
        session.add(row)


def test_totals_on_the_admin_page_and_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        data_dir=tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_monthly_budget=1.0
    )
    upgrade(settings.app_database_url)
    url = settings.app_database_url
    _spend(url, "request-writer", 0.75)
    _spend(url, "request-writer", 0.30)
    _spend(url, "slack-compose", 0.0, "the monthly AI budget of $1.00 is spent ($1.05)")
    with signed_in(create_app(settings, launch_dbos=False), settings) as client:
        page = client.get("/admin/ai", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "$1.05" in page.text
    assert 'id="over-budget"' in page.text
    assert "the monthly AI budget of $1.00 is spent ($1.05)" in page.text
    monkeypatch.setenv("GTMFB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GTMFB_LLM_MONTHLY_BUDGET", "1")
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(app, ["agents", "usage", "--json"])
        table = CliRunner().invoke(app, ["agents", "usage"])
        earlier = CliRunner().invoke(app, ["agents", "usage", "--month", "2020-01", "--json"])
        wrong = CliRunner().invoke(app, ["agents", "usage", "--month", "last"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.output)
    assert found["month"] == f"{datetime.now(UTC):%Y-%m}"
    assert found["cost_usd"] == pytest.approx(1.05)
    assert found["budget_usd"] == 1.0
    writer = next(row for row in found["agents"] if row["agent"] == "request-writer")
    assert (writer["calls"], writer["prompt_tokens"]) == (2, 2000)
    assert "of a $1.00 budget" in table.output
    assert json.loads(earlier.output)["agents"] == []
    assert wrong.exit_code == 2
