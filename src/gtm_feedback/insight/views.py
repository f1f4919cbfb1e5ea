"""JSON API of insight reports (an area's latest report, its history, one past report) and of
the pipeline at risk by area."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from gtm_feedback.errors import NotFoundError
from gtm_feedback.insight import pipeline, service
from gtm_feedback.insight.pipeline import AreaPipelineOut
from gtm_feedback.insight.schemas import InsightHistoryItem, InsightReportOut
from gtm_feedback.product_area import service as areas
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.user.access import VIEWER
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.pagination import Page, PageParams, page_of, paged

router = APIRouter(prefix="/api/areas", tags=["insights"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such area, or no report yet"}
}


def _area(session: Session, slug: str) -> ProductArea:
    area = areas.get_by_slug(session=session, slug=slug)
    if area is None:
        raise NotFoundError(f"no product area with slug {slug!r}")
    return area


@router.get(
    "/{slug}/insights",
    response_model=InsightReportOut,
    responses=_NOT_FOUND,
    dependencies=[VIEWER],
)
def latest(slug: str, session: DbSession) -> InsightReportOut:
    """The area's latest insight report."""
    found = service.latest(session=session, area=_area(session, slug))
    if found is None:
        raise NotFoundError(
            f"no insight report for {slug!r} yet; POST /api/workflows/area-insights"
        )
    return found


@router.get(
    "/{slug}/insights/history",
    response_model=Page[InsightHistoryItem],
    responses=_NOT_FOUND,
    dependencies=[VIEWER],
)
def history(slug: str, session: DbSession, paging: PageParams) -> Page[InsightHistoryItem]:
    """The area's reports, newest first (each with the run that made it)."""
    stmt = service.history_query(_area(session, slug))
    return paged(session, stmt, paging, service.history_item)


@router.get(
    "/{slug}/insights/{report_id}",
    response_model=InsightReportOut,
    responses=_NOT_FOUND,
    dependencies=[VIEWER],
)
def one(slug: str, report_id: str, session: DbSession) -> InsightReportOut:
    """One report from the area's history."""
    found = service.get(session=session, area=_area(session, slug), report_id=report_id)
    if found is None:
        raise NotFoundError(f"no report {report_id!r} for {slug!r}")
    return found


@router.get("/pipeline", response_model=Page[AreaPipelineOut], dependencies=[VIEWER])
def pipeline_by_area(session: DbSession, paging: PageParams) -> Page[AreaPipelineOut]:
    """Open and blocked pipeline of every area (each deal once, over its open requests), most
    open pipeline first."""
    rows = pipeline.all_areas(session)
    return page_of(rows[paging.offset : paging.offset + paging.limit], len(rows), paging)


@router.get(
    "/{slug}/pipeline",
    response_model=AreaPipelineOut,
    responses={404: {"description": "No such area"}},
    dependencies=[VIEWER],
)
def area_pipeline(slug: str, session: DbSession) -> AreaPipelineOut:
    """One area's open and blocked pipeline, with its open requests that name open deals."""
    return pipeline.one_area(session, _area(session, slug).slug)
