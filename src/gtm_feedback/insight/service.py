"""Insight reports: store one (history kept), read the latest and the history of an area."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gtm_feedback.errors import InvalidInputError
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.insight.models import InsightReport
from gtm_feedback.insight.schemas import InsightHistoryItem, InsightReportOut, Report
from gtm_feedback.product_area import service as areas
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.user.models import User


def existing_slugs(*, session: Session, slugs: Iterable[str]) -> set[str]:
    """Those of ``slugs`` that belong to a request."""
    wanted = sorted(set(slugs))
    if not wanted:
        return set()
    return set(session.scalars(select(FeatureRequest.slug).where(FeatureRequest.slug.in_(wanted))))


def store(
    session: Session,
    *,
    area_id: str,
    report: Report,
    run_id: str,
    user_id: str | None,
    engine: str,
) -> InsightReport:
    """Add a report to the area's history."""
    body = report.model_dump(mode="json")
    row = InsightReport(
        area_id=area_id,
        sections=body["sections"],
        overview={"headline": body["headline"], "top_requests": body["top_requests"]},
        run_id=run_id,
        generated_by_id=user_id,
        engine=engine,
    )
    session.add(row)
    session.flush()
    return row


def _report(row: InsightReport, area: ProductArea) -> Report:
    data: dict[str, Any] = {
        "area_slug": area.slug,
        "area_name": area.name,
        "sections": row.sections,
        **row.overview,
    }
    return Report.model_validate(data)


def to_out(*, session: Session, row: InsightReport, area: ProductArea) -> InsightReportOut:
    """The API shape of a stored report."""
    user = session.get(User, row.generated_by_id) if row.generated_by_id else None
    return InsightReportOut(
        id=row.id,
        area_slug=area.slug,
        generated_at=row.generated_at,
        run_id=row.run_id,
        generated_by=user.email if user else None,
        engine=row.engine,
        report=_report(row, area),
    )


def latest(*, session: Session, area: ProductArea) -> InsightReportOut | None:
    """The area's most recent report, if any."""
    row = session.scalar(
        select(InsightReport)
        .where(InsightReport.area_id == area.id)
        .order_by(InsightReport.generated_at.desc(), InsightReport.id.desc())
        .limit(1)
    )
    return None if row is None else to_out(session=session, row=row, area=area)


def latest_times(*, session: Session) -> dict[str, datetime]:
    """When each area's latest report was generated, by area id."""
    rows = session.execute(
        select(InsightReport.area_id, func.max(InsightReport.generated_at)).group_by(
            InsightReport.area_id
        )
    )
    return {row[0]: row[1] for row in rows.all()}


def history_query(area: ProductArea) -> Select[InsightReport]:
    """The area's reports, newest first."""
    return (
        select(InsightReport)
        .where(InsightReport.area_id == area.id)
        .order_by(InsightReport.generated_at.desc(), InsightReport.id.desc())
    )


def history_item(row: InsightReport) -> InsightHistoryItem:
    """One report as the history lists it."""
    return InsightHistoryItem(
        id=row.id,
        generated_at=row.generated_at,
        run_id=row.run_id,
        sections=[section["kind"] for section in row.sections],
    )


def history(*, session: Session, area: ProductArea, limit: int = 30) -> list[InsightHistoryItem]:
    """The area's reports, newest first."""
    return [history_item(row) for row in session.scalars(history_query(area).limit(limit))]


def get(*, session: Session, area: ProductArea, report_id: str) -> InsightReportOut | None:
    """One report of the area's history."""
    row = session.get(InsightReport, report_id)
    return (
        None
        if row is None or row.area_id != area.id
        else to_out(session=session, row=row, area=area)
    )


def check_areas(*, session: Session, slugs: list[str]) -> None:
    """Refuse unknown area slugs before any run starts."""
    known = {area.slug for area in areas.list_areas(session=session)}
    unknown = [slug for slug in dict.fromkeys(slugs) if slug not in known]
    if unknown:
        raise InvalidInputError([("areas", f"no product area with slug {', '.join(unknown)}")])
