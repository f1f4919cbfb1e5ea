"""Process feedback: match, then attach, ask a person and wait, or create a request.

Follows the workflow rules: typed input and result, a deterministic body (all I/O in steps),
idempotent steps, and a durable wait for a person (``DBOS.recv`` with a timeout; on timeout the
approval stays pending and visible, and the result says ``waiting``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID

from gtm_feedback.approval.service import topic
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.idempotency import check_same_input
from gtm_feedback.durable.queues import start_soon
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.sleep import durable_sleep
from gtm_feedback.feedback import intake, steps
from gtm_feedback.feedback.agents import MessageKind
from gtm_feedback.feedback.models import FeedbackSource, MatchTier
from gtm_feedback.feedback.notify import notify_step
from gtm_feedback.feedback.schemas import (
    CreateRequestInput,
    CreateRequestResult,
    FeedbackIn,
    FeedbackSubmission,
    Outcome,
    ProcessFeedbackInput,
    ProcessFeedbackResult,
)
from gtm_feedback.integrations import adapters
from gtm_feedback.learning.service import Verdict
from gtm_feedback.learning.workflows import learn_from
from gtm_feedback.matching.tiers import Tier


def _result(
    data: ProcessFeedbackInput,
    match: steps.MatchOutcome,
    outcome: Outcome,
    request_id: str | None = None,
    feedback_id: str | None = None,
) -> ProcessFeedbackResult:
    return ProcessFeedbackResult(
        submission_id=data.submission_id,
        tier=match.tier,
        outcome=outcome,
        request_id=request_id,
        feedback_id=feedback_id,
        confidence=match.confidence,
        candidates=match.candidates,
    )


def _tell_submitter(
    data: ProcessFeedbackInput,
    kind: MessageKind,
    key: str,
    request_id: str,
    confidence: float | None = None,
    firehose: bool = False,
    approval_token: str | None = None,
) -> None:
    notify_step(
        kind=kind,
        key=key,
        request_id=request_id,
        submitter_email=data.submission.submitter_email,
        account_id=data.submission.account_id,
        pain=data.submission.pain,
        confidence=confidence,
        firehose=firehose,
        approval_token=approval_token,
    )


def _attach(
    data: ProcessFeedbackInput, match: steps.MatchOutcome, tier: MatchTier
) -> ProcessFeedbackResult:
    assert match.request_id is not None
    feedback_id = steps.attach_step(data, match.request_id, tier, match)
    _tell_submitter(
        data,
        MessageKind.MATCH_CONFIRMATION,
        f"confirm:{feedback_id}",
        match.request_id,
        match.confidence,
        firehose=True,
    )
    return _result(data, match, "attached", match.request_id, feedback_id)


def _create(data: ProcessFeedbackInput, match: steps.MatchOutcome) -> ProcessFeedbackResult:
    sub = data.submission
    created = steps.create_request_step(
        f"fr_{data.submission_id}", sub.pain, sub.submitter_email, join=True
    )
    if created.joined is not None:  # another run wrote this pain's request since this started
        return _attach(data, created.joined, MatchTier.AUTO)
    request_id = created.id
    feedback_id = steps.attach_step(data, request_id, MatchTier.CREATED, match)
    _tell_submitter(data, MessageKind.CREATED, f"created:{request_id}", request_id, firehose=True)
    _start_followup(request_id, sub.submitter_email, baseline=1)
    return _result(data, match, "created", request_id, feedback_id)


def _start_followup(request_id: str, creator_email: str, baseline: int) -> str:
    """Start the request's follow-up child run (it sleeps durably first); its id."""
    run_id = f"followup-{request_id}"
    delay = adapters.current().settings.followup_delay
    with SetWorkflowID(run_id):
        DBOS.start_workflow(request_followup_workflow, request_id, creator_email, delay, baseline)
    return run_id


@DBOS.workflow()
def create_request_workflow(data: CreateRequestInput) -> CreateRequestResult:
    """A person's new request: writer agent, unique slug, embedding, related request, follow-up.

    Process feedback's create tier runs the same step and follow-up; the request id derives
    from this run's id, so a resumed or repeated run finds the request it already wrote.
    """
    request_id = f"fr_{hashlib.sha256(str(DBOS.workflow_id).encode()).hexdigest()[:16]}"
    created = steps.create_request_step(request_id, data.pain, data.creator_email)
    return CreateRequestResult(
        request_id=created.id,
        slug=created.slug,
        title=created.title,
        related_request_id=created.related_request_id,
        followup_run_id=_start_followup(created.id, data.creator_email, baseline=0),
    )


@DBOS.workflow()
def process_feedback_workflow(data: ProcessFeedbackInput) -> ProcessFeedbackResult:
    """Match the pain; attach (auto), hand over to a person (approval), or create a request.

    The wait for a person runs in its own child workflow (not on the feedback queue), so days
    of waiting never hold one of the queue's worker slots.
    """
    match = steps.match_step(data.submission.pain)
    if match.llm_check:  # the approval band, with an LLM configured: one more opinion
        match = steps.llm_check_step(data.submission.pain, match)
    if match.tier == Tier.AUTO:  # == not is: runs recorded earlier hold the plain string
        return _attach(data, match, MatchTier.AUTO)
    return hand_over(data, match)


def hand_over(data: ProcessFeedbackInput, match: steps.MatchOutcome) -> ProcessFeedbackResult:
    """In a workflow: ask a person about the best candidate (approval tier) and wait in a
    child run, or write a new request (create tier)."""
    if match.tier == Tier.APPROVAL:
        decision_run = f"{DBOS.workflow_id}-decision"
        token = steps.ask_step(data, match, decision_run)
        assert match.request_id is not None
        _tell_submitter(
            data,
            MessageKind.APPROVAL_REQUEST,
            f"approval:{token}",
            match.request_id,
            match.confidence,
            approval_token=token,
        )
        with SetWorkflowID(decision_run):
            DBOS.start_workflow(approval_decision_workflow, data, match, token)
        waiting = _result(data, match, "waiting", match.request_id)
        return waiting.model_copy(update={"decision_run_id": decision_run})
    return _create(data, match)


@DBOS.workflow()
def approval_decision_workflow(
    data: ProcessFeedbackInput, match: steps.MatchOutcome, token: str
) -> ProcessFeedbackResult:
    """Wait durably for the person's decision, then attach (approved) or create (declined).

    On timeout the stored decision is read again (a decision whose message was lost still
    counts); if there is none, the approval stays pending and visible for manual review.
    """
    timeout = adapters.current().settings.approval_timeout
    message = DBOS.recv(topic(token), timeout_seconds=timeout)
    approved = message["approved"] if message else steps.approval_state_step(token)
    if approved is None:
        return _result(data, match, "waiting", match.request_id)
    done = _attach(data, match, MatchTier.APPROVED) if approved else _create(data, match)
    # Last, so runs recorded before it was added replay their steps unchanged.
    verdict = Verdict(
        key=f"approval:{token}",
        kind="approve" if approved else "decline",
        right=bool(approved),
        request_id=match.request_id,
        feedback_id=f"fb_{data.submission_id}",
        decided_by=str((message or {}).get("decided_by", "")),
    )
    learn_from(verdict, match.candidates)
    return done


@DBOS.workflow()
def request_followup_workflow(
    request_id: str, creator_email: str, delay_seconds: float, baseline: int = 1
) -> bool:
    """Sleep durably, then ask the creator for more feedback if none came; True if asked.

    ``baseline`` is the feedback the request started with (1 when written from a submission,
    0 when a person asked for it); its default keeps runs recorded before it existed valid.
    """
    durable_sleep(delay_seconds)  # wake_up(run id) sends the follow-up now
    if steps.feedback_count_step(request_id) > baseline:
        return False
    notify_step(
        kind=MessageKind.FOLLOW_UP,
        key=f"followup:{request_id}",
        request_id=request_id,
        submitter_email=creator_email,
    )
    return True


@dataclass(frozen=True)
class Started:
    """The submission's id and the run processing it."""

    submission_id: str
    run_id: str


def start_processing(submission: FeedbackSubmission, idempotency_key: str | None) -> Started:
    """Start the process-feedback run, here at once or through the feedback queue (once per
    key; durably, before returning).

    A key used before with another submission raises ``ConflictError`` (409).
    """
    submission_id = intake.submission_id_for(idempotency_key)
    run_id = intake.run_id_for(submission_id)
    data = ProcessFeedbackInput(submission_id=submission_id, submission=submission)
    start_soon("feedback", run_id, process_feedback_workflow, data)
    check_same_input(run_id, idempotency_key, data)
    return Started(submission_id=submission_id, run_id=run_id)


def _start_by_name(body: FeedbackIn, idempotency_key: str | None) -> str:
    # Through the intake, like POST /api/feedback: same checks, queue and idempotency.
    submission = body.submission(FeedbackSource.API)
    with session_scope(adapters.current().settings.app_database_url) as session:
        intake.check_references(session, submission)
    return start_processing(submission, idempotency_key).run_id


STARTABLE = (
    Startable(
        "process-feedback",
        FeedbackIn,
        process_feedback_workflow,
        "Match a customer pain; attach it, ask a person, or write a new request.",
        start=_start_by_name,
        role="member",
    ),
    Startable(
        "create-request",
        CreateRequestInput,
        create_request_workflow,
        "Write a new request from a customer pain (AI writer), then follow up after a delay.",
        role="approver",
    ),
)
