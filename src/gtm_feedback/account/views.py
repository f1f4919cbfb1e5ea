"""JSON API of accounts and their opportunities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gtm_feedback.account import service
from gtm_feedback.account.models import Opportunity
from gtm_feedback.account.schemas import (
    AccountDeal,
    AccountFeedback,
    AccountOut,
    AccountPatch,
    AccountSummary,
    DealAskOut,
    ListedOpportunity,
    OpportunityOut,
)
from gtm_feedback.account.service import AccountQuery
from gtm_feedback.errors import NotFoundError
from gtm_feedback.feedback import service as feedback_service
from gtm_feedback.feedback.schemas import FeedbackOut
from gtm_feedback.user import audit
from gtm_feedback.user.access import VIEWER, Approver
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.pagination import Page, PageParams, paged

router = APIRouter(prefix="/api/accounts", tags=["accounts"])
opportunities_router = APIRouter(prefix="/api/opportunities", tags=["accounts"])

Short = Annotated[str | None, Query(max_length=64)]


@router.get("", response_model=Page[AccountSummary], dependencies=[VIEWER])
def list_accounts(
    session: DbSession,
    paging: PageParams,
    q: Annotated[str, Query(max_length=200, description="Part of the name or id")] = "",
    type: Short = None,
    region: Short = None,
    enterprise: bool | None = None,
    owner: Annotated[str | None, Query(max_length=320, description="The owner's email")] = None,
) -> Page[AccountSummary]:
    """Accounts, largest ARR first, filtered by name, type, region, enterprise or owner."""
    query = AccountQuery(q, type, region, enterprise, owner)
    return paged(session, service.listing(query), paging, AccountSummary.model_validate)


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
    items = feedback_service.of_account(session=session, account_id=account.id)
    feedback = [
        AccountFeedback(
            **FeedbackOut.model_validate(item).model_dump(),
            request_slug=item.request.slug,
            request_title=item.request.title,
        )
        for item in items
    ]
    pipeline = service.account_pipeline(account, items)
    deals = [
        AccountDeal(
            **OpportunityOut.model_validate(deal).model_dump(),
            requests=[DealAskOut(**vars(ask)) for ask in pipeline.asks.get(deal.id, [])],
        )
        for deal in account.opportunities
    ]
    return AccountOut(
        **AccountSummary.model_validate(account).model_dump(),
        open_pipeline=pipeline.open_pipeline,
        blocked_pipeline=pipeline.blocked_pipeline,
        opportunities=deals,
        feedback=feedback,
    )


@router.patch(
    "/{account_id}",
    response_model=AccountOut,
    responses={404: {"description": "No such account"}},
)
def edit_account(
    account_id: str, patch: AccountPatch, session: DbWrite, who: Approver
) -> AccountOut:
    """Set or clear the account's owner (approvers); audited."""
    account = service.get_account(session=session, account_id=account_id)
    if account is None:
        raise NotFoundError(f"no account with id {account_id!r}")
    service.set_owner(session=session, account=account, email=patch.owner_email)
    detail = f"owner {patch.owner_email or 'none'}"
    audit.record(
        session=session, actor=who.actor, action="account.edit", target=account_id, detail=detail
    )
    return get_account(account_id, session)


def _listed(opportunity: Opportunity) -> ListedOpportunity:
    return ListedOpportunity(
        **OpportunityOut.model_validate(opportunity).model_dump(),
        account_id=opportunity.account_id,
        account_name=opportunity.account.name,
    )


@opportunities_router.get("", response_model=Page[ListedOpportunity], dependencies=[VIEWER])
def list_opportunities(
    session: DbSession,
    paging: PageParams,
    account: Annotated[str | None, Query(max_length=64, description="Account id")] = None,
    stage: Annotated[str | None, Query(max_length=40, description="Stage (any case)")] = None,
) -> Page[ListedOpportunity]:
    """Opportunities, largest ARR first, of one account or all, by stage."""
    stmt = service.opportunities(account_id=account, stage=stage)
    return paged(session, stmt, paging, _listed)
