"""Derived figures and the requests list, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from gtm_feedback.feature_request import service
from gtm_feedback.feature_request import slugs as request_slugs
from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feature_request.service import RequestQuery, RequestSort
from gtm_feedback.feedback.models import Severity
from tests import factories as f


def test_request_arr_counts_each_account_once(session: Session) -> None:
    big = f.account(session, "A1", "1000000.10", enterprise=True)
    small = f.account(session, "A2", "25000.25")
    req = f.request(session, "sso")
    f.feedback(session, req, big, Severity.LOW)
    f.feedback(session, req, big, Severity.HIGH)  # same account again: not counted twice
    f.feedback(session, req, small, Severity.MEDIUM)

    assert service.request_arr(session=session, request_id=req.id) == Decimal("1025000.35")
    figures = service.figures(session=session, request_id=req.id)
    assert (figures.account_count, figures.feedback_count) == (2, 3)
    assert figures.highest_severity is Severity.HIGH


def test_dealbreaker_arr_is_enterprise_high_severity_only(session: Session) -> None:
    ent = f.account(session, "E1", "800000", enterprise=True)
    ent_low = f.account(session, "E2", "600000", enterprise=True)
    smb_high = f.account(session, "S1", "40000")
    req = f.request(session, "audit-log")
    f.feedback(session, req, ent, Severity.HIGH)
    f.feedback(session, req, ent, Severity.HIGH)
    f.feedback(session, req, ent_low, Severity.MEDIUM)
    f.feedback(session, req, smb_high, Severity.HIGH)

    assert service.dealbreaker_arr(session=session, request_id=req.id) == Decimal("800000.00")
    assert service.request_arr(session=session, request_id=req.id) == Decimal("1440000.00")


def test_request_without_feedback_has_zero_figures(session: Session) -> None:
    req = f.request(session, "lonely")
    figures = service.figures(session=session, request_id=req.id)
    assert figures.arr == Decimal("0.00")
    assert figures.dealbreaker_arr == Decimal("0.00")
    assert (figures.feedback_count, figures.highest_severity) == (0, None)


def test_list_sorts_filters_and_pages(session: Session) -> None:
    a, b, c = (f.account(session, k, arr) for k, arr in [("A", "100"), ("B", "300"), ("C", "50")])
    cheap = f.request(session, "cheap", area="Mobile")
    rich = f.request(session, "rich", area="Billing")
    busy = f.request(session, "busy", area="Mobile", status=RequestStatus.SHIPPED)
    f.feedback(session, cheap, c, Severity.LOW, days=9)
    f.feedback(session, rich, b, Severity.LOW, days=1)
    for acct in (a, c, a):
        f.feedback(session, busy, acct, Severity.LOW, days=2)

    def slugs(**kwargs: object) -> list[str]:
        rows, _ = service.list_requests(session=session, query=RequestQuery(**kwargs))  # type: ignore[arg-type]
        return [row.request.slug for row in rows]

    assert slugs(sort=RequestSort.ARR) == ["rich", "busy", "cheap"]
    assert slugs(sort=RequestSort.FEEDBACK) == ["busy", "rich", "cheap"]  # tie: ARR decides
    assert slugs(sort=RequestSort.RECENT) == ["cheap", "busy", "rich"]
    assert slugs(area_slug="mobile") == ["busy", "cheap"]
    assert slugs(status=RequestStatus.SHIPPED) == ["busy"]
    rows, total = service.list_requests(session=session, query=RequestQuery(limit=1, offset=1))
    assert total == 3
    assert [r.request.slug for r in rows] == ["busy"]
    assert [area.slug for area in rows[0].areas] == ["mobile"]


def test_free_slug_adds_a_number_when_taken(session: Session) -> None:
    f.request(session, "dark-mode")
    assert request_slugs.free_slug(session=session, title="Dark mode!") == "dark-mode-2"
    taken = service.resolve(session=session, id_or_slug="dark-mode")
    assert taken is not None
    assert (
        request_slugs.free_slug(session=session, title="Dark mode", own_id=taken.id) == "dark-mode"
    )


def test_follow_is_idempotent(session: Session) -> None:
    from gtm_feedback.user.service import get_or_create

    req = f.request(session, "webhooks")
    user = get_or_create(session=session, email="Ana.Lima@Example.com")
    assert user.email == "ana.lima@example.com"
    assert user.name == "Ana Lima"
    assert service.follow(session=session, request_id=req.id, user_id=user.id) is True
    assert service.follow(session=session, request_id=req.id, user_id=user.id) is False
    session.expire_all()
    found = service.get_by_slug(session=session, slug="webhooks")
    assert found is not None
    assert [u.email for u in found.followers] == ["ana.lima@example.com"]


def test_set_areas_refuses_unknown_ids(session: Session) -> None:
    req = f.request(session, "x-request")
    with pytest.raises(ValueError, match="unknown product area"):
        service.set_areas(session=session, request=req, area_ids=["area_missing"])
