"""Merge commands: ``gtm-feedback requests merge SOURCE INTO``, ``requests unmerge MERGE_ID``."""

from __future__ import annotations

from typing import Annotated

import typer

from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import AppError, PermanentError

requests_app = typer.Typer(help="Feature requests: merge duplicates, undo a merge.")


@requests_app.command("merge")
def merge(
    source: Annotated[str, typer.Argument(help="The request that goes (id or slug).")],
    into: Annotated[str, typer.Argument(help="The request that stays (id or slug).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Merge without asking.")] = False,
) -> None:
    """Show what would move, then merge SOURCE into INTO (a durable workflow)."""
    from gtm_feedback.feature_request import merging
    from gtm_feedback.feature_request.merge_workflows import MergeInput, start_merge
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    require_current_schema(settings)
    with session_scope(settings.app_database_url) as session:
        try:
            plan = merging.plan(session=session, source=source, survivor=into)
        except AppError as exc:
            errors.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
        console.print(
            f"“{plan.source.slug}” into “{plan.survivor.slug}”: {plan.feedback} feedback, "
            f"followers gained {plan.followers or 'none'}, areas gained {plan.areas or 'none'}, "
            f"ARR {plan.arr_before:,.0f} → {plan.arr_after:,.0f}"
        )
        data = MergeInput(source=plan.source.id, survivor=plan.survivor.id, merged_by="cli")
    if not yes and not typer.confirm("Merge?"):
        raise typer.Exit(1)
    with dbos_runtime(settings, "cli"):
        handle = start_merge(data)
        try:
            result = handle.get_result()
        except PermanentError as exc:
            errors.print(f"[red]{exc}[/] (run {handle.workflow_id})")
            raise typer.Exit(2) from exc
    console.print(f"{result.summary()} Undo: gtm-feedback requests unmerge {result.merge_id}")


@requests_app.command("unmerge")
def unmerge(
    merge_id: Annotated[str, typer.Argument(help="The merge's id (the run that merged).")],
) -> None:
    """Undo a merge: the feedback, followers and areas it moved go back."""
    from gtm_feedback.feature_request.merge_workflows import start_unmerge
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    require_current_schema(settings)
    with dbos_runtime(settings, "cli"):
        handle = start_unmerge(merge_id, "cli")
        try:
            result = handle.get_result()
        except PermanentError as exc:
            errors.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
    console.print(result.summary())
