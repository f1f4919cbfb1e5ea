"""Totals of the agent runs: by agent and model over a period, and the latest fallbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gtm_feedback.ai_usage.models import AgentCall


@dataclass(frozen=True)
class UsageRow:
    """One agent on one model over the period."""

    agent: str
    model: str
    calls: int
    fallbacks: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    mean_ms: float


def totals(*, session: Session, since: datetime, until: datetime | None = None) -> list[UsageRow]:
    """Runs from ``since`` (to ``until``), by agent and model, the costliest first."""
    stmt = select(
        AgentCall.agent,
        AgentCall.model,
        func.count(),
        func.count(AgentCall.fallback_reason),
        func.coalesce(func.sum(AgentCall.prompt_tokens), 0),
        func.coalesce(func.sum(AgentCall.completion_tokens), 0),
        func.coalesce(func.sum(AgentCall.cost_usd), 0.0),
        func.coalesce(func.avg(AgentCall.duration_ms), 0.0),
    ).where(AgentCall.at >= since)
    if until is not None:
        stmt = stmt.where(AgentCall.at < until)
    rows = session.execute(stmt.group_by(AgentCall.agent, AgentCall.model)).all()
    found = [
        UsageRow(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), float(r[6]), float(r[7]))
        for r in rows
    ]
    return sorted(found, key=lambda row: (-row.cost_usd, -row.calls, row.agent))


def fallbacks(*, session: Session, limit: int = 20) -> list[AgentCall]:
    """The latest runs that fell back to offline, with why."""
    stmt = select(AgentCall).where(AgentCall.fallback_reason.is_not(None))
    return list(session.scalars(stmt.order_by(AgentCall.at.desc()).limit(limit)))
