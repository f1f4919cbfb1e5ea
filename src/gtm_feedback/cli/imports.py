"""``gtm-feedback import KIND FILE``: the durable import workflow, with a progress bar.

Running the same command on the same file after the process was killed (or interrupted
with Ctrl-C) resumes that run after its last committed batch instead of starting again.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import time
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from dbos import DBOS, WorkflowHandle
from rich.progress import Progress, TaskID
from rich.table import Table

from gtm_feedback.cli.support import (
    cli_settings,
    console,
    errors,
    progress_bar,
    require_current_schema,
)
from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.importing.schemas import ImportResult
from gtm_feedback.importing.staging import FileFacts, inspect


class ImportKind(StrEnum):
    """Kinds of CSV file the importer reads."""

    accounts = "accounts"
    opportunities = "opportunities"
    areas = "areas"
    requests = "requests"
    feedback = "feedback"


class Rejected(Protocol):
    """A refused row as the reports show it."""

    @property
    def line(self) -> int: ...

    @property
    def reason(self) -> str: ...


def import_csv(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction.")] = 200,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Write the rejected lines and reasons (the first 10,000) to this CSV."),
    ] = None,
    embed: Annotated[
        bool, typer.Option(help="Embed imported requests / feedback so matching sees them.")
    ] = True,
) -> None:
    """Import a CSV file as a durable workflow: bad rows reported by line, good rows upserted.

    The file is checked, copied into the database and read back a batch at a time, so
    memory does not grow with the file. Killed or interrupted? Run the same command again:
    it resumes after the last batch.
    """
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    require_current_schema(settings)
    facts = _inspect(kind, file)
    with dbos_runtime(settings, "cli"):
        handle, note = claim_run(kind.value, facts, file, batch_size=batch_size, embed=embed)
        if note:
            console.print(note)
        result = _follow(handle, kind.value)
    print_report(result)
    if rejects is not None and result.errors:
        _write_rejects(rejects, result.errors)
    if result.rejected:
        raise typer.Exit(1)


def _inspect(kind: ImportKind, file: Path) -> FileFacts:
    try:
        with file.open("rb") as stream:
            return inspect(kind.value, stream)
    except InvalidInputError as exc:
        errors.print(f"[red]Cannot import {file}:[/] {exc}")
        raise typer.Exit(2) from exc


def run_id_base(kind: str, facts: FileFacts) -> str:
    """Runs importing the same content as the same kind share this prefix (numbered -1, -2…)."""
    return f"import-{kind}-{facts.sha256[:16]}"


def claim_run(
    kind: str, facts: FileFacts, file: Path, *, batch_size: int, embed: bool
) -> tuple[WorkflowHandle[ImportResult], str | None]:
    """Resume an interrupted run of this file, follow one still running, or start a new one."""
    base = run_id_base(kind, facts)
    earlier = DBOS.list_workflows(workflow_id_prefix=f"{base}-")
    for run in earlier:
        if run.status in FINISHED:
            continue
        if abandoned(run.executor_id):
            DBOS.resume_workflow(run.workflow_id)
            return DBOS.retrieve_workflow(run.workflow_id), (
                f"Resuming the interrupted import {run.workflow_id} after its last batch."
            )
        return DBOS.retrieve_workflow(run.workflow_id), (
            f"This file is already being imported by {run.executor_id} "
            f"(run {run.workflow_id}): following it."
        )
    from gtm_feedback.importing.workflows import describe, start_import

    run_id = f"{base}-{len(earlier) + 1}"
    data = describe(run_id, kind, facts, filename=file.name, batch_size=batch_size, embed=embed)
    return start_import(data, lambda: file.open("rb")), None


def abandoned(executor_id: str | None) -> bool:
    """True for a command-line process of this machine that is no longer running.

    A server's runs are left alone: a restarted server recovers them itself.
    """
    pattern = rf"{re.escape(socket.gethostname())}-cli-(\d+)"
    found = re.fullmatch(pattern, executor_id or "")
    if found is None:
        return False
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _follow(handle: WorkflowHandle[ImportResult], kind: str) -> ImportResult:
    run_id = handle.get_workflow_id()
    with progress_bar() as progress:
        task = progress.add_task(f"Importing {kind}", total=None)
        try:
            while handle.get_status().status not in FINISHED:
                _show(progress, task, run_id)
                time.sleep(0.1)
        except KeyboardInterrupt:
            progress.stop()
            errors.print(
                "Interrupted: run the same command again to resume after the last committed "
                f"batch (run {run_id})."
            )
            raise typer.Exit(130) from None
        _show(progress, task, run_id)
    try:
        return handle.get_result()
    except Exception as exc:
        errors.print(f"[red]The import failed:[/] {exc} (run {run_id})")
        raise typer.Exit(2) from exc


def _show(progress: Progress, task: TaskID, run_id: str) -> None:
    rows: Any = DBOS.get_event(run_id, "progress", timeout_seconds=0)
    vectors: Any = DBOS.get_event(f"{run_id}-embeddings", "progress", timeout_seconds=0)
    if vectors:
        progress.update(task, description="Embedding", total=vectors["total"])
        progress.update(task, completed=vectors["done"])
    elif rows:
        progress.update(task, total=rows["total"], completed=rows["done"])


class ImportSummary(Protocol):
    """What the summary shows: the seed's reports and the import workflow's results alike."""

    @property
    def kind(self) -> str: ...

    @property
    def total(self) -> int: ...

    @property
    def created(self) -> int: ...

    @property
    def updated(self) -> int: ...

    @property
    def rejected(self) -> int: ...

    @property
    def errors(self) -> Sequence[Rejected]: ...

    @property
    def ignored_columns(self) -> Sequence[str]: ...


def print_report(report: ImportSummary) -> None:
    """One summary line, the ignored columns, and a table of the rejected rows."""
    console.print(
        f"[bold]{report.kind}[/]: {report.total} rows, {report.created} created, "
        f"{report.updated} updated, {report.rejected} rejected"
    )
    if report.ignored_columns:
        console.print(f"  ignored unknown column(s): {', '.join(report.ignored_columns)}")
    if report.errors:
        table = Table("line", "reason", title="Rejected rows", title_justify="left")
        for error in report.errors:
            table.add_row(str(error.line), error.reason)
        errors.print(table)
        if report.rejected > len(report.errors):
            errors.print(f"… and {report.rejected - len(report.errors)} more rejected rows")


def _write_rejects(path: Path, rejected: Sequence[Rejected]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason"])
        writer.writerows([error.line, error.reason] for error in rejected)
    console.print(f"Rejected lines written to {path}")
