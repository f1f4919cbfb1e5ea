"""``gtm-feedback runs``: list, inspect, cancel, resume and retry workflow runs.

Goes through a ``DBOSClient``: the command never runs a workflow itself, so a resumed or retried
run is picked up by a server with workers or a worker (``serve``, ``worker``), not lost on exit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from dbos import DBOSClient, WorkflowStatus
from rich.table import Table

from gtm_feedback.cli.access import CLI_ACTOR
from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema
from gtm_feedback.config import parse_duration
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable import control
from gtm_feedback.durable.runs import run_details
from gtm_feedback.monitoring import retention
from gtm_feedback.user import audit

runs_app = typer.Typer(help="Workflow runs: list, show, cancel, resume, retry.")

Workflow = Annotated[
    list[str],
    typer.Option("--workflow", "-w", help="Workflow, e.g. process-feedback (repeatable)."),
]
Status = Annotated[
    list[str],
    typer.Option("--status", "-s", help="PENDING, ENQUEUED, SUCCESS, ERROR, CANCELLED, …"),
]
Queue = Annotated[str | None, typer.Option(help="Only runs of this queue, e.g. feedback.")]
NewerThan = Annotated[str | None, typer.Option(help="Started within this age: 30m, 12h, 2d.")]
OlderThan = Annotated[str | None, typer.Option(help="Started before this age: 1d.")]


@contextmanager
def _client() -> Iterator[DBOSClient]:
    settings = cli_settings()
    require_current_schema(settings)
    logging.getLogger("dbos").addFilter(_quiet)  # not its start-up lines on every command
    client = DBOSClient(
        system_database_url=settings.dbos_database_url, application_name=settings.app_name
    )
    try:
        yield client
    finally:
        client.destroy()


def _quiet(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def _age(value: str | None, option: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _filter(
    workflow: list[str],
    status: list[str],
    queue: str | None,
    newer_than: str | None,
    older_than: str | None,
    limit: int | None,
) -> control.RunFilter:
    statuses = [s.upper() for s in status]
    unknown = sorted(set(statuses) - control.STATUSES)
    if unknown:
        raise typer.BadParameter(f"unknown status {', '.join(unknown)}", param_hint="--status")
    return control.RunFilter(
        workflows=workflow,
        statuses=statuses,
        queue=queue,
        newer_than=_age(newer_than, "--newer-than"),
        older_than=_age(older_than, "--older-than"),
        limit=limit,
    )


def _when(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return ""
    return f"{datetime.fromtimestamp(epoch_ms / 1000, tz=UTC):%Y-%m-%d %H:%M:%S}"


def _row(run: WorkflowStatus) -> dict[str, object]:
    # No duration: DBOS's SQLite stamps a run's end to the second (``runs show`` has the steps').
    return {
        "id": run.workflow_id,
        "workflow": run.name,
        "status": run.status,
        "queue": run.queue_name,
        "created_at": _when(run.created_at),
    }


@runs_app.command("list")
def list_runs(
    workflow: Workflow = [],  # noqa: B006 - typer reads the default, never mutates it
    status: Status = [],  # noqa: B006
    queue: Queue = None,
    newer_than: NewerThan = None,
    older_than: OlderThan = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
) -> None:
    """The newest runs first, filtered by workflow, status, queue and age."""
    chosen = _filter(workflow, status, queue, newer_than, older_than, limit)
    with _client() as client:
        rows = [_row(run) for run in control.select_runs(client, chosen)]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("workflow", "status", "queue", "started (UTC)")
    table.add_column("id", overflow="fold")  # whole: it is what the other commands take
    for row in rows:
        cells = ("workflow", "status", "queue", "created_at", "id")
        table.add_row(*(str(row[k] or "") for k in cells))
    console.print(table)
    console.print(
        f"{len(rows)} run(s)" + (" (the limit; --limit for more)" if len(rows) == limit else "")
    )


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="The run's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="The run as JSON.")] = False,
) -> None:
    """A run: status, result or error, and its steps with durations and errors."""
    with _client() as client:
        run = run_details(run_id, client)
    if run is None:
        errors.print(f"[red]No run with id {run_id}.[/]")
        raise typer.Exit(2)
    if as_json:
        print(run.model_dump_json())
        return
    took = "" if run.duration_ms is None else f", {run.duration_ms} ms"
    console.print(f"[bold]{run.run_id}[/] {run.workflow}: {run.status}{took}")
    if run.error:
        console.print(f"[red]{run.error}[/]")
    table = Table("#", "step", "ms", "error", "child run")
    for step in run.steps:
        ms = "" if step.duration_ms is None else str(step.duration_ms)
        table.add_row(str(step.step), step.name, ms, step.error or "", step.child_run_id or "")
    console.print(table)


def _act(
    action: control.Action,
    run_ids: list[str],
    chosen: control.RunFilter,
    yes: bool,
) -> None:
    if run_ids and not chosen.is_empty():
        raise typer.BadParameter("give run ids or filters, not both")
    if not run_ids and chosen.is_empty():
        raise typer.BadParameter("give run ids, or filters such as --status and --older-than")
    with _client() as client:
        if not run_ids:
            found = control.select_runs(client, chosen)
            run_ids = [run.workflow_id for run in found]
            console.print(
                f"{len(run_ids)} run(s) match; {action} applies to those that are "
                f"{' or '.join(sorted(control.APPLIES_TO[action]))}."
            )
            if not run_ids or not (yes or typer.confirm(f"{action.capitalize()} them?")):
                raise typer.Exit(0)
        done = [control.act(client, run_id, action) for run_id in run_ids]
    _audit(action, [d for d in done if d.acted])
    for item in done:
        console.print(f"{item.run_id}: {item.notice}")
    console.print(f"{sum(d.acted for d in done)} of {len(done)} run(s): {action} done.")


def _audit(action: control.Action, done: list[control.Done]) -> None:
    if not done:
        return
    with session_scope(cli_settings().app_database_url, write=True) as session:
        for item in done:
            audit.record(
                session=session,
                actor=CLI_ACTOR,
                action=f"run.{action}",
                target=item.run_id,
                detail=item.notice,
            )


RunIds = Annotated[list[str] | None, typer.Argument(help="Run ids (or use the filters).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before a bulk action.")]
BulkLimit = Annotated[int, typer.Option(min=1, help="At most this many runs by filter.")]


def _command(action: control.Action, summary: str) -> None:
    def run(
        run_ids: RunIds = None,
        workflow: Workflow = [],  # noqa: B006 - typer reads the default, never mutates it
        status: Status = [],  # noqa: B006
        queue: Queue = None,
        newer_than: NewerThan = None,
        older_than: OlderThan = None,
        limit: BulkLimit = 1000,
        yes: Yes = False,
    ) -> None:
        chosen = _filter(workflow, status, queue, newer_than, older_than, limit)
        _act(action, run_ids or [], chosen, yes)

    run.__doc__ = summary
    runs_app.command(action)(run)


_command("cancel", "Cancel waiting or running runs (by id, or by filter after a preview).")
_command("resume", "Resume cancelled or failed runs from where they stopped.")
_command("retry", "Run finished runs again as new runs, from their first step.")


@runs_app.command("purge")
def purge_runs(
    older_than: Annotated[
        str | None,
        typer.Option(help="Remove finished runs older than this: 30d. Default: the retention."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count them; remove nothing.")] = False,
    yes: Yes = False,
) -> None:
    """Remove finished runs (SUCCESS, ERROR, CANCELLED) older than the retention, with their
    steps; what the runs made (feedback, reports, approvals, the audit log) stays."""
    age = _age(older_than, "--older-than") or timedelta(days=cli_settings().run_retention_days)
    with _client() as client:
        count = len(retention.expired(client, age))
        console.print(f"{count} finished run(s) older than {_days(age)}.")
        if dry_run or not count or not (yes or typer.confirm("Remove them?")):
            raise typer.Exit(0)
        removed = retention.purge(client, age)
    with session_scope(cli_settings().app_database_url, write=True) as session:
        detail = f"{removed} finished run(s) older than {_days(age)}"
        audit.record(
            session=session, actor=CLI_ACTOR, action="runs.purge", target="runs", detail=detail
        )
    console.print(f"Removed {removed} run(s).")


def _days(age: timedelta) -> str:
    return f"{age.total_seconds() / 86400:g} day(s)"
