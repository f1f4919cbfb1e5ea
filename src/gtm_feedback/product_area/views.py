"""JSON API of product areas."""

from __future__ import annotations

from fastapi import APIRouter

from gtm_feedback.product_area import service
from gtm_feedback.product_area.schemas import AreaOut
from gtm_feedback.user.access import VIEWER
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.pagination import Page, PageParams, page_of

router = APIRouter(prefix="/api/areas", tags=["areas"])


@router.get("", response_model=Page[AreaOut], dependencies=[VIEWER])
def list_areas(session: DbSession, paging: PageParams) -> Page[AreaOut]:
    """Product areas by name, with open / shipped / deprioritized counts and ship rate."""
    counts = service.status_counts_by_area(session=session)
    every = service.list_areas(session=session)  # a handful: counted and cut here
    result = []
    for area in every[paging.offset : paging.offset + paging.limit]:
        tally = counts.get(area.id, service.StatusCounts())
        result.append(
            AreaOut(
                id=area.id,
                name=area.name,
                slug=area.slug,
                description=area.description,
                firehose_channel=area.firehose_channel,
                open_requests=tally.open,
                shipped_requests=tally.shipped,
                deprioritized_requests=tally.deprioritized,
                ship_rate=tally.ship_rate,
            )
        )
    return page_of(result, len(every), paging)
