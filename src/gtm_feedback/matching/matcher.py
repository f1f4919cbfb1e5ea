"""Rank candidate requests for one piece of feedback and pick the tier."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gtm_feedback.matching.calibration import Calibration, Opinion, margins
from gtm_feedback.matching.index import CandidateSource, Hit, Matrix
from gtm_feedback.matching.lexical import shortlist_similarities
from gtm_feedback.matching.second import SecondOpinion
from gtm_feedback.matching.tiers import Thresholds, Tier

#: Below this lexical similarity the reason does not mention shared wording.
_WORDING_NOTE = 0.3
#: A runner-up within this score of the best makes the reason say the call is close.
_CLOSE_CALL = 0.03


@dataclass(frozen=True)
class RequestText:
    """What a request says: its title, description, and linked feedback by feedback id."""

    title: str
    description: str = ""
    feedback: Mapping[str, str] = field(default_factory=dict)

    def document(self) -> str:
        """All of the request's words, for lexical comparison."""
        return " ".join([self.title, self.description, *self.feedback.values()])


#: (request ids, feedback ids whose text must be included) -> texts of the requests still there.
TextLookup = Callable[[Sequence[str], Sequence[str]], Mapping[str, RequestText]]


@dataclass(frozen=True)
class Candidate:
    """One request that might be the right home for the feedback."""

    request_id: str
    title: str
    confidence: float
    score: float
    semantic: float
    lexical: float | None
    reason: str
    margin: float = 0.0  # score minus the best other candidate's
    linked: int = 0  # feedback already linked to the request
    opinion: Opinion | None = None  # the second-opinion classifier's, when it knows the request

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in ``feedback.match_candidates``."""
        out: dict[str, Any] = {
            "request_id": self.request_id,
            "title": self.title,
            "confidence": round(self.confidence, 4),
            "score": round(self.score, 4),
            "margin": round(self.margin, 4),
            "linked": self.linked,
            "reason": self.reason,
        }
        if self.opinion is not None:
            out["opinion"] = [round(self.opinion.belief, 4), round(self.opinion.lead, 4)]
        return out


@dataclass(frozen=True)
class MatchResult:
    """The ranked candidates (best first) and what to do with the feedback."""

    tier: Tier
    candidates: list[Candidate]
    exists: float | None = None  # P(some request fits), from the novelty model when configured

    @property
    def best(self) -> Candidate | None:
        """The top candidate, if any."""
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class MatchConfig:
    """How to rank and decide; see docs/matching.md for how the defaults were chosen."""

    thresholds: Thresholds
    calibration: Calibration
    novelty: Calibration | None = None  # P(some request fits); None: the confidence decides
    second: SecondOpinion | None = None  # the classifier over the index items, once trained
    k: int = 5
    lexical_weight: float = 0.2
    shortlist: int = 20
    search: str = "auto"  # where candidates come from: auto, numpy or pgvector


def match(
    query_vector: Matrix,
    query_text: str,
    index: CandidateSource,
    texts: TextLookup,
    config: MatchConfig,
) -> MatchResult:
    """Search, fuse with wording, calibrate, explain and decide the tier."""
    hits = index.search(query_vector, max(config.k, config.shortlist))
    if not hits:
        return MatchResult(Tier.CREATE, [])
    closest = [hit.best_feedback_id for hit in hits if hit.best_feedback_id is not None]
    known = texts([hit.request_id for hit in hits], closest)
    hits = [hit for hit in hits if hit.request_id in known]  # deleted since the index was built
    lexical = _lexical(query_text, hits, known, config.lexical_weight)
    fused = [
        (1 - config.lexical_weight) * hit.score + config.lexical_weight * (lex or 0.0)
        for hit, lex in zip(hits, lexical, strict=True)
    ]
    order = sorted(range(len(hits)), key=lambda i: -fused[i])[: config.k]
    gaps = margins([fused[i] for i in order])
    opinions = _opinions(query_vector, [hits[order_i] for order_i in order], config.second)
    candidates = [
        _candidate(hits[i], fused[i], float(gap), lexical[i], known, config.calibration, opinion)
        for i, gap, opinion in zip(order, gaps, opinions, strict=True)
    ]
    if len(candidates) > 1 and gaps[0] < _CLOSE_CALL:
        note = f"; runner-up “{candidates[1].title}” is almost as close"
        candidates[0] = replace(candidates[0], reason=candidates[0].reason + note)
    return decide(candidates, config)


def decide(candidates: list[Candidate], config: MatchConfig) -> MatchResult:
    """The tier for ranked candidates: auto on the best one's confidence, and "create new"
    when the novelty model (or, without one, that confidence) says nothing fits."""
    if not candidates:
        return MatchResult(Tier.CREATE, [])
    best = candidates[0]
    exists = (
        config.novelty.confidence(best.score, best.margin, best.linked, 0.0, best.opinion)
        if config.novelty is not None
        else None
    )
    return MatchResult(config.thresholds.decide(best.confidence, exists), candidates, exists)


def recalibrate(result: MatchResult, config: MatchConfig) -> MatchResult:
    """The same ranking decided with another calibration, novelty model or thresholds.

    Ranking does not depend on them, so evaluating a refit needs no second search.
    """
    calibration = config.calibration
    rescored = [
        replace(c, confidence=calibration.confidence(c.score, c.margin, c.linked, 0.0, c.opinion))
        for c in result.candidates
    ]
    return decide(rescored, config)


def _opinions(query: Matrix, hits: list[Hit], second: SecondOpinion | None) -> list[Opinion | None]:
    # A request known by its text alone gives the classifier one item: its opinion is then a
    # rescaled cosine, no second view, and over-confident (measured: bench.matching_fit).
    if second is None:
        return [None] * len(hits)
    said = second.opinions(query, [hit.request_id for hit in hits])
    return [opinion if hit.linked else None for opinion, hit in zip(said, hits, strict=True)]


def _lexical(
    query: str, hits: list[Hit], known: Mapping[str, RequestText], weight: float
) -> list[float | None]:
    if weight <= 0 or not hits:
        return [None] * len(hits)
    documents = [known[hit.request_id].document() for hit in hits]
    return list(shortlist_similarities(query, documents))


def _candidate(
    hit: Hit,
    fused: float,
    gap: float,
    lexical: float | None,
    known: Mapping[str, RequestText],
    calibration: Calibration,
    opinion: Opinion | None,
) -> Candidate:
    text = known[hit.request_id]
    return Candidate(
        request_id=hit.request_id,
        title=text.title,
        confidence=calibration.confidence(fused, gap, hit.linked, 0.0, opinion),
        score=fused,
        semantic=hit.score,
        lexical=lexical,
        reason=explain(hit, text, lexical),
        margin=gap,
        linked=hit.linked,
        opinion=opinion,
    )


def explain(hit: Hit, text: RequestText, lexical: float | None) -> str:
    """A sentence a person can check: what was close, and how close."""
    quoted = text.feedback.get(hit.best_feedback_id or "")
    if quoted is not None and hit.best_item_similarity > hit.text_similarity:
        reason = (
            f"Close to feedback already on “{text.title}” "
            f"(similarity {hit.best_item_similarity:.2f}): “{_snippet(quoted)}”"
        )
    else:
        reason = f"Similar to the request “{text.title}” (similarity {hit.text_similarity:.2f})"
    if lexical is not None and lexical >= _WORDING_NOTE:
        reason += f"; shares wording ({lexical:.2f})"
    return reason


def _snippet(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def request_text(title: str, description: str) -> str:
    """The text embedded for a request: its title, then its description."""
    title, description = title.strip(), description.strip()
    if not description:
        return title
    return f"{title}. {description}" if title[-1:] not in ".!?" else f"{title} {description}"
