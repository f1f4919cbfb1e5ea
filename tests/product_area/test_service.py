"""Areas: slugs, channels, uniqueness, ship rate."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.product_area import service
from gtm_feedback.text.slug import slugify
from tests import factories as f


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("API & Developer Tools", "api-developer-tools"),
        ("  Billing / Usage  ", "billing-usage"),
        ("Sécurité & Conformité", "securite-conformite"),
        ("🚀", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize("value", ["api", "firehose-api", "#firehose-api", " #API "])
def test_channel_forms_all_mean_the_same_channel(value: str) -> None:
    assert service.normalise_channel(value) == "#firehose-api"


@pytest.mark.parametrize("value", [None, "", "  ", "#"])
def test_blank_channel_is_none(value: str | None) -> None:
    assert service.normalise_channel(value) is None


@pytest.mark.parametrize(
    ("open_", "shipped", "rate"),
    [(0, 0, 0), (3, 0, 0), (0, 4, 100), (1, 1, 50), (7, 1, 13), (2, 1, 33), (1, 2, 67)],
)
def test_ship_rate(open_: int, shipped: int, rate: int) -> None:
    assert service.ship_rate(open_, shipped) == rate


def test_area_ship_rate_excludes_deprioritized(session: Session) -> None:
    for n, status in enumerate(["open", "shipped", "deprioritized", "deprioritized", "open"]):
        f.request(session, f"req-{n}", area="Mobile", status=RequestStatus(status))
    area = service.get_by_slug(session=session, slug="mobile")
    assert area is not None
    counts = service.status_counts(session=session, area_id=area.id)
    assert (counts.open, counts.shipped, counts.deprioritized) == (2, 1, 2)
    assert counts.ship_rate == 33
    assert service.status_counts_by_area(session=session)[area.id] == counts


def test_all_deprioritized_area_has_zero_ship_rate(session: Session) -> None:
    f.request(session, "gone", area="Legacy", status=RequestStatus.DEPRIORITIZED)
    area = service.get_by_slug(session=session, slug="legacy")
    assert area is not None
    assert service.status_counts(session=session, area_id=area.id).ship_rate == 0


def test_duplicate_area_name_or_slug_is_refused(session: Session) -> None:
    area, created = service.upsert_area(
        session, area_id=None, name="API & Developer Tools", firehose_channel="api"
    )
    assert created
    assert (area.slug, area.firehose_channel) == ("api-developer-tools", "#firehose-api")
    with pytest.raises(service.AreaError, match="already exists"):
        service.upsert_area(session, area_id=None, name="api & developer tools")
    with pytest.raises(service.AreaError, match="already exists"):
        service.upsert_area(session, area_id=None, name="API Developer Tools")
    same, created_again = service.upsert_area(
        session, area_id=area.id, name="API & Developer Tools", description="Edited"
    )
    assert (same.id, created_again, same.description) == (area.id, False, "Edited")


@pytest.mark.parametrize(("name", "description"), [("", ""), ("x" * 101, ""), ("ok", "d" * 501)])
def test_area_limits(session: Session, name: str, description: str) -> None:
    with pytest.raises(service.AreaError):
        service.upsert_area(session, area_id=None, name=name, description=description)
