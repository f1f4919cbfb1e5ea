"""Workflow commands: ``gtm-feedback ship REQUEST``, ``gtm-feedback insights``."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from dbos import DBOS, SetWorkflowID
from rich.table import Table

from gtm_feedback.cli.support import (
    cli_settings,
    console,
    errors,
    progress_bar,
    require_current_schema,
)
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.errors import InvalidInputError, PermanentError
from gtm_feedback.product_area import service as areas

if TYPE_CHECKING:
    from gtm_feedback.insight.schemas import AreaInsightsResult


def ship(
    request: Annotated[str, typer.Argument(help="The request's id or slug.")],
) -> None:
    """Mark a request shipped and notify every follower (a durable workflow)."""
    from gtm_feedback.feature_request.workflows import MarkShippedInput, mark_shipped_workflow
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    require_current_schema(settings)
    with dbos_runtime(settings, "cli"):
        run_id = f"mark-shipped-{uuid.uuid4().hex[:12]}"
        with SetWorkflowID(run_id):
            handle = DBOS.start_workflow(mark_shipped_workflow, MarkShippedInput(request=request))
        try:
            result = handle.get_result()
        except PermanentError as exc:
            errors.print(f"[red]{exc}[/] (run {run_id})")
            raise typer.Exit(2) from exc
    console.print(result.summary())


def insights(
    area: Annotated[
        list[str] | None, typer.Option("--area", "-a", help="An area slug (repeat); default all.")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=32, help="Areas in flight at once (GTMFB_INSIGHTS_CONCURRENCY)."),
    ] = None,
) -> None:
    """Generate the insight reports now (one durable child run per area), then list them."""
    from gtm_feedback.insight.schemas import AreaInsightsInput
    from gtm_feedback.insight.service import check_areas
    from gtm_feedback.insight.workflows import area_insights_workflow
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    require_current_schema(settings)
    data = AreaInsightsInput(areas=area or [], concurrency=concurrency)
    with session_scope(settings.app_database_url) as session:
        try:
            check_areas(session=session, slugs=data.areas)
        except InvalidInputError as exc:
            raise typer.BadParameter(exc.errors[0][1], param_hint="--area") from exc
        total = len(data.areas) or len(areas.list_areas(session=session))
    with dbos_runtime(settings, "cli"):
        run_id = f"area-insights-{uuid.uuid4().hex[:12]}"
        with SetWorkflowID(run_id):
            handle = DBOS.start_workflow(area_insights_workflow, data)
        with progress_bar() as progress:
            task = progress.add_task("areas", total=total)
            while handle.get_status().status not in FINISHED:
                children = DBOS.list_workflows(workflow_id_prefix=f"{run_id}-", load_input=False)
                progress.update(task, completed=sum(c.status in FINISHED for c in children))
                time.sleep(0.1)
            result = handle.get_result()
            progress.update(task, completed=total)
    _print_outcomes(run_id, result)
    if result.failed:
        raise typer.Exit(1)


def _print_outcomes(run_id: str, result: AreaInsightsResult) -> None:
    table = Table(title=f"Area insights (run {run_id})")
    for column in ("area", "outcome", "sections", "text", "ms"):
        table.add_column(column, justify="right" if column == "ms" else "left")
    for outcome in result.areas:
        verdict = "ok" if outcome.status == "ok" else f"[red]{outcome.error}[/]"
        sections = ", ".join(outcome.sections) or "-"
        engine = outcome.engine or "-"
        table.add_row(outcome.area_slug, verdict, sections, engine, f"{outcome.duration_ms:.0f}")
    console.print(table)
    console.print(f"{result.succeeded} reports stored, {result.failed} failed.")
