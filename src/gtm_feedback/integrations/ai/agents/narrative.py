"""Insights narrative: one or two sentences from a report section's computed figures."""

from __future__ import annotations

from gtm_feedback.integrations.ai.schemas import Narrative, NarrativeInput
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools
from gtm_feedback.integrations.ai.text import clip

VERSION = "insights-narrative/1"
INSTRUCTIONS = """
Summarise one section of a product area's insight report for a product manager in one or two
plain sentences. Use only the figures given; never invent numbers, names or trends.
"""


def _money(value: float | int | str) -> str:
    amount = float(value)
    if amount >= 1_000_000:
        return f"${amount / 1_000_000:.1f}M"
    return f"${amount / 1_000:.0f}k" if amount >= 1_000 else f"${amount:.0f}"


def _execution(area: str, f: dict[str, float | int | str]) -> str:
    rate = int(f.get("ship_rate", 0))
    tone = " — below the 30 % mark, so the backlog is growing" if rate < 30 else ""
    return (
        f"{area} has {f.get('open', 0)} open, {f.get('shipped', 0)} shipped and "
        f"{f.get('deprioritized', 0)} deprioritized requests; ship rate {rate} %{tone}."
    )


def _dealbreakers(area: str, f: dict[str, float | int | str]) -> str:
    top = f" The biggest is “{f['top_title']}”." if f.get("top_title") else ""
    return (
        f"{f.get('count', 0)} open requests in {area} are dealbreakers for enterprise accounts, "
        f"worth {_money(f.get('arr', 0))} in ARR.{top}"
    )


def _generic(area: str, section: str, f: dict[str, float | int | str]) -> str:
    items = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in list(f.items())[:6])
    return f"{area}, {section.replace('_', ' ')}: {items or 'no figures yet'}."


def offline(data: NarrativeInput, _tools: Tools) -> Narrative:
    """A sentence template per section, filled with the figures."""
    writers = {"execution": _execution, "dealbreakers": _dealbreakers}
    writer = writers.get(data.section)
    text = (
        writer(data.area, data.figures)
        if writer
        else _generic(data.area, data.section, data.figures)
    )
    return Narrative(summary=clip(text, 400))


AGENT = AgentSpec("insights-narrative", VERSION, INSTRUCTIONS, NarrativeInput, Narrative, offline)
