"""Running an import: validate every row, write the good ones in batches, report the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.importing import apply
from gtm_feedback.importing.reader import RawRow
from gtm_feedback.importing.rows import AccountRow, AreaRow, FeedbackRow, OpportunityRow, RequestRow


@dataclass(frozen=True)
class Kind:
    """What one importable kind reads and how it writes a row."""

    row_model: type[BaseModel]
    write: Callable[[Session, Any], bool]

    @property
    def required_columns(self) -> list[str]:
        """Columns a file of this kind must have."""
        return [name for name, f in self.row_model.model_fields.items() if f.is_required()]

    @property
    def columns(self) -> list[str]:
        """Every column this kind understands, in order."""
        return list(self.row_model.model_fields)


KINDS: dict[str, Kind] = {
    "accounts": Kind(AccountRow, apply.apply_account),
    "opportunities": Kind(OpportunityRow, apply.apply_opportunity),
    "areas": Kind(AreaRow, apply.apply_area),
    "requests": Kind(RequestRow, apply.apply_request),
    "feedback": Kind(FeedbackRow, apply.apply_feedback),
}


@dataclass(frozen=True)
class RowError:
    """A row that was not imported, and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    kind: str
    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: Rows refused; ``errors`` lists the first ``max_listed`` of them (all without a cap).
    rejected: int = 0
    max_listed: int | None = None

    def reject(self, line: int, reason: str) -> None:
        """Count a refused row, and list it while the list is under its cap."""
        self.rejected += 1
        if self.max_listed is None or len(self.errors) < self.max_listed:
            self.errors.append(RowError(line, reason))

    @property
    def imported(self) -> int:
        """Rows written (created or updated)."""
        return self.created + self.updated


class HeaderError(InvalidInputError):
    """The file's header lacks columns this kind needs."""


def check_header(kind: str, header: list[str]) -> list[str]:
    """Raise if required columns are missing; return the columns that will be ignored."""
    spec = KINDS[kind]
    missing = [name for name in spec.required_columns if name not in header]
    if missing:
        raise HeaderError(
            f"missing required column(s) {', '.join(missing)}; "
            f"{kind} files have columns: {','.join(spec.columns)}"
        )
    return [name for name in header if name and name not in spec.columns]


def describe_validation(exc: ValidationError) -> str:
    """One line naming each bad field and what is wrong with it."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "row"
        value = error.get("input")
        shown = f" (got {value!r})" if isinstance(value, str) and len(value) < 60 else ""
        parts.append(f"{where}: {error['msg'].lower()}{shown}")
    return "; ".join(parts)


def validate(kind: str, rows: Iterable[RawRow], report: ImportReport) -> list[tuple[int, Any]]:
    """Rows that pass validation and are not duplicates; the others go into ``report``."""
    return list(iter_valid(kind, rows, report))


def iter_valid(
    kind: str, rows: Iterable[RawRow], report: ImportReport, *, dedupe: bool = True
) -> Iterator[tuple[int, Any]]:
    """:func:`validate` one row at a time. ``dedupe=False`` leaves repeated ids to the
    caller (the import workflow finds them in the database, not in memory)."""
    spec = KINDS[kind]
    first_line: dict[str, int] = {}
    for raw in rows:
        report.total += 1
        if raw.fault is not None:
            report.reject(raw.line, raw.fault)
            continue
        try:
            row = spec.row_model.model_validate(raw.cells)
        except ValidationError as exc:
            report.reject(raw.line, describe_validation(exc))
            continue
        if dedupe:
            row_id = row_key(row)
            if row_id in first_line:
                report.reject(raw.line, duplicate_reason(row_id, first_line[row_id]))
                continue
            first_line[row_id] = raw.line
        yield raw.line, row


def row_key(row: Any) -> str:
    """The id a validated row is upserted by."""
    return str(getattr(row, "id"))  # noqa: B009 - every row model has an id


def duplicate_reason(row_id: str, first: int) -> str:
    """Why a row whose id came earlier in the file is refused."""
    return f"duplicate id {row_id!r} (first on line {first})"


def write(
    url: str,
    kind: str,
    rows: list[tuple[int, Any]],
    report: ImportReport,
    *,
    batch_size: int = 200,
    on_row: Callable[[], None] | None = None,
) -> None:
    """Write validated rows, one transaction per batch and a savepoint per row."""
    for start in range(0, len(rows), batch_size):
        # A write transaction from the start: a batch reads then writes, and on SQLite a
        # deferred one fails at once if another writer commits in between.
        with session_scope(url, write=True) as session:
            write_batch(
                session=session,
                kind=kind,
                rows=rows[start : start + batch_size],
                report=report,
                on_row=on_row,
            )


def write_batch(
    *,
    session: Session,
    kind: str,
    rows: list[tuple[int, Any]],
    report: ImportReport,
    on_row: Callable[[], None] | None = None,
) -> None:
    """Write validated rows in the caller's transaction, each inside its own savepoint."""
    spec = KINDS[kind]
    for line, row in rows:
        _write_one(session, spec, line, row, report)
        if on_row is not None:
            on_row()


def _write_one(session: Session, spec: Kind, line: int, row: Any, report: ImportReport) -> None:
    try:
        with session.begin_nested():
            created = spec.write(session, row)
    except (apply.RowRejectedError, ValueError) as exc:
        report.reject(line, str(exc))
        return
    except IntegrityError as exc:
        report.reject(line, f"rejected by the database: {exc.orig}")
        return
    if created:
        report.created += 1
    else:
        report.updated += 1


def import_rows(
    url: str,
    kind: str,
    header: list[str],
    rows: Iterable[RawRow],
    *,
    batch_size: int = 200,
    on_validated: Callable[[int], None] | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Validate and write ``rows`` of ``kind``; never raises for a bad row.

    ``on_validated`` gets the number of rows about to be written (a progress bar's total),
    ``on_row`` is called after each of them.
    """
    report = ImportReport(kind=kind, ignored_columns=check_header(kind, header))
    good = validate(kind, rows, report)
    if on_validated is not None:
        on_validated(len(good))
    write(url, kind, good, report, batch_size=batch_size, on_row=on_row)
    report.errors.sort(key=lambda error: error.line)
    return report
