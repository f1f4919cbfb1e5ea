"""Feedback intake: ``POST /api/feedback`` validates, then starts processing in the background;
``GET /api/feedback`` lists it, ``GET /api/feedback/automatic`` what matching attached on its
own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gtm_feedback.durable.idempotency import scoped
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feedback import intake, moves, service
from gtm_feedback.feedback import workflows as feedback_workflows
from gtm_feedback.feedback.models import Feedback, FeedbackSource, MatchTier, Severity
from gtm_feedback.feedback.moves import Moved
from gtm_feedback.feedback.schemas import AutoAttachOut, FeedbackIn, FeedbackOut, ListedFeedback
from gtm_feedback.feedback.service import FeedbackQuery
from gtm_feedback.feedback.undo_workflows import start_undo
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning.workflows import refit_if_due
from gtm_feedback.user.access import MEMBER, VIEWER, Approver, Member, Principal
from gtm_feedback.web.admission import INTAKE, INTAKE_RESPONSES
from gtm_feedback.web.deps import DbSession, DbWrite, Instant
from gtm_feedback.web.pagination import Page, PageParams, paged

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


class Submitted(BaseModel):
    """The submission's id and the run processing it (poll ``GET /api/runs/{run_id}``)."""

    submission_id: str
    run_id: str


@router.post(
    "",
    status_code=202,
    response_model=Submitted,
    dependencies=[MEMBER, *INTAKE],
    responses=INTAKE_RESPONSES,
)
def submit(
    body: FeedbackIn,
    session: DbSession,
    who: Member,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Submitted:
    """Accept feedback; matching, approvals and notifications continue in the background.

    202 once the run is durably enqueued; 409 when the Idempotency-Key was used with another
    body.
    """
    submission = body.submission(FeedbackSource.API)
    intake.check_references(session, submission)
    key = scoped(idempotency_key, who.user_id)  # keys are per client, like Stripe's
    started = feedback_workflows.start_processing(submission, key)
    return Submitted(submission_id=started.submission_id, run_id=started.run_id)


@router.get("", response_model=Page[ListedFeedback], dependencies=[VIEWER])
def list_feedback(
    session: DbSession,
    paging: PageParams,
    request: Annotated[str | None, Query(max_length=200, description="Request id or slug")] = None,
    account: Annotated[str | None, Query(max_length=64, description="Account id")] = None,
    severity: Severity | None = None,
    source: FeedbackSource | None = None,
    tier: Annotated[MatchTier | None, Query(description="How matching placed it")] = None,
    since: Annotated[Instant | None, Query(description="Created at or after")] = None,
    until: Annotated[Instant | None, Query(description="Created before")] = None,
) -> Page[ListedFeedback]:
    """Feedback, newest first, filtered by request, account, severity, source, tier and time."""
    request_id = request
    if request is not None:
        found = requests.resolve(session=session, id_or_slug=request)
        request_id = found.id if found else request  # unknown: an empty page, not an error
    query = FeedbackQuery(request_id, account, severity, source, tier, since, until)
    return paged(session, service.listing(query), paging, listed_feedback)


def listed_feedback(row: Feedback) -> ListedFeedback:
    """One feedback item with its request and account named."""
    return ListedFeedback(
        **FeedbackOut.model_validate(row).model_dump(),
        request_slug=row.request.slug,
        request_title=row.request.title,
        account_name=row.account.name,
    )


@router.get("/automatic", response_model=Page[AutoAttachOut], dependencies=[VIEWER])
def automatic(session: DbSession, paging: PageParams) -> Page[AutoAttachOut]:
    """Feedback attached automatically (the auto tier), newest first, with confidence and
    reason: what matching decided without asking anyone."""
    stmt = service.listing(FeedbackQuery(tier=MatchTier.AUTO))
    return paged(session, stmt, paging, auto_attach_out)


def auto_attach_out(row: Feedback) -> AutoAttachOut:
    """One automatic attach as the API and the page show it."""
    return AutoAttachOut(
        feedback_id=row.id,
        pain=row.description,
        request_slug=row.request.slug,
        request_title=row.request.title,
        account_id=row.account_id,
        account_name=row.account.name,
        confidence=row.match_confidence,
        reason=row.match_reason,
        created_at=row.created_at,
    )


class UndoStarted(BaseModel):
    """The run undoing an automatic attach (poll ``GET /api/runs/{run_id}``)."""

    run_id: str


@router.post(
    "/{feedback_id}/undo",
    status_code=202,
    response_model=UndoStarted,
    responses={
        404: {"description": "No such feedback"},
        409: {"description": "Not an automatic attach"},
    },
)
def undo(feedback_id: str, who: Approver) -> UndoStarted:
    """Undo an automatic attach: the feedback leaves its request (a declined match, recorded
    with who undid it) and is decided again without it: a person is asked about the next
    candidate, or a new request is written. Undoing twice returns the same run."""
    return UndoStarted(run_id=start_undo(feedback_id, who.actor))


class MoveIn(BaseModel):
    """Where the feedback belongs."""

    model_config = ConfigDict(extra="forbid")

    request: str = Field(
        min_length=1,
        max_length=200,
        description="The request's id or slug.",
        examples=["saml-single-sign-on"],
    )


class MoveOut(BaseModel):
    """Where the feedback went from and to."""

    feedback_id: str
    from_request: str
    to_request: str


@router.post(
    "/{feedback_id}/move",
    response_model=MoveOut,
    responses={
        404: {"description": "No such feedback or request"},
        409: {"description": "Already on that request"},
    },
)
def move(feedback_id: str, body: MoveIn, session: DbWrite, who: Approver) -> MoveOut:
    """Move feedback to the request it belongs to (approvers): audited, and a label for the
    next refit of matching (the best candidate was wrong, unless it is where it now goes)."""
    moved = move_and_learn(session, feedback_id, body.request, who)
    return MoveOut(
        feedback_id=moved.feedback_id, from_request=moved.from_slug, to_request=moved.to_slug
    )


def move_and_learn(session: Session, feedback_id: str, target: str, who: Principal) -> Moved:
    """Move (in the caller's transaction), then queue a refit if this label completes a batch."""
    model_id = get_embedder(adapters.current().settings).model_id
    moved = moves.move(
        session=session, feedback_id=feedback_id, target=target, actor=who.actor, model_id=model_id
    )
    refit_if_due(model_id, moved.labels)
    return moved
