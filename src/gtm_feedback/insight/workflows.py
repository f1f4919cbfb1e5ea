"""Area insights: one child run per area (fan-out), each figures → agent → stored report.

Started daily by a DBOS schedule, by ``POST /api/workflows/area-insights``, by the button on
the area page and by ``gtm-feedback insights``. Every run works as the configured system user.
A failed area is reported in the result; the other areas' reports are still stored.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Literal

from dbos import DBOS
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db import transactional
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.fanout import fan_out
from gtm_feedback.durable.idempotency import check_same_input, run_id_for
from gtm_feedback.durable.queues import enqueue
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import retry_unless_permanent
from gtm_feedback.errors import PermanentError
from gtm_feedback.insight import report as reports
from gtm_feedback.insight import service
from gtm_feedback.insight.agents import AGENT, InsightsText
from gtm_feedback.insight.figures import AreaFigures, area_figures, request_vectors
from gtm_feedback.insight.schemas import (
    AreaInsightsInput,
    AreaInsightsResult,
    AreaOutcome,
    AreaReportInput,
    SectionKind,
)
from gtm_feedback.insight.themes import themes as group_themes
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.logging import get_logger
from gtm_feedback.product_area import service as areas
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.user import service as users

log = get_logger(__name__)

SCHEDULE_NAME = "area-insights-daily"
#: Its name in ``POST /api/workflows/{name}`` and the prefix of the runs started on demand.
WORKFLOW_NAME = "area-insights"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Plan(_Model):
    """The areas to report on and the user the run works as."""

    user_id: str
    areas: list[tuple[str, str]]  # (id, slug), by name
    limit: int  # children in flight: recorded, so a recovery replays the same order of starts


class Prepared(_Model):
    """An area's figures and its theme groups (request ids, highest ARR first)."""

    figures: AreaFigures
    themes: list[list[str]]
    ms: float


class Worded(_Model):
    """The agent's text and which engine wrote it."""

    text: InsightsText
    engine: Literal["llm", "offline"]
    ms: float


class Stored(_Model):
    """The stored report's id, its sections, and the slugs dropped as not real."""

    report_id: str
    sections: list[SectionKind]
    dropped: list[str]
    ms: float


def _url() -> str:
    return adapters.current().settings.app_database_url


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


@DBOS.step(retries_allowed=True, max_attempts=3, should_retry=retry_unless_permanent)
def plan_step(slugs: list[str], concurrency: int | None) -> Plan:
    """Resolve the areas (all when none are named), the system user and the fan-out limit."""
    settings = adapters.current().settings
    with session_scope(settings.app_database_url, write=True) as session:
        user = users.get_or_create(
            session=session, email=settings.system_user_email, name="GTM Feedback"
        )
        every = areas.list_areas(session=session)
        chosen = every if not slugs else [a for a in every if a.slug in set(slugs)]
        missing = sorted(set(slugs) - {area.slug for area in chosen})
        if missing:
            raise PermanentError(f"no product area with slug {', '.join(missing)}")
        return Plan(
            user_id=user.id,
            areas=[(area.id, area.slug) for area in chosen],
            limit=concurrency or settings.insights_concurrency,
        )


def prepare(session: Session, settings: Settings, area: ProductArea) -> Prepared:
    """The area's figures and its open requests grouped into themes by embedding similarity."""
    started = time.perf_counter()
    figures = area_figures(session, area)
    vectors = request_vectors(session, get_embedder(settings), figures.requests)
    weights = [float(request.arr) for request in figures.requests]
    groups = group_themes(vectors, weights, settings.insights_theme_similarity)
    ids = [[figures.requests[i].id for i in group] for group in groups]
    return Prepared(figures=figures, themes=ids, ms=_ms(started))


@DBOS.step(retries_allowed=True, max_attempts=3, should_retry=retry_unless_permanent)
def figures_step(area_id: str) -> Prepared:
    """Compute the area's figures and group its open requests into themes."""
    settings = adapters.current().settings
    with session_scope(settings.app_database_url) as session:
        area = areas.get(session=session, area_id=area_id)
        if area is None:
            raise PermanentError(f"product area {area_id} no longer exists")
        return prepare(session, settings, area)


@DBOS.step(retries_allowed=True, max_attempts=3, should_retry=retry_unless_permanent)
def words_step(prepared: Prepared) -> Worded:
    """Ask the insights agent for the summaries and theme names."""
    started = time.perf_counter()
    brief = reports.brief(prepared.figures, themes_of(prepared))
    result = adapters.current().agents.run(AGENT, brief)
    return Worded(text=result.output, engine=result.engine, ms=_ms(started))


def themes_of(prepared: Prepared) -> list[reports.Theme]:
    """The theme groups with their requests' figures."""
    by_id = {request.id: request for request in prepared.figures.requests}
    return [
        reports.Theme(group=n, requests=[by_id[rid] for rid in ids])
        for n, ids in enumerate(prepared.themes)
    ]


def _store(data: AreaReportInput, prepared: Prepared, worded: Worded, run_id: str) -> Stored:
    started = time.perf_counter()
    session = transactional.session(_url())
    report, invented = reports.build(prepared.figures, themes_of(prepared), worded.text)
    report, unknown = reports.drop_unknown(
        report, service.existing_slugs(session=session, slugs=report.slugs())
    )
    dropped = sorted(set(invented) | set(unknown))
    if dropped:
        log.warning("insights.slugs_dropped", area=data.area_slug, slugs=dropped, run_id=run_id)
    row = service.store(
        session,
        area_id=data.area_id,
        report=report,
        run_id=run_id,
        user_id=data.user_id,
        engine=worded.engine,
    )
    kinds = [section.kind for section in report.sections]
    return Stored(report_id=row.id, sections=kinds, dropped=dropped, ms=_ms(started))


@DBOS.workflow()
def area_report_workflow(data: AreaReportInput) -> AreaOutcome:
    """One area: figures and themes, the agent's words, then the report stored with its run."""
    run_id = DBOS.workflow_id or ""
    prepared = figures_step(data.area_id)
    worded = words_step(prepared)
    # Exactly once: the report row and this step's checkpoint commit together.
    stored = transactional.run_step(
        _url(), "store_report_step", _store, data, prepared, worded, run_id
    )
    return AreaOutcome(
        area_slug=data.area_slug,
        run_id=run_id,
        status="ok",
        report_id=stored.report_id,
        sections=stored.sections,
        engine=worded.engine,
        dropped_slugs=stored.dropped,
        duration_ms=round(prepared.ms + worded.ms + stored.ms, 1),
    )


def generate(data: AreaInsightsInput, run_id: str) -> AreaInsightsResult:
    """The body shared by the triggered and the scheduled workflow."""
    plan = plan_step(data.areas, data.concurrency)
    calls = [
        (f"{run_id}-{slug}", (AreaReportInput(area_id=aid, area_slug=slug, user_id=plan.user_id),))
        for aid, slug in plan.areas
    ]
    branches = fan_out(area_report_workflow, calls, limit=plan.limit)
    outcomes = [
        branch.result
        if branch.result is not None
        else AreaOutcome(area_slug=slug, run_id=branch.run_id, status="error", error=branch.error)
        for (_aid, slug), branch in zip(plan.areas, branches, strict=True)
    ]
    ok = sum(outcome.status == "ok" for outcome in outcomes)
    return AreaInsightsResult(areas=outcomes, succeeded=ok, failed=len(outcomes) - ok)


@DBOS.workflow()
def area_insights_workflow(data: AreaInsightsInput) -> AreaInsightsResult:
    """Reports for the named areas (all when none), one child run per area."""
    return generate(data, DBOS.workflow_id or "")


@DBOS.workflow()
def scheduled_area_insights_workflow(scheduled_at: datetime, context: Any) -> AreaInsightsResult:
    """The daily run (DBOS schedule ``area-insights-daily``): every area."""
    log.info("insights.scheduled", scheduled_at=scheduled_at.isoformat())
    return generate(AreaInsightsInput(), DBOS.workflow_id or "")


def start_insights(data: AreaInsightsInput, idempotency_key: str | None) -> str:
    """Queue an area-insights run (once per key) on the insights queue; returns its run id."""
    with session_scope(adapters.current().settings.app_database_url) as session:
        service.check_areas(session=session, slugs=data.areas)
    run_id = run_id_for(WORKFLOW_NAME, idempotency_key)
    enqueue("insights", run_id, area_insights_workflow, data)
    check_same_input(run_id, idempotency_key, data)
    return run_id


STARTABLE = Startable(
    WORKFLOW_NAME,
    AreaInsightsInput,
    area_insights_workflow,
    "Insight reports for the named areas (all when none), one child run per area.",
    start=start_insights,
    role="approver",
)
