"""Loading the sample dataset through the CSV importer, and writing it out as CSV files."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from gtm_feedback.db.session import session_scope
from gtm_feedback.importing.reader import RawRow
from gtm_feedback.importing.service import ImportReport, import_rows
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.sample.generator import Row, SampleData, generate
from gtm_feedback.user import service as users
from gtm_feedback.user.models import Role

# Order matters: feedback refers to requests, requests to areas, opportunities to accounts.
LOAD_ORDER = ("areas", "accounts", "opportunities", "requests", "feedback")


@dataclass(frozen=True)
class SeedResult:
    """What seeding loaded and where the sample CSV files were written."""

    reports: dict[str, ImportReport]
    csv_dir: Path
    incoming: int


def _raw(rows: list[Row]) -> tuple[list[str], list[RawRow]]:
    header = list(rows[0]) if rows else []
    return header, [RawRow(line=n + 2, cells=row) for n, row in enumerate(rows)]


def write_csvs(data: SampleData, folder: Path) -> None:
    """Write every kind as CSV files importable by the CLI, plus the matching evaluation set.

    ``requests.csv`` + ``linked.csv`` + ``incoming.csv`` are the three files of
    ``gtm-feedback eval-matching`` (incoming rows carry their expected request);
    ``duplicates.csv`` the known pairs of ``gtm-feedback eval-duplicates``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for kind in (*LOAD_ORDER, "incoming", "duplicates"):
        _write(folder / f"{kind}.csv", getattr(data, kind))
    linked = [
        {"request_id": row["request_id"], "text": row["description"]} for row in data.feedback
    ]
    _write(folder / "linked.csv", linked)


def _write(path: Path, rows: list[Row]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def is_empty(url: str) -> bool:
    """True when the database has no product areas yet (a first run)."""
    with session_scope(url) as session:
        return session.scalar(select(ProductArea.id).limit(1)) is None


def seed(url: str, data_dir: Path, *, seed_value: int, now: datetime | None = None) -> SeedResult:
    """Load the sample dataset (idempotent: rows are upserted by id)."""
    data = generate(seed_value, now or datetime.now(UTC))
    with session_scope(url, write=True) as session:
        for person in data.users:
            user = users.get_or_create(session=session, email=person["email"], name=person["name"])
            # Product managers decide; sellers and success managers file and follow.
            user.role = (Role.approver if person["role"] == "pm" else Role.member).value
    reports = {}
    for kind in LOAD_ORDER:
        header, rows = _raw(getattr(data, kind))
        reports[kind] = import_rows(url, kind, header, rows)
    csv_dir = data_dir / "sample"
    write_csvs(data, csv_dir)
    return SeedResult(reports=reports, csv_dir=csv_dir, incoming=len(data.incoming))
