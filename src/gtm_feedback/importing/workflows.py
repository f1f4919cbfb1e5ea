"""CSV import as a durable workflow: a crash mid-import resumes after the last committed batch.

The file is staged in the database first (``staging``) and the run's input is its id, so the
run reads it a chunk at a time and a resumed run reads the same bytes. Parsing and validation
are pure functions of those bytes and run in the body; every batch is a transactional step,
whose rows, the ids it met and its checkpoint commit together, so a batch is written exactly
once and the created / updated counts stay exact across a crash.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import IO, Any

from dbos import DBOS, SetWorkflowID, WorkflowHandle
from sqlalchemy.exc import IntegrityError

from gtm_feedback.db import transactional
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.idempotency import check_same_input, run_id_for
from gtm_feedback.durable.registry import Startable
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.feature_request.workflows import SyncEmbeddingsInput, sync_embeddings_workflow
from gtm_feedback.importing import staging
from gtm_feedback.importing.reader import read_csv_stream
from gtm_feedback.importing.schemas import (
    MAX_LISTED_ERRORS,
    BatchOutcome,
    ImportInput,
    ImportResult,
    RowErrorOut,
    StagedImport,
)
from gtm_feedback.importing.service import ImportReport, iter_valid, write_batch
from gtm_feedback.integrations import adapters

#: Kinds whose rows carry text that matching searches (and so need embedding).
EMBEDDED_KINDS = frozenset({"requests", "feedback"})


def _write_batch(url: str, file_id: str, kind: str, rows: list[tuple[int, Any]]) -> BatchOutcome:
    session = transactional.session(url)
    report = ImportReport(kind=kind)
    fresh = staging.first_occurrences(session, file_id, rows, report)
    write_batch(session=session, kind=kind, rows=fresh, report=report)
    errors = [RowErrorOut(line=e.line, reason=e.reason) for e in report.errors]
    return BatchOutcome(created=report.created, updated=report.updated, errors=errors)


def _batches(rows: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    # itertools.batched arrives in Python 3.12.
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _progress(done: int, total: int, created: int, rejected: int) -> None:
    DBOS.set_event(
        "progress", {"done": done, "total": total, "created": created, "rejected": rejected}
    )


def _embed(data: StagedImport, imported: int) -> str | None:
    """Sequential follow-on: embed what was imported, as a child run; its id, if started."""
    if not data.embed or data.kind not in EMBEDDED_KINDS or imported == 0:
        return None
    run_id = f"{DBOS.workflow_id}-embeddings"
    with SetWorkflowID(run_id):
        DBOS.start_workflow(sync_embeddings_workflow, SyncEmbeddingsInput()).get_result()
    return run_id


@DBOS.workflow()
def import_workflow(data: StagedImport) -> ImportResult:
    """Validate every row, write the good ones batch by batch, then embed them."""
    url = adapters.current().settings.app_database_url
    # Validation's refusals and the batches' are counted; the first MAX_LISTED_ERRORS listed.
    report = ImportReport(kind=data.kind, max_listed=MAX_LISTED_ERRORS)
    written = ImportReport(kind=data.kind, max_listed=MAX_LISTED_ERRORS)
    batches = 0
    _progress(0, data.rows, 0, 0)
    with staging.open_staged(url, data.file_id) as stream:
        _header, raw_rows = read_csv_stream(stream)
        valid = iter_valid(data.kind, raw_rows, report, dedupe=False)
        for batch in _batches(valid, data.batch_size):
            done = transactional.run_step(
                url, "import_batch_step", _write_batch, url, data.file_id, data.kind, batch
            )
            written.created += done.created
            written.updated += done.updated
            for error in done.errors:
                written.reject(error.line, error.reason)
            batches += 1
            _progress(report.total, data.rows, written.created, report.rejected + written.rejected)
    _progress(data.rows, data.rows, written.created, report.rejected + written.rejected)
    return _result(data, report, written, batches)


def _result(
    data: StagedImport, read: ImportReport, written: ImportReport, batches: int
) -> ImportResult:
    errors = [RowErrorOut(line=e.line, reason=e.reason) for e in read.errors + written.errors]
    errors.sort(key=lambda error: error.line)
    return ImportResult(
        kind=data.kind,
        filename=data.filename,
        total=read.total,
        created=written.created,
        updated=written.updated,
        rejected=read.rejected + written.rejected,
        errors=errors[:MAX_LISTED_ERRORS],
        ignored_columns=data.ignored_columns,
        batches=batches,
        embeddings_run_id=_embed(data, written.imported),
    )


def describe(
    run_id: str,
    kind: str,
    facts: staging.FileFacts,
    *,
    filename: str | None,
    **options: int | bool,
) -> StagedImport:
    """The input of the run ``run_id`` importing a file with these ``facts`` and ``options``
    (``batch_size``, ``embed``)."""
    facts_fields = {"sha256": facts.sha256, "size": facts.size, "rows": facts.rows}
    return StagedImport.model_validate(
        {"file_id": run_id, "kind": kind, "filename": filename, **options}
        | facts_fields
        | {"ignored_columns": facts.ignored_columns}
    )


def start_import(
    data: StagedImport, open_file: Callable[[], AbstractContextManager[IO[bytes]]]
) -> WorkflowHandle[ImportResult]:
    """Stage the file (unless its run exists already) and start the run reading it."""
    url = adapters.current().settings.app_database_url
    if DBOS.get_workflow_status(data.file_id) is None:
        staging.sweep(url)
        try:
            with session_scope(url, write=True) as session, open_file() as stream:
                staging.stage(session, data, stream)
        except IntegrityError:
            pass  # staged at the same moment by a repeat of this request: theirs is kept
    with SetWorkflowID(data.file_id):
        return DBOS.start_workflow(import_workflow, data)


def start_import_bytes(
    body: ImportInput, run_id: str
) -> tuple[StagedImport, WorkflowHandle[ImportResult]]:
    """Inspect, stage and start the import of ``body``'s content as run ``run_id``.

    Raises :class:`InvalidInputError` naming the ``csv`` field for a file that cannot be
    imported (nothing staged, no run).
    """
    try:
        facts = staging.inspect(body.kind, io.BytesIO(body.csv))
    except InvalidInputError as exc:
        raise InvalidInputError(exc.errors or [("csv", str(exc))]) from exc
    data = describe(
        run_id,
        body.kind,
        facts,
        filename=body.filename,
        batch_size=body.batch_size,
        embed=body.embed,
    )
    return data, start_import(data, lambda: io.BytesIO(body.csv))


def _start_by_name(body: ImportInput, idempotency_key: str | None) -> str:
    # A key reused with another file or other options is a 409, like every intake.
    run_id = run_id_for("import", idempotency_key)
    data, _handle = start_import_bytes(body, run_id)
    check_same_input(run_id, idempotency_key, data)
    return run_id


STARTABLE = Startable(
    "import",
    ImportInput,
    import_workflow,
    "Import a CSV file's rows in batches (exactly once each), then embed them.",
    start=_start_by_name,
)
