"""Steps of the process-feedback workflow: each idempotent, so a resumed run never duplicates.

Ids are derived from the submission id (feedback ``fb_<submission>``, request
``fr_<submission>``) and message keys from those ids, so a step re-run after a crash finds
its own earlier work instead of doing it twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dbos import DBOS
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gtm_feedback import metrics
from gtm_feedback.approval import service as approvals
from gtm_feedback.db import locks
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.retry import DB_RETRY
from gtm_feedback.feature_request import agents as request_agents
from gtm_feedback.feature_request import embeddings, merging, search, slugs
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feature_request.agents import (
    AreaOption,
    RelatedInput,
    RequestDraft,
    RequestDraftInput,
    RequestOption,
)
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feature_request.texts import request_texts
from gtm_feedback.feedback import service as feedback
from gtm_feedback.feedback.models import MatchTier
from gtm_feedback.feedback.schemas import ProcessFeedbackInput
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import Embedder, Precomputed, get_embedder
from gtm_feedback.learning import checks, store
from gtm_feedback.learning.agents import CheckAnswer
from gtm_feedback.matching.matcher import MatchConfig, MatchResult, request_text
from gtm_feedback.matching.tiers import Tier
from gtm_feedback.product_area import service as areas
from gtm_feedback.user import service as users


class MatchOutcome(BaseModel):
    """What matching decided, as stored with the feedback."""

    tier: Tier
    request_id: str | None
    confidence: float | None
    reason: str | None
    candidates: list[dict[str, object]]
    # Decided (and recorded) with the match, so a replay takes the same path whatever the
    # settings say by then; runs recorded before the check existed read False.
    llm_check: bool = False


def _url() -> str:
    return adapters.current().settings.app_database_url


def rank(pain: str) -> tuple[MatchResult, MatchConfig]:
    """The requests ranked for ``pain`` with the tier, and the configuration that decided."""
    settings = adapters.current().settings
    with session_scope(settings.app_database_url) as session:
        return rank_in(session, pain, get_embedder(settings))


def rank_in(session: Session, pain: str, embedder: Embedder) -> tuple[MatchResult, MatchConfig]:
    """``rank`` as ``session`` sees the requests (a write transaction: after any before it)."""
    config = search.match_config(adapters.current().settings, embedder.model_id, session)
    result = search.find_candidates(session=session, embedder=embedder, pain=pain, config=config)
    return result, config


@DBOS.step(**DB_RETRY)
def match_step(pain: str) -> MatchOutcome:
    """Rank the requests and pick the tier."""
    result, _config = rank(pain)
    outcome = _outcome(result)
    if not outcome.llm_check:  # else the check's step decides, and counts
        _count(outcome)
    return outcome


def _outcome(result: MatchResult) -> MatchOutcome:
    best = result.best
    return MatchOutcome(
        tier=result.tier,
        request_id=best.request_id if best else None,
        confidence=best.confidence if best else None,
        reason=best.reason if best else None,
        candidates=[candidate.as_dict() for candidate in result.candidates],
        llm_check=result.tier == Tier.APPROVAL and checks.enabled(adapters.current().settings),
    )


def _count(match: MatchOutcome) -> None:
    metrics.count_match(match.tier.value, match.confidence or 0.0)


@DBOS.step(**DB_RETRY)
def llm_check_step(pain: str, match: MatchOutcome) -> MatchOutcome:
    """Ask the configured LLM which candidate fits (cached): one more feature of the best
    candidate. The calibration and the auto threshold still decide; no answer, no change."""
    settings = adapters.current().settings
    ids = [str(c["request_id"]) for c in match.candidates[: checks.CHECKED]]
    with session_scope(_url()) as session:
        texts = request_texts(session=session, ids=ids)
        config = search.match_config(settings, get_embedder(settings).model_id, session)
    if match.request_id not in texts:
        return match  # the proposed request is gone: nothing to check
    answer = checks.ask(settings, adapters.current().agents, checks.question(pain, ids, texts))
    checked = match if answer is None else with_opinion(match, answer, config)
    _count(checked)
    return checked


def with_opinion(match: MatchOutcome, answer: CheckAnswer, config: MatchConfig) -> MatchOutcome:
    """The match with the LLM's opinion as the best candidate's ``llm`` feature, its confidence
    recomputed, and auto when that reaches the threshold (it never sends to "create new")."""
    best, *rest = match.candidates
    features = store.features_of(match.candidates)
    assert features is not None
    assert match.request_id is not None
    llm = checks.opinion(answer, match.request_id)
    confidence = replace(features, llm=llm).confidence(config.calibration)
    titles = {str(c["request_id"]): str(c["title"]) for c in match.candidates}
    reason = f"{best['reason']}; {checks.summary(answer, match.request_id, titles)}"
    checked = {**best, "llm": round(llm, 4), "confidence": round(confidence, 4), "reason": reason}
    tier = Tier.AUTO if confidence >= config.thresholds.auto else Tier.APPROVAL
    return match.model_copy(
        update={
            "tier": tier,
            "confidence": confidence,
            "reason": reason,
            "candidates": [checked, *rest],
        }
    )


@DBOS.step(**DB_RETRY)
def attach_step(
    data: ProcessFeedbackInput, request_id: str, tier: MatchTier, match: MatchOutcome
) -> str:
    """Store the feedback on the request (once), make the submitter follow it, embed it."""
    feedback_id = f"fb_{data.submission_id}"
    placement = feedback.Placement(tier, match.confidence, match.reason, match.candidates)
    # Embedded before the write transaction: the write lock is never held while a model runs.
    embedder = Precomputed(get_embedder(adapters.current().settings), [data.submission.pain])
    with session_scope(_url(), write=True) as session:
        # Merged since the match (or the approval): the feedback goes where the request went.
        request_id = merging.live_id(session=session, request_id=request_id)
        user = users.get_or_create(session=session, email=data.submission.submitter_email)
        _, new = feedback.record(
            session=session,
            feedback_id=feedback_id,
            request_id=request_id,
            submission=data.submission,
            creator_id=user.id,
            placement=placement,
        )
        if new:
            requests.follow(session=session, request_id=request_id, user_id=user.id)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=[feedback_id])
    return feedback_id


@DBOS.step(**DB_RETRY)
def ask_step(data: ProcessFeedbackInput, match: MatchOutcome, workflow_id: str) -> str:
    """Record the approval (once) for the workflow that will wait on it; return its token."""
    with session_scope(_url(), write=True) as session:
        existing = approvals.for_workflow(session=session, workflow_id=workflow_id)
        if existing is not None:
            return existing.token
        user = users.get_or_create(session=session, email=data.submission.submitter_email)
        payload = {
            "submission_id": data.submission_id,
            "request_id": match.request_id,
            "confidence": match.confidence,
            "reason": match.reason,
            "pain": data.submission.pain,
        }
        return approvals.request_approval(
            session=session,
            workflow_id=workflow_id,
            kind="match",
            payload=payload,
            requested_from_id=user.id,
        ).token


@DBOS.step(**DB_RETRY)
def approval_state_step(token: str) -> bool | None:
    """The stored decision (True approved, False declined), or None while pending."""
    with session_scope(_url()) as session:
        return approvals.decision(session=session, token=token)


# Recorded under its earlier name (it lived in workflows.py): replays of runs recorded before
# the move must find the same step name, or DBOS refuses them.
@DBOS.step(name="_feedback_count_step", **DB_RETRY)
def feedback_count_step(request_id: str) -> int:
    """How many feedback items the request has now."""
    with session_scope(_url()) as session:
        return feedback.count_for_request(session=session, request_id=request_id)


class CreatedRequest(BaseModel):
    """A request written by the create step."""

    id: str
    slug: str
    title: str
    related_request_id: str | None
    #: Instead of writing one: the automatic match of the pain to a request another run wrote
    #: since this run started (``id`` is then that request's). Runs recorded earlier read None.
    joined: MatchOutcome | None = None


#: Creators of requests from feedback take turns under this lock (``db.locks``).
CREATE_TURN = "gtm_feedback:create-request"


@DBOS.step(**DB_RETRY)
def create_request_step(
    request_id: str, pain: str, creator_email: str, join: bool = False
) -> CreatedRequest:
    """Write a new request from the pain (once), embed it, and link a related request.

    The agents and the model run before the write transaction, which then only inserts: the
    write lock is held for milliseconds, not for the length of an LLM call.

    ``join`` (feedback is behind the request, not a person asking for one): two runs with the
    same new pain both match nothing and both come here. They take turns to write, and the
    second, matching again in its turn, joins the request the first wrote instead of writing a
    duplicate. Only requests written since this run started are joined: an older one was seen
    by the match, or put aside by a person (a declined approval, an undone attach). A look
    before the agents run saves their calls when the other run wrote it well before.
    """
    since = _run_started() if join else None
    embedder = Precomputed(get_embedder(adapters.current().settings), [pain] if join else [])
    with session_scope(_url()) as session:
        row = requests.get(session=session, request_id=request_id)
        if row is not None:
            return _created(row)
        joined = _written_since(session, pain, embedder, since)
        if joined is not None:
            return joined
        options = [
            AreaOption(id=a.id, name=a.name, description=a.description or "")
            for a in areas.list_areas(session=session)
        ]
    agents = adapters.current().agents
    draft = agents.run(request_agents.WRITER, RequestDraftInput(pain=pain, areas=options)).output
    related = _related(draft.title, draft.description)
    embedder.embed([request_text(draft.title, draft.description)])  # kept for the write
    with session_scope(_url(), write=True) as session:
        row = requests.get(session=session, request_id=request_id)
        if row is not None:  # a retry after a commit finds its own request
            return _created(row)
        if since is not None:
            locks.take_turn(session, CREATE_TURN)
            joined = _written_since(session, pain, embedder, since)
            if joined is not None:
                return joined
        row = _insert_request(session, request_id, draft, creator_email, related)
        embeddings.embed_requests(session=session, embedder=embedder, ids=[request_id])
        return _created(row)


def _run_started() -> datetime:
    status = DBOS.get_workflow_status(DBOS.workflow_id or "")
    started = status.created_at if status is not None else None
    if started is None:  # not in a run (a step called directly): nothing counts as new
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromtimestamp(started / 1000, UTC)


def _written_since(
    session: Session, pain: str, embedder: Embedder, since: datetime | None
) -> CreatedRequest | None:
    """The request written since ``since`` that the pain matches automatically, if any."""
    if since is None:
        return None
    result, _config = rank_in(session, pain, embedder)
    best = result.best
    if result.tier != Tier.AUTO or best is None:
        return None
    found = requests.get(session=session, request_id=best.request_id)
    if found is None or found.created_at < since:
        return None
    return _created(found).model_copy(update={"joined": _outcome(result)})


def _created(row: FeatureRequest) -> CreatedRequest:
    return CreatedRequest(
        id=row.id, slug=row.slug, title=row.title, related_request_id=row.related_request_id
    )


def _insert_request(
    session: Session,
    request_id: str,
    draft: RequestDraft,
    creator_email: str,
    related_request_id: str | None,
) -> FeatureRequest:
    user = users.get_or_create(session=session, email=creator_email)

    def build(slug: str) -> FeatureRequest:
        row = FeatureRequest(
            id=request_id,
            slug=slug,
            title=draft.title,
            description=draft.description,
            creator_id=user.id,
            related_request_id=related_request_id,
        )
        requests.set_areas(session=session, request=row, area_ids=draft.area_ids)
        return row

    return slugs.add_with_free_slug(session=session, title=draft.title, build=build)


def _related(title: str, description: str) -> str | None:
    # Only the new request's nearest neighbours are offered: the agent compares meanings, and
    # the stored index finds the neighbours without embedding every request again.
    settings = adapters.current().settings
    embedder = get_embedder(settings)
    with session_scope(_url()) as session:
        config = search.match_config(settings, embedder.model_id, session)
        neighbours = search.find_candidates(
            session=session,
            embedder=embedder,
            pain=request_text(title, description),  # as embedded and stored: one embedding
            config=config,
        )
        ids = [c.request_id for c in neighbours.candidates]
        texts = search.texts_of(session, embedder, ids, config)  # read by the search just now
    candidates = [
        RequestOption(id=i, title=texts[i].title, description=texts[i].description)
        for i in ids
        if i in texts
    ]
    question = RelatedInput(title=title, description=description, candidates=candidates)
    return adapters.current().agents.run(request_agents.RELATED, question).output.related_request_id
