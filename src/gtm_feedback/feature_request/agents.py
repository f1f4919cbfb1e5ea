"""Feature-request agents: the request writer (a pain becomes a new request) and find-related."""

from __future__ import annotations

import re

import numpy as np
from pydantic import Field, field_validator

from gtm_feedback.integrations.ai.schemas import AgentModel, at_most_two_sentences
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools
from gtm_feedback.matching.matcher import request_text
from gtm_feedback.text.markup import clip, sentences, strip_noise


class AreaOption(AgentModel):
    """A product area the writer may choose."""

    id: str
    name: str
    description: str = ""


class RequestDraftInput(AgentModel):
    """A customer pain to turn into a new feature request."""

    pain: str
    areas: list[AreaOption] = Field(min_length=1)


class RequestDraft(AgentModel):
    """A new request: short title, the pain (not a solution) in at most two sentences, areas."""

    title: str = Field(min_length=10, max_length=200)
    description: str = Field(min_length=50, max_length=500)
    area_ids: list[str] = Field(min_length=1)

    @field_validator("description")
    @classmethod
    def _two_sentences(cls, value: str) -> str:
        return at_most_two_sentences(value, "the description")


class RequestOption(AgentModel):
    """An existing request that could be related."""

    id: str
    title: str
    description: str = ""


class RelatedInput(AgentModel):
    """A new request and the existing ones it might relate to."""

    title: str
    description: str = ""
    candidates: list[RequestOption]


class Related(AgentModel):
    """The related (not identical) request, if any."""

    related_request_id: str | None
    confidence: float = Field(ge=0, le=1)
    reason: str


WRITER_VERSION = "request-writer/1"
WRITER_INSTRUCTIONS = """
You write feature requests for a B2B product team from one customer's pain.
- title: 10 to 200 characters, a short noun phrase naming what is missing (no customer names).
- description: 50 to 500 characters, at most two sentences, describing the customer's problem,
  not a solution or an implementation.
- area_ids: one or more ids copied from the areas given; choose the areas the pain belongs to.
"""

_NEED = re.compile(
    r"\b(?:need|needs|want|wants|require|requires|are asking for|asked for|asking for|"
    r"would like|expect|expects)\s+(?:to\s+)?(?:be able to\s+)?(?:a |an |the |some )?(.+)",
    re.IGNORECASE,
)
_WITHOUT = re.compile(r"\bwithout\s+(?:a |an |the )?(.+)", re.IGNORECASE)
_NO_WAY = re.compile(r"\bthere is no (?:way to\s+)?(?:a |an |the )?(.+)", re.IGNORECASE)
_LEAD = re.compile(r"^(?:our|their|we|they|i|the customer|customers|users)\s+", re.IGNORECASE)
_CLAUSE_END = re.compile(r",|;| because | so that | so | which | but | and never | before ")
_CONTEXT = re.compile(r"^[^:]{1,40}:\s+")  # "Their champion said: …"
_SIGNAL = re.compile(
    r"\b(?:need|want|require|asking|without|can't|cannot|no way|missing|lost|lose|fail|"
    r"break|slow|throttl|manual|block|duplicate|timeout|times out|not)\w*",
    re.IGNORECASE,
)
_MIN_DESCRIPTION = 50
_PADDING = " No existing request covered it when this feedback arrived."


def _pain_sentence(pain: str) -> str:
    candidates = sentences(pain) or [pain]
    with_signal = [s for s in candidates if _SIGNAL.search(s)]
    return _CONTEXT.sub("", (with_signal or candidates)[0]).strip()


def draft_title(pain: str) -> str:
    """A short title from the sentence that carries the pain (key-phrase heuristics)."""
    sentence = _pain_sentence(pain)
    phrase = sentence
    for pattern in (_NEED, _WITHOUT, _NO_WAY):
        found = pattern.search(sentence)
        if found and len(found.group(1)) >= 8:
            phrase = found.group(1)
            break
    phrase = _LEAD.sub("", phrase.strip())
    cut = _CLAUSE_END.split(phrase, maxsplit=1)[0]
    phrase = cut if len(cut) >= 12 else phrase
    phrase = clip(phrase.strip(" .!?"), 90).rstrip(" .!?")
    if len(phrase) < 10:
        phrase = clip(f"Customer request: {strip_noise(pain) or 'unspecified need'}", 90)
    return phrase[0].upper() + phrase[1:]


def draft_description(pain: str) -> str:
    """The pain in at most two sentences, 50–500 characters."""
    parts = sentences(_CONTEXT.sub("", pain.strip())) or ["A customer reported a need."]
    text = clip(" ".join(parts[:2]), 480)
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?", "…")):
        text += "."
    text = f"Customer pain: {text}" if len(text) < 300 else text
    if len(text) < _MIN_DESCRIPTION and len(parts) < 2:
        text += _PADDING
    return text[:500]


def choose_areas(pain: str, data: RequestDraftInput, tools: Tools) -> list[str]:
    """The area closest in meaning to the pain, plus any within 0.03 of it."""
    texts = [f"{area.name}: {area.description}" for area in data.areas]
    vectors = tools.embed([pain or "feedback", *texts])
    scores = vectors[1:] @ vectors[0]
    best = float(np.max(scores))
    return [area.id for area, s in zip(data.areas, scores, strict=True) if s >= best - 0.03]


def write_offline(data: RequestDraftInput, tools: Tools) -> RequestDraft:
    """Key-phrase title, the pain as description, areas by embedding similarity."""
    pain = strip_noise(data.pain) or data.pain.strip() or "A customer reported a need."
    return RequestDraft(
        title=draft_title(pain),
        description=draft_description(pain),
        area_ids=choose_areas(pain, data, tools)[:3],
    )


def check_draft(data: RequestDraftInput, output: RequestDraft) -> None:
    """Every area id must be one of those offered."""
    known = {area.id for area in data.areas}
    unknown = [area_id for area_id in output.area_ids if area_id not in known]
    if unknown:
        raise ValueError(f"unknown area ids {unknown}; use only ids from the input")


WRITER = AgentSpec(
    "request-writer",
    WRITER_VERSION,
    WRITER_INSTRUCTIONS,
    RequestDraftInput,
    RequestDraft,
    write_offline,
    check_draft,
)


RELATED_VERSION = "related/1"
RELATED_INSTRUCTIONS = """
A product team just created a feature request. From the candidates, pick the one existing request
that is related (same theme, different ask) so people can cross-reference them, or none.
- related_request_id: an id copied from the candidates, or null when none is clearly related.
- confidence: 0 to 1. reason: one short sentence naming what they share.
An identical request is not "related": it is a duplicate; do not pick it.
"""
#: Cosine of the offline model at which two requests are treated as related...
RELATED_AT = 0.55
#: ...and above which they say the same thing (a duplicate, not a relation).
IDENTICAL_AT = 0.97


def find_related(data: RelatedInput, tools: Tools) -> Related:
    """The most similar candidate between the two cosines above, by embedding similarity."""
    if not data.candidates:
        return Related(related_request_id=None, confidence=0.0, reason="No other requests yet.")
    texts = [request_text(c.title, c.description) for c in data.candidates]
    vectors = tools.embed([request_text(data.title, data.description), *texts])
    scored = sorted(
        zip((vectors[1:] @ vectors[0]).tolist(), data.candidates, strict=True),
        key=lambda pair: -pair[0],
    )
    for similarity, candidate in scored:
        if similarity >= IDENTICAL_AT:
            continue
        if similarity >= RELATED_AT:
            return Related(
                related_request_id=candidate.id,
                confidence=round(float(similarity), 3),
                reason=f"Similar in meaning to “{candidate.title}” ({similarity:.2f}).",
            )
        break
    best = scored[0][0]
    return Related(
        related_request_id=None,
        confidence=round(min(1.0, max(0.0, 1.0 - float(best))), 3),
        reason=f"No request is close enough (best similarity {best:.2f}).",
    )


def check_related(data: RelatedInput, output: Related) -> None:
    """The id must be one of the candidates."""
    known = {candidate.id for candidate in data.candidates}
    if output.related_request_id is not None and output.related_request_id not in known:
        raise ValueError(f"unknown request id {output.related_request_id!r}; use a candidate id")


RELATED = AgentSpec(
    "related",
    RELATED_VERSION,
    RELATED_INSTRUCTIONS,
    RelatedInput,
    Related,
    find_related,
    check_related,
)
