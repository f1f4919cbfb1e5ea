"""``gtm-feedback matching …``: the calibration in use, a refit now, and going back."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from gtm_feedback.cli.access import CLI_ACTOR
from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import AppError
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import overview, service

matching_app = typer.Typer(help="Matching that learns from decisions: status, refit, revert.")


def _settings() -> Settings:
    settings = cli_settings()
    require_current_schema(settings)
    return settings


@matching_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The threshold and calibration in use, decisions so far, and the refit history."""
    settings = _settings()
    with session_scope(settings.app_database_url) as session:
        found = overview.overview(session, settings, get_embedder(settings).model_id)
    if as_json:
        typer.echo(json.dumps(found.model_dump()))
        return
    console.print(
        f"auto threshold {found.auto_threshold:.3f} ({found.source}); "
        f"{found.decisions['total']} decision(s); a refit needs {found.min_decisions}"
    )
    table = Table("#", "when", "status", "threshold", "decisions", "est. precision", "note")
    for row in found.history:
        estimate = f"{row.estimated_precision:.3f}" if row.estimated_precision else "–"
        table.add_row(
            str(row.id),
            row.at[:16],
            row.status,
            f"{row.auto_threshold:.3f}",
            f"{row.decisions} (+{row.held_back} held back)",
            estimate,
            row.note,
        )
    console.print(table)


@matching_app.command("refit")
def refit() -> None:
    """Refit now from every stored decision (a durable run; shown in the history)."""
    from dbos import DBOS

    from gtm_feedback.learning.workflows import RefitInput, refit_matching_workflow
    from gtm_feedback.runtime import dbos_runtime

    settings = _settings()
    with dbos_runtime(settings, "cli"):
        done = DBOS.start_workflow(refit_matching_workflow, RefitInput(trigger="command line"))
        result = done.get_result()
    if result.calibration_id is None:
        console.print(f"No refit: {result.note}")
        return
    state = "in use" if result.active else "kept for the record (guard rails)"
    console.print(
        f"Refit #{result.calibration_id} {state}: auto threshold "
        f"{result.auto_threshold:.3f}; {result.note}"
    )


@matching_app.command("revert")
def revert(calibration_id: Annotated[int, typer.Argument(help="The refit's number.")]) -> None:
    """Take a refit out of use: the one before it, or the shipped defaults, apply again."""
    settings = _settings()
    try:
        with session_scope(settings.app_database_url, write=True) as session:
            service.revert(session=session, calibration_id=calibration_id, actor=CLI_ACTOR)
    except AppError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"Refit #{calibration_id} reverted.")
