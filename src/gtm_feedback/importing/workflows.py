"""CSV import as a durable workflow: a crash mid-import resumes after the last committed batch.

The file's bytes are the workflow's input, so DBOS stores them with the run and a resumed run
reads the same rows. Parsing and validation are pure functions of those bytes and run in the
body; every batch is a transactional step, whose rows and checkpoint commit together, so a
batch is written exactly once and the created / updated counts stay exact across a crash.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from dbos import DBOS, SetWorkflowID

from gtm_feedback.db import transactional
from gtm_feedback.durable.registry import Startable
from gtm_feedback.feature_request.workflows import SyncEmbeddingsInput, sync_embeddings_workflow
from gtm_feedback.importing.reader import read_csv_bytes
from gtm_feedback.importing.schemas import BatchOutcome, ImportInput, ImportResult, RowErrorOut
from gtm_feedback.importing.service import ImportReport, check_header, iter_valid, write_batch
from gtm_feedback.integrations import adapters

#: Kinds whose rows carry text that matching searches (and so need embedding).
EMBEDDED_KINDS = frozenset({"requests", "feedback"})


def _write_batch(url: str, kind: str, rows: list[tuple[int, Any]]) -> BatchOutcome:
    report = ImportReport(kind=kind)
    write_batch(session=transactional.session(url), kind=kind, rows=rows, report=report)
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


def _embed(data: ImportInput, imported: int) -> str | None:
    """Sequential follow-on: embed what was imported, as a child run; its id, if started."""
    if not data.embed or data.kind not in EMBEDDED_KINDS or imported == 0:
        return None
    run_id = f"{DBOS.workflow_id}-embeddings"
    with SetWorkflowID(run_id):
        DBOS.start_workflow(sync_embeddings_workflow, SyncEmbeddingsInput()).get_result()
    return run_id


@DBOS.workflow()
def import_workflow(data: ImportInput) -> ImportResult:
    """Validate every row, write the good ones batch by batch, then embed them."""
    url = adapters.current().settings.app_database_url
    header, raw_rows = read_csv_bytes(data.csv)
    report = ImportReport(kind=data.kind, ignored_columns=check_header(data.kind, header))
    # Rows are read, validated and written a batch at a time: memory holds one batch of
    # validated rows, not the whole file's (a count of the records first, for the progress).
    total = sum(1 for _ in read_csv_bytes(data.csv)[1])
    written: list[RowErrorOut] = []
    created = updated = batches = 0
    _progress(0, total, created, 0)
    for batch in _batches(iter_valid(data.kind, raw_rows, report), data.batch_size):
        done = transactional.run_step(url, "import_batch_step", _write_batch, url, data.kind, batch)
        created, updated, batches = created + done.created, updated + done.updated, batches + 1
        written.extend(done.errors)
        _progress(report.total, total, created, len(report.errors) + len(written))
    _progress(total, total, created, len(report.errors) + len(written))
    errors = [RowErrorOut(line=e.line, reason=e.reason) for e in report.errors] + written
    errors.sort(key=lambda error: error.line)
    return ImportResult(
        kind=data.kind,
        filename=data.filename,
        total=report.total,
        created=created,
        updated=updated,
        rejected=len(errors),
        errors=errors,
        ignored_columns=report.ignored_columns,
        batches=batches,
        embeddings_run_id=_embed(data, created + updated),
    )


STARTABLE = Startable(
    "import",
    ImportInput,
    import_workflow,
    "Import a CSV file's rows in batches (exactly once each), then embed them.",
)
