"""Pipeline at risk: the open deals feedback names, and the ones it says it blocks.

A deal counts once per request, and once per area, however many feedback items name it;
only deals still in pipeline count (``account.models.open_stage``). An area counts the deals
named on its open requests, as its insight figures rank only open requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Opportunity, open_stage
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus, request_areas
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.product_area.models import ProductArea

ZERO = Decimal("0.00")


def deals_subquery(*, blocked_only: bool, request_id: str | None) -> Subquery:
    """Per request: ``arr`` and ``deals`` of the distinct open deals its feedback names."""
    pairs_q = (
        select(Feedback.request_id, Feedback.opportunity_id)
        .distinct()
        .where(Feedback.opportunity_id.is_not(None))
    )
    if request_id is not None:
        pairs_q = pairs_q.where(Feedback.request_id == request_id)
    if blocked_only:
        pairs_q = pairs_q.where(Feedback.blocks_deal.is_(True))
    pairs = pairs_q.subquery()
    return (
        select(
            pairs.c.request_id,
            func.sum(Opportunity.arr).label("arr"),
            func.count(Opportunity.id).label("deals"),
        )
        .join(Opportunity, Opportunity.id == pairs.c.opportunity_id)
        .where(open_stage())
        .group_by(pairs.c.request_id)
        .subquery()
    )


@dataclass(frozen=True)
class AreaPipeline:
    """An area's open and blocked pipeline over its open requests."""

    slug: str
    name: str
    open_pipeline: Decimal = ZERO
    open_deals: int = 0
    blocked_pipeline: Decimal = ZERO
    blocked_deals: int = 0


def _area_deals(*, blocked_only: bool, area_slug: str | None) -> Subquery:
    pairs_q = (
        select(request_areas.c.area_id, Feedback.opportunity_id)
        .distinct()
        .join(Feedback, Feedback.request_id == request_areas.c.request_id)
        .join(FeatureRequest, FeatureRequest.id == request_areas.c.request_id)
        .where(
            FeatureRequest.status == RequestStatus.OPEN,
            FeatureRequest.merged_into_id.is_(None),
            Feedback.opportunity_id.is_not(None),
        )
    )
    if blocked_only:
        pairs_q = pairs_q.where(Feedback.blocks_deal.is_(True))
    if area_slug is not None:
        wanted = select(ProductArea.id).where(ProductArea.slug == area_slug)
        pairs_q = pairs_q.where(request_areas.c.area_id.in_(wanted.scalar_subquery()))
    pairs = pairs_q.subquery()
    return (
        select(
            pairs.c.area_id,
            func.sum(Opportunity.arr).label("arr"),
            func.count(Opportunity.id).label("deals"),
        )
        .join(Opportunity, Opportunity.id == pairs.c.opportunity_id)
        .where(open_stage())
        .group_by(pairs.c.area_id)
        .subquery()
    )


def by_area(*, session: Session, area_slug: str | None = None) -> list[AreaPipeline]:
    """Every area's pipeline (or one area's), most open pipeline first."""
    named = _area_deals(blocked_only=False, area_slug=area_slug)
    blocked = _area_deals(blocked_only=True, area_slug=area_slug)
    stmt = (
        select(
            ProductArea.slug,
            ProductArea.name,
            func.coalesce(named.c.arr, ZERO),
            func.coalesce(named.c.deals, 0),
            func.coalesce(blocked.c.arr, ZERO),
            func.coalesce(blocked.c.deals, 0),
        )
        .outerjoin(named, named.c.area_id == ProductArea.id)
        .outerjoin(blocked, blocked.c.area_id == ProductArea.id)
    )
    if area_slug is not None:
        stmt = stmt.where(ProductArea.slug == area_slug)
    rows = [
        AreaPipeline(slug, name, Decimal(open_arr), int(deals), Decimal(blocked_arr), int(bd))
        for slug, name, open_arr, deals, blocked_arr, bd in session.execute(stmt)
    ]
    return sorted(rows, key=lambda row: (-row.open_pipeline, -row.blocked_pipeline, row.name))
