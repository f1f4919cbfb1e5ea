"""Input and result of the import workflow (``POST /api/workflows/import``, the CLI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ImportKindName = Literal["accounts", "opportunities", "areas", "requests", "feedback"]

#: Rejected rows a result lists by line; more are counted, not listed.
MAX_LISTED_ERRORS = 10_000


class ImportInput(BaseModel):
    """A CSV file to import (``POST /api/workflows/import``): its kind and its content.

    Bytes, not text: a byte that is not UTF-8 must spoil only its own row, which the
    workflow reports by line (a JSON client sends the file as a string).
    """

    model_config = ConfigDict(extra="forbid")

    kind: ImportKindName
    csv: bytes = Field(
        min_length=1, description="The file's content, header row first (the columns of the kind)."
    )
    filename: str | None = Field(default=None, max_length=255)
    batch_size: int = Field(default=200, ge=1, le=10_000, description="Rows per transaction.")
    embed: bool = Field(
        default=True,
        description="Embed imported requests and feedback afterwards so matching sees them.",
    )


class StagedImport(BaseModel):
    """The import run's input: the staged file it reads (by id, never its bytes), and how."""

    file_id: str
    sha256: str
    size: int
    rows: int
    kind: ImportKindName
    filename: str | None
    batch_size: int = Field(default=200, ge=1, le=10_000)
    embed: bool = True
    ignored_columns: list[str]


class RowErrorOut(BaseModel):
    """A refused row: its line in the file and why."""

    line: int
    reason: str


class BatchOutcome(BaseModel):
    """What one committed batch did."""

    created: int
    updated: int
    errors: list[RowErrorOut]


class ImportResult(BaseModel):
    """What the import did: rows read, created, updated and refused (with line and reason)."""

    kind: str
    filename: str | None
    total: int
    created: int
    updated: int
    rejected: int
    errors: list[RowErrorOut]
    ignored_columns: list[str]
    batches: int
    embeddings_run_id: str | None = None
