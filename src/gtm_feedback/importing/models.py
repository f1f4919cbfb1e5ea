"""Staged import files: a CSV file copied into the database in chunks, read back by its run.

The import run takes the staged file's id as its input instead of the file's bytes, so the
run reads the file a chunk at a time (memory bounded by a chunk and a batch, not the file),
and a resumed run reads the very same bytes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, utcnow
from gtm_feedback.db.types import UTCDateTime


class ImportFile(Base):
    """A staged CSV file; its id is the id of the import run that reads it."""

    __tablename__ = "import_files"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportChunk(Base):
    """One piece of a staged file, in order."""

    __tablename__ = "import_chunks"

    file_id: Mapped[str] = mapped_column(
        ForeignKey("import_files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportSeenId(Base):
    """A row id already written by this import and the line it came from.

    Kept in the database, in the batch's own transaction, so that a repeated id is caught
    across the whole file without holding every id in memory, and exactly once across a crash.
    """

    __tablename__ = "import_seen_ids"

    file_id: Mapped[str] = mapped_column(
        ForeignKey("import_files.id", ondelete="CASCADE"), primary_key=True
    )
    row_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[int] = mapped_column(Integer)
