"""Pipeline at risk by area, live from the database: the areas page's chart, an area's card
and the pipeline API (``feature_request.pipeline`` holds the rules)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from gtm_feedback.feature_request import pipeline
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.insight.schemas import Bar, Breakdown
from gtm_feedback.text.formats import money

#: Requests an area's card lists at most.
TOP = 8


class RequestPipeline(BaseModel):
    """An open request of the area with the deals its feedback names."""

    slug: str
    title: str
    open_pipeline: Decimal
    open_deals: int
    blocked_pipeline: Decimal
    blocked_deals: int


class AreaPipelineOut(BaseModel):
    """An area's open and blocked pipeline (each deal once), over its open requests."""

    slug: str
    name: str
    open_pipeline: Decimal
    open_deals: int
    blocked_pipeline: Decimal
    blocked_deals: int
    #: The area's open requests naming an open deal, most open pipeline first (one area only).
    requests: list[RequestPipeline] = Field(default_factory=list)


def all_areas(session: Session) -> list[AreaPipelineOut]:
    """Every area's pipeline, most open pipeline first."""
    return [AreaPipelineOut(**vars(row)) for row in pipeline.by_area(session=session)]


def one_area(session: Session, slug: str) -> AreaPipelineOut:
    """One area's pipeline with its requests (the area must exist)."""
    (row,) = pipeline.by_area(session=session, area_slug=slug)
    query = requests.RequestQuery(
        area_slug=slug, status=RequestStatus.OPEN, sort=requests.RequestSort.PIPELINE, limit=200
    )
    listed, _ = requests.list_requests(session=session, query=query)
    named = [
        RequestPipeline(
            slug=item.request.slug,
            title=item.request.title,
            open_pipeline=item.figures.open_pipeline,
            open_deals=item.figures.open_deals,
            blocked_pipeline=item.figures.blocked_pipeline,
            blocked_deals=item.figures.blocked_deals,
        )
        for item in listed
        if item.figures.open_deals > 0
    ]
    return AreaPipelineOut(**vars(row), requests=named)


def _detail(deals: int, blocked: Decimal, blocked_deals: int) -> str:
    plural = "" if deals == 1 else "s"
    return f"{deals} deal{plural} · {money(blocked)} blocked ({blocked_deals})"


def by_area_chart(rows: list[AreaPipelineOut]) -> Breakdown:
    """Open pipeline per area, each bar captioned with its deals and blocked pipeline."""
    bars = [
        Bar(
            label=row.name,
            value=float(row.open_pipeline),
            detail=_detail(row.open_deals, row.blocked_pipeline, row.blocked_deals),
        )
        for row in rows
    ]
    return Breakdown(title="Open pipeline by area", unit="usd", bars=bars)


def by_request_chart(area: AreaPipelineOut) -> Breakdown:
    """The area's requests worth the most open pipeline, with what they block."""
    bars = [
        Bar(
            label=item.title,
            value=float(item.open_pipeline),
            detail=_detail(item.open_deals, item.blocked_pipeline, item.blocked_deals),
        )
        for item in area.requests[:TOP]
    ]
    return Breakdown(title="Open pipeline by request", unit="usd", bars=bars)
