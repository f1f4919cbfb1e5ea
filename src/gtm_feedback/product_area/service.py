"""Product areas: names, slugs, firehose channels, and the area's ship rate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gtm_feedback.errors import InvalidInputError
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus, request_areas
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.text.slug import slugify


class AreaError(InvalidInputError):
    """A product area that cannot be saved as given (the message says why)."""


def normalise_channel(value: str | None) -> str | None:
    """``api``, ``firehose-api`` and ``#firehose-api`` all mean channel ``#firehose-api``."""
    if value is None or not value.strip():
        return None
    name = value.strip().lstrip("#").strip().lower()
    if not name:
        return None
    if not name.startswith("firehose-"):
        name = f"firehose-{name}"
    return f"#{name}"


def ship_rate(open_count: int, shipped_count: int) -> int:
    """round(shipped / (open + shipped) × 100); 0 when there is nothing open or shipped."""
    total = open_count + shipped_count
    if total == 0:
        return 0
    # Half-up rounding as people expect (Python's round() would send 12.5 to 12).
    return int((shipped_count * 200 + total) // (2 * total))


@dataclass(frozen=True)
class StatusCounts:
    """How many of an area's requests are in each status."""

    open: int = 0
    shipped: int = 0
    deprioritized: int = 0

    @property
    def ship_rate(self) -> int:
        """Shipped share of open + shipped, in whole percent (deprioritized excluded)."""
        return ship_rate(self.open, self.shipped)


def status_counts(*, session: Session, area_id: str) -> StatusCounts:
    """Count an area's requests by status."""
    rows = session.execute(
        select(FeatureRequest.status, func.count())
        .join(request_areas, request_areas.c.request_id == FeatureRequest.id)
        .where(request_areas.c.area_id == area_id, FeatureRequest.merged_into_id.is_(None))
        .group_by(FeatureRequest.status)
    ).all()
    counts = {RequestStatus(status): int(n) for status, n in rows}
    return StatusCounts(
        open=counts.get(RequestStatus.OPEN, 0),
        shipped=counts.get(RequestStatus.SHIPPED, 0),
        deprioritized=counts.get(RequestStatus.DEPRIORITIZED, 0),
    )


def status_counts_by_area(*, session: Session) -> dict[str, StatusCounts]:
    """Status counts of every area that has requests, in one query."""
    rows = session.execute(
        select(request_areas.c.area_id, FeatureRequest.status, func.count())
        .join(FeatureRequest, FeatureRequest.id == request_areas.c.request_id)
        .group_by(request_areas.c.area_id, FeatureRequest.status)
    ).all()
    tallies: dict[str, dict[str, int]] = {}
    for area_id, status, n in rows:
        tallies.setdefault(area_id, {})[RequestStatus(status).value] = int(n)
    return {area_id: StatusCounts(**counts) for area_id, counts in tallies.items()}


def list_areas(*, session: Session) -> list[ProductArea]:
    """Every product area, by name."""
    return list(session.scalars(select(ProductArea).order_by(ProductArea.name)))


def get_by_slug(*, session: Session, slug: str) -> ProductArea | None:
    """The area with this slug, if any."""
    return session.scalar(select(ProductArea).where(ProductArea.slug == slug))


def upsert_area(
    session: Session,
    *,
    area_id: str | None,
    name: str,
    description: str = "",
    slug: str | None = None,
    firehose_channel: str | None = None,
) -> tuple[ProductArea, bool]:
    """Create or update an area by id; returns the area and whether it was created."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AreaError("name must be 1 to 100 characters")
    if len(description) > 500:
        raise AreaError("description must be at most 500 characters")
    slug = slugify(slug or name)
    if not slug:
        raise AreaError(f"cannot make a slug from name {name!r}")
    area = session.get(ProductArea, area_id) if area_id else None
    _check_unique(session, area_id=area.id if area else None, name=name, slug=slug)
    created = area is None
    if area is None:
        area = ProductArea(name=name, slug=slug) if area_id is None else ProductArea(id=area_id)
        session.add(area)
    area.name, area.slug, area.description = name, slug, description
    area.firehose_channel = normalise_channel(firehose_channel)
    session.flush()
    return area, created


def _check_unique(session: Session, *, area_id: str | None, name: str, slug: str) -> None:
    clash = session.scalar(
        select(ProductArea).where(
            (func.lower(ProductArea.name) == name.lower()) | (ProductArea.slug == slug),
            ProductArea.id != (area_id or ""),
        )
    )
    if clash is not None:
        raise AreaError(f"an area named {clash.name!r} (slug {clash.slug!r}) already exists")


def get(*, session: Session, area_id: str) -> ProductArea | None:
    """The area with this id, if any."""
    return session.get(ProductArea, area_id)
