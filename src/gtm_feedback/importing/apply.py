"""Writing one validated row: upsert by id, references checked, nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.db.base import Base
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feature_request import slugs
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.importing.rows import AccountRow, AreaRow, FeedbackRow, OpportunityRow, RequestRow
from gtm_feedback.product_area import service as areas
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.user import service as users

M = TypeVar("M", bound=Base)


class RowRejectedError(InvalidInputError):
    """A row that is valid on its own but cannot be written (unknown reference, clash)."""


def _upsert_row(
    session: Session, model: type[M], key: str, values: dict[str, Any]
) -> tuple[M, bool]:
    """Create or update the ``model`` row with primary key ``key``; the row, and if created."""
    row = session.get(model, key)
    created = row is None
    if row is None:
        row = model(**values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return row, created


def _upsert(session: Session, model: type[Base], key: str, values: dict[str, Any]) -> bool:
    """Create or update the ``model`` row with primary key ``key``; True when created."""
    return _upsert_row(session, model, key, values)[1]


def _utc(stamp: datetime | None) -> datetime:
    if stamp is None:
        return datetime.now(UTC)
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def apply_account(session: Session, row: AccountRow) -> bool:
    """Upsert an account; its owner (a user, created if new) when the file names owners."""
    values = row.model_dump(exclude={"owner_email"})
    if "owner_email" in row.model_fields_set:
        owner = row.owner_email
        values["owner_id"] = users.get_or_create(session=session, email=owner).id if owner else None
    return _upsert(session, Account, row.id, values)


def apply_opportunity(session: Session, row: OpportunityRow) -> bool:
    """Upsert an opportunity of a known account."""
    if session.get(Account, row.account_id) is None:
        raise RowRejectedError(f"unknown account {row.account_id!r}")
    return _upsert(session, Opportunity, row.id, row.model_dump())


def apply_area(session: Session, row: AreaRow) -> bool:
    """Upsert a product area (name and slug must stay unique)."""
    try:
        _, created = areas.upsert_area(
            session,
            area_id=row.id,
            name=row.name,
            slug=row.slug,
            description=row.description,
            firehose_channel=row.firehose_channel,
        )
    except areas.AreaError as exc:
        raise RowRejectedError(str(exc)) from exc
    return created


def _area_ids(session: Session, refs: list[str]) -> list[str]:
    found = session.scalars(
        select(ProductArea).where(or_(ProductArea.id.in_(refs), ProductArea.slug.in_(refs)))
    ).all()
    known = {area.id: area.id for area in found} | {area.slug: area.id for area in found}
    missing = [ref for ref in refs if ref not in known]
    if missing:
        raise RowRejectedError(f"unknown product area(s): {', '.join(missing)}")
    return [known[ref] for ref in refs]


def apply_request(session: Session, row: RequestRow) -> bool:
    """Upsert a feature request in known areas; the creator is created if new."""
    area_ids = _area_ids(session, row.areas)
    existing = session.get(FeatureRequest, row.id)
    slug = row.slug or (existing.slug if existing else row.title)
    values: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "status": row.status,
        "tracker_url": row.tracker_url,
        "slug": slugs.free_slug(session=session, title=slug, own_id=row.id),
    }
    if row.creator_email:
        values["creator_id"] = users.get_or_create(session=session, email=row.creator_email).id
    if row.created_at is not None or existing is None:
        values["created_at"] = _utc(row.created_at)
    if row.status is RequestStatus.SHIPPED and (existing is None or existing.shipped_at is None):
        values["shipped_at"] = values.get("created_at", datetime.now(UTC))
    request, created = _upsert_row(session, FeatureRequest, row.id, values)
    requests.set_areas(session=session, request=request, area_ids=area_ids)
    session.flush()
    return created


def _check_deal(session: Session, row: FeedbackRow) -> None:
    opportunity = session.get(Opportunity, row.opportunity_id) if row.opportunity_id else None
    if row.opportunity_id is not None and (
        opportunity is None or opportunity.account_id != row.account_id
    ):
        raise RowRejectedError(
            f"opportunity {row.opportunity_id!r} does not belong to account {row.account_id!r}"
        )
    if row.blocks_deal and opportunity is None:
        raise RowRejectedError("blocks_deal needs the opportunity_id of the deal it blocks")
    if row.blocks_deal and opportunity is not None and not opportunity.is_open:
        raise RowRejectedError(f"blocks_deal on a closed deal ({opportunity.stage})")


def apply_feedback(session: Session, row: FeedbackRow) -> bool:
    """Upsert feedback on a known request and account; its creator follows the request."""
    request = requests.resolve(session=session, id_or_slug=row.request_id)
    if request is None:
        raise RowRejectedError(f"unknown request {row.request_id!r}")
    if session.get(Account, row.account_id) is None:
        raise RowRejectedError(f"unknown account {row.account_id!r}")
    _check_deal(session, row)
    values = row.model_dump(exclude={"creator_email", "created_at"})
    if row.blocks_deal is None:  # no flag given: the stored one stays
        del values["blocks_deal"]
    values |= {"request_id": request.id, "links": [str(link) for link in row.links]}
    if row.created_at is not None or session.get(Feedback, row.id) is None:
        values["created_at"] = _utc(row.created_at)
    if row.creator_email:
        creator = users.get_or_create(session=session, email=row.creator_email)
        values["creator_id"] = creator.id
        requests.follow(session=session, request_id=request.id, user_id=creator.id)
    return _upsert(session, Feedback, row.id, values)
