"""What every agent's typed input and output share (each domain's agents.py holds its own)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def at_most_two_sentences(value: str, what: str) -> str:
    """``value`` unchanged if it has at most two sentences; else a ValueError naming ``what``."""
    if len(SENTENCE_END.findall(value.strip())) > 2:
        raise ValueError(f"{what} must be at most two sentences")
    return value


class AgentModel(BaseModel):
    """Base of agent inputs and outputs: no unknown fields, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
