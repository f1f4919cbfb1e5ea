"""Workflow commands: ``gtm-feedback ship REQUEST``."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from dbos import DBOS, SetWorkflowID

from gtm_feedback.cli_support import cli_settings, console, errors, require_current_schema
from gtm_feedback.workflow_support import PermanentError


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
    if result.already_shipped:
        console.print(f"“{result.slug}” had already shipped: nobody was notified again.")
    else:
        console.print(
            f"Shipped “{result.slug}”: notified {result.notified} of {result.followers} followers."
        )
