"""Find related: the existing request closest to a new one, if close enough (never itself)."""

from __future__ import annotations

from gtm_feedback.integrations.ai.schemas import Related, RelatedInput
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools
from gtm_feedback.matching.matcher import request_text

VERSION = "related/1"
INSTRUCTIONS = """
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


def offline(data: RelatedInput, tools: Tools) -> Related:
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


def check(data: RelatedInput, output: Related) -> None:
    """The id must be one of the candidates."""
    known = {candidate.id for candidate in data.candidates}
    if output.related_request_id is not None and output.related_request_id not in known:
        raise ValueError(f"unknown request id {output.related_request_id!r}; use a candidate id")


AGENT = AgentSpec("related", VERSION, INSTRUCTIONS, RelatedInput, Related, offline, check)
