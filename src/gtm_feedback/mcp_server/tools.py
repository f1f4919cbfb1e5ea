"""What an assistant may do through MCP, as plain functions: each takes the caller (who the API
token says it is) and checks the caller's role as the REST API does, then goes through the same
services: the matching engine, the intake and its workflow, the approvals inbox."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl

from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.models import ApprovalStatus
from gtm_feedback.approval.outcome import show_outcome
from gtm_feedback.approval.schemas import ApprovalOut
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.idempotency import scoped
from gtm_feedback.errors import ForbiddenError, NotFoundError
from gtm_feedback.feature_request import lookup, merging
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feature_request.lookup import Found
from gtm_feedback.feature_request.schemas import RequestDetail
from gtm_feedback.feature_request.views import request_detail
from gtm_feedback.feedback import intake
from gtm_feedback.feedback import workflows as feedback_workflows
from gtm_feedback.feedback.models import FeedbackSource, Severity
from gtm_feedback.feedback.schemas import FeedbackIn
from gtm_feedback.insight import service as insights
from gtm_feedback.insight.schemas import InsightReportOut
from gtm_feedback.integrations import adapters
from gtm_feedback.product_area import service as areas
from gtm_feedback.user.access import Principal
from gtm_feedback.user.models import Role


class Submitted(BaseModel):
    """The submission and the run processing it (matching, approvals, notifications)."""

    submission_id: str
    run_id: str
    url: str = Field(description="Where the run's progress and outcome show")


def _url() -> str:
    return adapters.current().settings.app_database_url


def _needs(who: Principal, role: Role) -> None:
    if not who.may(role):
        raise ForbiddenError(f"this needs the {role.value} role; the token's user is {who.role}")


def search_requests(who: Principal, query: str, limit: int) -> list[Found]:
    """The requests ``query`` would match, best first, with confidence and reason."""
    _needs(who, Role.viewer)
    return lookup.matching_requests(query, limit=limit)


def get_request(who: Principal, slug: str) -> RequestDetail:
    """One request with figures, followers and feedback; a merged one answers as its survivor."""
    _needs(who, Role.viewer)
    with session_scope(_url()) as session:
        found = requests.get_by_slug(session=session, slug=slug)
        if found is None:
            raise NotFoundError(f"no feature request with slug {slug!r}")
        live = merging.live(session, found) if found.merged_into_id else found
        return request_detail(session, live, adapters.current().settings.base_url)


def submit_feedback(
    who: Principal, body: FeedbackIn, idempotency_key: str | None = None
) -> Submitted:
    """Feedback through the intake, as ``POST /api/feedback``: same checks, queue, run."""
    _needs(who, Role.member)
    submission = body.submission(FeedbackSource.API)
    with session_scope(_url()) as session:
        intake.check_references(session, submission)
    started = feedback_workflows.start_processing(submission, scoped(idempotency_key, who.user_id))
    base = adapters.current().settings.base_url
    return Submitted(
        submission_id=started.submission_id,
        run_id=started.run_id,
        url=f"{base}/runs/{started.run_id}",
    )


def list_approvals(who: Principal, limit: int = 50) -> list[ApprovalOut]:
    """The approvals inbox: pending ones, oldest first."""
    _needs(who, Role.approver)
    with session_scope(_url()) as session:
        stmt = approvals.listing(status=ApprovalStatus.PENDING, kind=None).limit(limit)
        return [ApprovalOut.model_validate(row) for row in session.scalars(stmt)]


def decide_approval(who: Principal, token: str, approved: bool) -> ApprovalOut:
    """Approve or decline; the waiting workflow resumes at once."""
    _needs(who, Role.approver)
    decided = approvals.decide_and_resume(_url(), token=token, approved=approved, actor=who.actor)
    show_outcome(decided, "Approved" if approved else "Declined")
    return ApprovalOut.model_validate(decided)


def area_insights(who: Principal, area: str) -> InsightReportOut:
    """The area's latest insight report."""
    _needs(who, Role.viewer)
    with session_scope(_url()) as session:
        found = areas.get_by_slug(session=session, slug=area)
        if found is None:
            known = ", ".join(a.slug for a in areas.list_areas(session=session))
            raise NotFoundError(f"no product area {area!r} (known: {known})")
        report = insights.latest(session=session, area=found)
    if report is None:
        raise NotFoundError(f"no insight report for {area!r} yet")
    return report


def feedback_body(
    who: Principal,
    pain: str,
    severity: Severity,
    account_id: str,
    opportunity_id: str | None,
    links: list[HttpUrl],
    blocks_deal: bool = False,
) -> FeedbackIn:
    """The intake's body from a tool's arguments; the submitter is the token's user."""
    return FeedbackIn(
        pain=pain,
        severity=severity,
        account_id=account_id,
        opportunity_id=opportunity_id,
        blocks_deal=blocks_deal,
        links=links,
        submitter_email=who.email,
    )
