"""JSON API of accounts."""

from __future__ import annotations

from fastapi import APIRouter

from gtm_feedback.account import service
from gtm_feedback.account.schemas import AccountFeedback, AccountOut, OpportunityOut
from gtm_feedback.errors import NotFoundError
from gtm_feedback.feedback import service as feedback_service
from gtm_feedback.feedback.schemas import FeedbackOut
from gtm_feedback.user.access import VIEWER
from gtm_feedback.web.deps import DbSession

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.get(
    "/{account_id}",
    response_model=AccountOut,
    responses={404: {"description": "No such account"}},
    dependencies=[VIEWER],
)
def get_account(account_id: str, session: DbSession) -> AccountOut:
    """One account with its opportunities and the feedback it left."""
    account = service.get_account(session=session, account_id=account_id)
    if account is None:
        raise NotFoundError(f"no account with id {account_id!r}")
    feedback = [
        AccountFeedback(
            **FeedbackOut.model_validate(item).model_dump(),
            request_slug=item.request.slug,
            request_title=item.request.title,
        )
        for item in feedback_service.of_account(session=session, account_id=account.id)
    ]
    return AccountOut(
        id=account.id,
        name=account.name,
        type=account.type,
        region=account.region,
        arr=account.arr,
        is_enterprise=account.is_enterprise,
        website=account.website,
        link=account.link,
        opportunities=[OpportunityOut.model_validate(o) for o in account.opportunities],
        feedback=feedback,
    )
