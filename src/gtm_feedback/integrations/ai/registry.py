"""Every agent by name, and the runner built from settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gtm_feedback.config import Settings
from gtm_feedback.integrations.ai.agents import (
    identity,
    insights,
    related,
    request_writer,
    slack_writer,
)
from gtm_feedback.integrations.ai.runner import AgentRunner
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools
from gtm_feedback.integrations.embeddings import FloatMatrix, get_embedder

AGENTS: dict[str, AgentSpec[Any, Any]] = {
    spec.name: spec
    for spec in (
        request_writer.AGENT,
        related.AGENT,
        slack_writer.EXTRACT,
        slack_writer.COMPOSE,
        identity.AGENT,
        insights.AGENT,
    )
}


def build_runner(settings: Settings) -> AgentRunner:
    """A runner whose offline engines embed with the configured embedder (loaded on first use)."""

    def embed(texts: Sequence[str]) -> FloatMatrix:
        return get_embedder(settings).embed(texts)

    return AgentRunner(settings, Tools(embed=embed))
