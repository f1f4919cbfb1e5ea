"""HTML pages: the areas list and an area's page with its insight report drawn as charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from dbos import DBOS
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.errors import NotFoundError
from gtm_feedback.insight import pipeline, service
from gtm_feedback.insight.schemas import AreaInsightsInput, AreaInsightsResult
from gtm_feedback.insight.workflows import start_insights
from gtm_feedback.product_area import service as areas
from gtm_feedback.user.access import APPROVER, VIEWER
from gtm_feedback.web.deps import AppSettings, DbSession
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class RunBanner:
    """Where an insights run started from this page stands."""

    id: str
    message: str
    tone: str
    running: bool


def run_banner(run_id: str, area_slug: str) -> RunBanner | None:
    """The banner for a run started by the button (None for an unknown run id)."""
    status = DBOS.get_workflow_status(run_id)
    if status is None:
        return None
    if status.status not in FINISHED:
        return RunBanner(run_id, "Generating insights… this page refreshes itself.", "info", True)
    output = status.output
    if status.status == "SUCCESS" and isinstance(output, AreaInsightsResult):
        failed = [o for o in output.areas if o.area_slug == area_slug and o.status == "error"]
        if failed:
            return RunBanner(run_id, f"Generating failed: {failed[0].error}", "error", False)
        return RunBanner(run_id, "Insights generated.", "ok", False)
    return RunBanner(run_id, f"The run ended with status {status.status}.", "error", False)


@router.get("/areas", response_class=HTMLResponse, dependencies=[VIEWER])
def areas_page(request: Request, session: DbSession) -> Response:
    """Every product area with its counts and when its insights were last generated."""
    counts = areas.status_counts_by_area(session=session)
    latest = service.latest_times(session=session)
    rows = [
        {
            "slug": area.slug,
            "name": area.name,
            "open": counts.get(area.id, areas.StatusCounts()).open,
            "shipped": counts.get(area.id, areas.StatusCounts()).shipped,
            "ship_rate": counts.get(area.id, areas.StatusCounts()).ship_rate,
            "generated_at": latest.get(area.id),
        }
        for area in areas.list_areas(session=session)
    ]
    chart = pipeline.by_area_chart(pipeline.all_areas(session))
    context = {"rows": rows, "pipeline": chart if any(b.value for b in chart.bars) else None}
    return templates.TemplateResponse(request, "areas.html", context)


@router.get("/areas/{slug}", response_class=HTMLResponse, dependencies=[VIEWER])
def area_page(
    request: Request,
    slug: str,
    session: DbSession,
    settings: AppSettings,
    run: Annotated[str | None, Query(max_length=300)] = None,
    report: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    """The area's latest (or a chosen) insight report with its charts, and its history."""
    area = areas.get_by_slug(session=session, slug=slug)
    if area is None:
        raise NotFoundError(f"no product area with slug {slug!r}")
    latest = service.latest(session=session, area=area)
    shown = service.get(session=session, area=area, report_id=report) if report else latest
    banner = run_banner(run, slug) if run else None
    context = {
        "area": area,
        "insights": shown,
        "is_latest": shown is not None and latest is not None and shown.id == latest.id,
        "history": service.history(session=session, area=area, limit=10),
        "run": banner,
        "refresh": banner is not None and banner.running,
        "schedule": _schedule_text(settings.insights_cron, settings.timezone),
        "pipeline": _pipeline_card(session, area.slug),
    }
    return templates.TemplateResponse(request, "area.html", context)


def _pipeline_card(session: Session, slug: str) -> dict[str, object]:
    live = pipeline.one_area(session, slug)
    return {"area": live, "chart": pipeline.by_request_chart(live)}


def _schedule_text(cron: str, timezone: str) -> str:
    if cron == "off":
        return "no fixed time (the daily schedule is off)"
    fields = cron.split()
    if len(fields) == 5 and fields[2:] == ["*", "*", "*"] and all(f.isdigit() for f in fields[:2]):
        return f"{int(fields[1]):02d}:{int(fields[0]):02d} {timezone}"
    return f"the schedule “{cron}” ({timezone})"


@router.post("/areas/{slug}/insights", dependencies=[APPROVER])
def generate_now(slug: str, session: DbSession) -> RedirectResponse:
    """The button: start insights for this area and come back to follow the run."""
    if areas.get_by_slug(session=session, slug=slug) is None:
        raise NotFoundError(f"no product area with slug {slug!r}")
    run_id = start_insights(AreaInsightsInput(areas=[slug]), None)
    return RedirectResponse(f"/areas/{slug}?run={run_id}", status_code=303)
