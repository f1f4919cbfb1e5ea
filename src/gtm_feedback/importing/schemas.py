"""Input and result of the import workflow (``POST /api/workflows/import``, the CLI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from gtm_feedback.importing.reader import read_csv_bytes
from gtm_feedback.importing.service import check_header

#: The largest CSV file one import takes (bytes); split bigger files.
MAX_CSV_BYTES = 20_000_000

ImportKindName = Literal["accounts", "opportunities", "areas", "requests", "feedback"]


class ImportInput(BaseModel):
    """A CSV file to import: its kind and its bytes (stored with the run, so a resume has them).

    Bytes, not text: a byte that is not UTF-8 must spoil only its own row, which the
    workflow reports by line (a JSON client sends the file as a string).
    """

    model_config = ConfigDict(extra="forbid")

    kind: ImportKindName
    csv: bytes = Field(
        min_length=1,
        max_length=MAX_CSV_BYTES,
        description="The file's content, header row first (the columns of the kind).",
    )
    filename: str | None = Field(default=None, max_length=255)
    batch_size: int = Field(default=200, ge=1, le=10_000, description="Rows per transaction.")
    embed: bool = Field(
        default=True,
        description="Embed imported requests and feedback afterwards so matching sees them.",
    )

    @field_validator("csv")
    @classmethod
    def _readable(cls, content: bytes, info: ValidationInfo) -> bytes:
        # A file that cannot be imported at all is refused before any run starts.
        header, _rows = read_csv_bytes(content)
        kind = info.data.get("kind")
        if kind is not None:
            check_header(kind, header)
        return content


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
