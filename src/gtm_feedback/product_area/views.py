"""JSON API of product areas."""

from __future__ import annotations

from fastapi import APIRouter

from gtm_feedback.product_area import service
from gtm_feedback.product_area.schemas import AreaOut
from gtm_feedback.user.access import VIEWER
from gtm_feedback.web.deps import DbSession

router = APIRouter(prefix="/api/areas", tags=["areas"])


@router.get("", response_model=list[AreaOut], dependencies=[VIEWER])
def list_areas(session: DbSession) -> list[AreaOut]:
    """Every product area with its open / shipped / deprioritized counts and ship rate."""
    counts = service.status_counts_by_area(session=session)
    result = []
    for area in service.list_areas(session=session):
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
    return result
