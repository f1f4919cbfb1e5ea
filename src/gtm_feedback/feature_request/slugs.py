"""Request slugs: free ones, and inserts that survive a concurrent writer taking the same one."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gtm_feedback.db.upsert import add_in_savepoint
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.text.slug import unique_slug

#: How many slugs an insert tries before it gives up; each failure means another writer
#: committed that very slug between our look-up and our insert.
ATTEMPTS = 5


def free_slug(*, session: Session, title: str, own_id: str | None = None) -> str:
    """A slug made from ``title`` that no other request uses."""

    def taken(slug: str) -> bool:
        other = session.scalar(select(FeatureRequest.id).where(FeatureRequest.slug == slug))
        return other is not None and other != own_id

    return unique_slug(title, taken, fallback="request")


def add_with_free_slug(
    *, session: Session, title: str, build: Callable[[str], FeatureRequest]
) -> FeatureRequest:
    """Insert the request ``build(slug)`` makes, under a slug from ``title`` that is free.

    Two runs writing requests with the same title at once both see the slug free; on
    PostgreSQL the second insert then fails on the unique slug. The insert is a savepoint, so
    that failure costs only the attempt: the next one reads the slug taken and adds ``-2``.
    ``build`` makes a fresh row each time, as a rolled-back row has lost its pending links.
    """
    for _ in range(ATTEMPTS - 1):
        slug = free_slug(session=session, title=title)
        row = build(slug)
        try:
            add_in_savepoint(session, row)
            return row
        except IntegrityError:
            # Only a slug someone else took since the look-up is worth another attempt.
            if free_slug(session=session, title=title) == slug:
                raise
    row = build(free_slug(session=session, title=title))
    add_in_savepoint(session, row)
    return row
