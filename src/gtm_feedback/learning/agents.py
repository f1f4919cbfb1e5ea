"""The match-check agent: which candidate request asks for the same thing as a pain, if any."""

from __future__ import annotations

from pydantic import Field

from gtm_feedback.integrations.ai.schemas import AgentModel
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools


class CheckOption(AgentModel):
    """A candidate request: its words and some feedback already linked to it."""

    id: str
    title: str
    description: str = ""
    examples: list[str] = Field(default_factory=list)


class CheckInput(AgentModel):
    """A customer's pain and the requests matching ranked best for it."""

    pain: str
    candidates: list[CheckOption] = Field(min_length=1, max_length=5)


class CheckAnswer(AgentModel):
    """The candidate asking for the same thing as the pain, or none, and how sure."""

    request_id: str | None
    confidence: float = Field(ge=0, le=1)
    reason: str = Field(default="", max_length=300)


VERSION = "match-check/1"
INSTRUCTIONS = """
A customer's pain may ask for the same thing as one of the candidate feature requests (each shown
with feedback already linked to it). Pick the candidate that asks for the same thing, or none.
- request_id: an id copied from the candidates, or null when none asks for the same thing.
- confidence: 0 to 1, how sure you are of your answer. reason: one short sentence.
A request on the same topic that asks for something different is not the same thing.
"""


def no_opinion(_data: CheckInput, _tools: Tools) -> CheckAnswer:
    """Offline there is nothing to add to the calibration: no choice, no confidence."""
    return CheckAnswer(request_id=None, confidence=0.0, reason="No language model answered.")


def check_answer(data: CheckInput, output: CheckAnswer) -> None:
    """The id must be one of the candidates."""
    if output.request_id is not None and output.request_id not in {c.id for c in data.candidates}:
        raise ValueError(f"unknown request id {output.request_id!r}; use a candidate id")


AGENT = AgentSpec(
    "match-check", VERSION, INSTRUCTIONS, CheckInput, CheckAnswer, no_opinion, check_answer
)
