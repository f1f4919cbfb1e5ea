"""Staging: a CSV file checked, then copied into the database in chunks; read back as a stream.

An import run's input is the staged file's id, not the file: DBOS would otherwise keep the
whole file as the run's input (in memory when it starts, in the system database forever).
The run reads the staged file a chunk at a time, so its memory is a chunk and a batch.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from dbos import DBOS
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import is_transient, session_scope
from gtm_feedback.errors import InvalidInputError, PermanentError
from gtm_feedback.importing.models import ImportChunk, ImportFile, ImportSeenId
from gtm_feedback.importing.reader import CsvFormatError, read_csv_stream
from gtm_feedback.importing.schemas import StagedImport
from gtm_feedback.importing.service import (
    ImportReport,
    check_header,
    duplicate_reason,
    row_key,
)

#: Bytes per stored chunk: what a reading run holds of the file at a time.
CHUNK_BYTES = 1 << 20

#: The largest file one import takes. The limit is the time staging holds the database's
#: write lock (about a second per 100 MB here), not memory: split bigger files.
MAX_FILE_BYTES = 200_000_000


@dataclass(frozen=True)
class FileFacts:
    """What a check of the whole file found: its digest, size, records and ignored columns."""

    sha256: str
    size: int
    rows: int
    ignored_columns: list[str]


def inspect(kind: str, stream: IO[bytes]) -> FileFacts:
    """Read the whole file once: refuse it if it cannot be imported, else count its records.

    Raises :class:`InvalidInputError` (binary, no header, missing columns, too big).
    """
    counted = _Counting(stream)
    buffered = io.BufferedReader(counted, CHUNK_BYTES)
    if b"\x00" in buffered.peek(4096)[:4096]:
        raise CsvFormatError("the file is binary, not CSV text")
    header, rows = read_csv_stream(buffered)
    ignored = check_header(kind, header)
    total = sum(1 for _ in rows)
    return FileFacts(counted.digest.hexdigest(), counted.size, total, ignored)


def stage(session: Session, data: StagedImport, stream: IO[bytes]) -> None:
    """Copy the file into the database as ``data.file_id`` (once: an existing one is kept).

    ``data`` comes from :func:`inspect` of the same bytes; a file that changed in between
    is refused rather than imported half old, half new.
    """
    if session.get(ImportFile, data.file_id) is not None:
        return
    staged = ImportFile(
        id=data.file_id,
        kind=data.kind,
        filename=data.filename,
        sha256=data.sha256,
        size=data.size,
        rows=data.rows,
        chunks=0,
    )
    session.add(staged)
    session.flush()
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_BYTES):
        digest.update(chunk)
        # Core inserts, not ORM objects: the session keeps no chunk after it is written.
        row = {"file_id": data.file_id, "seq": staged.chunks, "data": chunk}
        session.execute(insert(ImportChunk).values(row))
        staged.chunks += 1
    if digest.hexdigest() != data.sha256:
        raise InvalidInputError("the file changed while it was being read; import it again")


@contextmanager
def open_staged(url: str, file_id: str) -> Iterator[IO[bytes]]:
    """The staged file ``file_id`` as a byte stream that loads one chunk at a time."""
    with session_scope(url) as session:
        chunks = session.scalar(select(ImportFile.chunks).where(ImportFile.id == file_id))
    if chunks is None:
        raise PermanentError(f"the staged import file {file_id!r} is gone")
    with io.BufferedReader(_StagedChunks(url, file_id, chunks), CHUNK_BYTES) as stream:
        yield stream


#: A staged file without a run yet is young (its run starts right after it is staged): kept.
ORPHAN_AFTER = timedelta(days=1)


def sweep(url: str) -> list[str]:
    """Remove staged files no run will read again: their run succeeded, or it is gone.

    Files of failed or cancelled runs stay while the run does, so it can still be resumed;
    once run retention removes it (``GTMFB_RUN_RETENTION_DAYS``), its file goes too.
    """
    with session_scope(url) as session:
        staged = session.execute(select(ImportFile.id, ImportFile.created_at)).all()
    # A finished run is never replayed, so its file can go; asked outside the write
    # transaction (on SQLite, DBOS's own database may be the same file).
    old = utcnow() - ORPHAN_AFTER
    done = [file_id for file_id, created in staged if _done_with(file_id, created < old)]
    if done:
        with session_scope(url, write=True) as session:
            for table in (ImportChunk, ImportSeenId):
                session.execute(delete(table).where(table.file_id.in_(done)))
            session.execute(delete(ImportFile).where(ImportFile.id.in_(done)))
    return done


def _done_with(run_id: str, old: bool) -> bool:
    status = DBOS.get_workflow_status(run_id)
    return status.status == "SUCCESS" if status is not None else old


class _Counting(io.RawIOBase):
    """Passes a stream's bytes through, hashing and counting them, and stops at the limit."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self.digest.update(data)
        self.size += len(data)
        if self.size > MAX_FILE_BYTES:
            raise InvalidInputError(
                f"the file is over the import limit of {MAX_FILE_BYTES:,} bytes; split it"
            )
        buffer[: len(data)] = data
        return len(data)


class _StagedChunks(io.RawIOBase):
    """A staged file's chunks as a raw stream, each loaded from the database when reached."""

    def __init__(self, url: str, file_id: str, chunks: int) -> None:
        self._url, self._file_id, self._chunks = url, file_id, chunks
        self._next = 0
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and self._next < self._chunks:
            self._pending = memoryview(_load_chunk(self._url, self._file_id, self._next))
            self._next += 1
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@retry(
    retry=retry_if_exception(is_transient),
    wait=wait_exponential_jitter(multiplier=0.25, max=8),
    stop=stop_after_delay(60),
    reraise=True,
)
def _load_chunk(url: str, file_id: str, seq: int) -> bytes:
    # Read in the run's body, not in a step (a step would copy the chunk into the run's
    # checkpoints): a transient database failure is retried here instead.
    with session_scope(url) as session:
        data = session.scalar(
            select(ImportChunk.data).where(ImportChunk.file_id == file_id, ImportChunk.seq == seq)
        )
    if data is None:
        raise PermanentError(f"chunk {seq} of the staged import file {file_id!r} is gone")
    return data


def first_occurrences(
    session: Session, file_id: str, rows: list[tuple[int, Any]], report: ImportReport
) -> list[tuple[int, Any]]:
    """The rows whose id this import has not met before; the repeats go to ``report``.

    The ids met are recorded in the caller's transaction (the batch's), so a crash forgets
    exactly the ids of the batches it also undid.
    """
    ids = [row_key(row) for _line, row in rows]
    known = select(ImportSeenId.row_id, ImportSeenId.line).where(
        ImportSeenId.file_id == file_id, ImportSeenId.row_id.in_(ids)
    )
    seen: dict[str, int] = dict(session.execute(known).all())
    fresh: list[tuple[int, Any]] = []
    for (line, row), row_id in zip(rows, ids, strict=True):
        if row_id in seen:
            report.reject(line, duplicate_reason(row_id, seen[row_id]))
            continue
        seen[row_id] = line
        fresh.append((line, row))
    if fresh:
        values = [{"file_id": file_id, "row_id": row_key(row), "line": line} for line, row in fresh]
        session.execute(insert(ImportSeenId), values)
    return fresh
