"""The agent runner built from settings (each domain's ``agents.py`` holds its agents)."""

from __future__ import annotations

from collections.abc import Sequence

from gtm_feedback.config import Settings
from gtm_feedback.integrations.ai.runner import AgentRunner, UsageLedger
from gtm_feedback.integrations.ai.spec import Tools
from gtm_feedback.integrations.embeddings import FloatMatrix, get_embedder


def build_runner(settings: Settings, ledger: UsageLedger | None = None) -> AgentRunner:
    """A runner whose offline engines embed with the configured embedder (loaded on first use),
    recording each run in ``ledger``."""

    def embed(texts: Sequence[str]) -> FloatMatrix:
        return get_embedder(settings).embed(texts)

    return AgentRunner(settings, Tools(embed=embed), ledger)
