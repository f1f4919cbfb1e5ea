"""Request slugs when two writers want the same one at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feature_request import slugs
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.product_area.service import upsert_area
from tests import factories as f


def _builder(
    session: Session, request_id: str, title: str, area_id: str
) -> Callable[[str], FeatureRequest]:
    def build(slug: str) -> FeatureRequest:
        row = FeatureRequest(id=request_id, slug=slug, title=title)
        requests.set_areas(session=session, request=row, area_ids=[area_id])
        return row

    return build


def _insert(url: str, request_id: str, title: str, area_id: str) -> None:
    with session_scope(url, write=True) as session:
        build = _builder(session, request_id, title, area_id)
        slugs.add_with_free_slug(session=session, title=title, build=build)


@pytest.mark.postgres
def test_two_writers_with_one_title_both_insert(postgres_url: str) -> None:
    """Both read the slug free, then both insert: the second takes ``-2``, with its area."""
    with session_scope(postgres_url) as session:
        area_id = upsert_area(session, area_id=None, name="Billing")[0].id
    both_looked = threading.Barrier(2, timeout=30)

    def write(request_id: str) -> str:
        with session_scope(postgres_url, write=True) as session:
            build = _builder(session, request_id, "Multi-currency deals", area_id)
            first = True

            def build_after_both_looked(slug: str) -> FeatureRequest:
                nonlocal first
                if first:  # each has chosen its slug before either inserts: the race
                    first = False
                    both_looked.wait()
                return build(slug)

            row = slugs.add_with_free_slug(
                session=session, title="Multi-currency deals", build=build_after_both_looked
            )
            return row.slug

    with ThreadPoolExecutor(2) as pool:
        got = sorted(pool.map(write, ["fr_a", "fr_b"]))
    assert got == ["multi-currency-deals", "multi-currency-deals-2"]
    with session_scope(postgres_url) as session:
        rows = session.scalars(select(FeatureRequest).order_by(FeatureRequest.slug)).all()
        assert [r.slug for r in rows] == got
        assert [[a.id for a in r.areas] for r in rows] == [[area_id], [area_id]]


def test_a_clash_that_is_not_the_slug_is_raised(db_url: str) -> None:
    """A request id another writer stored is not retried under another slug: it is an error."""
    with session_scope(db_url) as session:
        taken = f.request(session, "dark-mode")
        taken_id, area_id = taken.id, taken.areas[0].id
    with pytest.raises(IntegrityError):
        _insert(db_url, taken_id, "Light mode", area_id)
    with session_scope(db_url) as session:
        assert session.scalars(select(FeatureRequest.slug)).all() == ["dark-mode"]
