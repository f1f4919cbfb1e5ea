"""Report figures against hand-computed values, the section rules, and slug validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feedback.models import Severity
from gtm_feedback.insight import agents as insights
from gtm_feedback.insight import report as reports
from gtm_feedback.insight.agents import InsightsText, ThemeName
from gtm_feedback.insight.figures import AreaFigures, area_figures
from gtm_feedback.insight.schemas import Item, ItemList, Report
from gtm_feedback.product_area.service import get_by_slug, upsert_area
from tests.factories import account, feedback, request

HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW


def _security(session: Session) -> AreaFigures:
    """The fixture whose figures are computed by hand in the test below."""
    a = account(session, "A", "400000", enterprise=True)
    b = account(session, "B", "250000", enterprise=True)
    c = account(session, "C", "90000")
    d = account(session, "D", "10000", enterprise=True)
    a.region, b.region, c.region = "NA", "EMEA", "EMEA"
    sso = request(session, "sso", area="Security")
    audit = request(session, "audit", area="Security")
    request(session, "empty", area="Security")
    scim = request(session, "scim", area="Security", status=RequestStatus.SHIPPED)
    request(session, "legacy", area="Security", status=RequestStatus.DEPRIORITIZED)
    for acct, severity in ((a, HIGH), (a, HIGH), (b, HIGH), (c, HIGH), (d, LOW)):
        feedback(session, sso, acct, severity)
    feedback(session, audit, b, MEDIUM)
    feedback(session, audit, c, HIGH)
    feedback(session, scim, a, HIGH)  # shipped: not in the open figures
    area = get_by_slug(session=session, slug="security")
    assert area is not None
    return area_figures(session, area)


def test_figures_match_the_hand_computed_values(session: Session) -> None:
    f = _security(session)
    by_slug = {r.slug: r for r in f.requests}
    # ARR counts account A once although it left two items on sso.
    assert by_slug["sso"].arr == Decimal("750000.00")
    assert (by_slug["sso"].accounts, by_slug["sso"].feedback) == (4, 5)
    # Dealbreakers: enterprise AND high only (C is high but not enterprise; D is low).
    assert by_slug["sso"].dealbreaker_arr == Decimal("650000.00")
    assert by_slug["sso"].dealbreaker_accounts == 2
    assert by_slug["audit"].arr == Decimal("340000")
    assert by_slug["audit"].dealbreaker_arr == 0
    assert by_slug["empty"].arr == 0
    assert by_slug["empty"].feedback == 0
    assert [r.slug for r in f.requests] == ["sso", "audit", "empty"]
    # Area totals count each account once across requests; the shipped request is left out.
    assert (f.asking_arr, f.asking_accounts) == (Decimal("750000.00"), 4)
    assert (f.dealbreaker_arr, f.dealbreaker_accounts) == (Decimal("650000.00"), 2)
    assert f.severity == {"low": 1, "medium": 1, "high": 5}
    segments = {s.label: (s.arr, s.accounts, s.high_severity) for s in f.segments}
    assert segments == {"Enterprise": (Decimal("660000"), 3, 3), "Commercial": (90000, 1, 2)}
    regions = {s.label: (s.arr, s.accounts, s.high_severity) for s in f.regions}
    assert regions == {
        "NA": (Decimal("400000"), 1, 2),
        "EMEA": (Decimal("340000"), 2, 3),
        "Unknown": (Decimal("10000"), 1, 0),
    }
    assert (f.open, f.shipped, f.deprioritized, f.ship_rate) == (3, 1, 1, 25)


def _offline_report(f: AreaFigures) -> Report:
    brief = reports.brief(f, [])
    built, dropped = reports.build(f, [], insights.offline(brief, None))  # type: ignore[arg-type]
    assert dropped == []
    return built


def test_sections_ordered_by_importance_with_the_product_rules(session: Session) -> None:
    report = _offline_report(_security(session))
    order = [(s.kind, s.importance) for s in report.sections]
    # $650k of dealbreaker ARR is over $500k: critical; a 25 % ship rate is a warning.
    assert order == [("dealbreakers", "critical"), ("execution", "warning"), ("segments", "info")]
    deal = report.sections[0]
    top = next(v for v in deal.visuals if isinstance(v, ItemList))
    assert [(i.slug, i.value) for i in top.items] == [("sso", 650000.0)]
    assert "$650k" in deal.summary
    assert [(m.label, m.value) for m in report.headline] == [
        ("Open requests", 3),
        ("ARR asking", 750000.0),
        ("Accounts asking", 4),
        ("Dealbreaker ARR", 650000.0),
        ("Open pipeline", 0.0),  # the fixture's feedback names no deal
        ("Blocked pipeline", 0.0),
        ("Ship rate", 25),
    ]
    # Requests without feedback are not "top requests".
    assert [i.slug for i in report.top_requests.items] == ["sso", "audit"]


@pytest.mark.parametrize(
    ("statuses", "rate", "importance"),
    [
        ([RequestStatus.SHIPPED, RequestStatus.SHIPPED], 100, "info"),  # 0 open
        ([RequestStatus.OPEN] * 3, 0, "warning"),  # 0 shipped
        ([RequestStatus.DEPRIORITIZED] * 2, 0, "info"),  # all deprioritized: nothing to ship
        ([RequestStatus.OPEN, RequestStatus.OPEN, RequestStatus.SHIPPED], 33, "info"),
    ],
)
def test_ship_rate_edge_cases(
    session: Session, statuses: list[RequestStatus], rate: int, importance: str
) -> None:
    for n, status in enumerate(statuses):
        request(session, f"r{n}", area="Edge", status=status)
    area = get_by_slug(session=session, slug="edge")
    assert area is not None
    f = area_figures(session, area)
    assert f.ship_rate == rate
    report = _offline_report(f)
    # No feedback at all: no dealbreakers, no segments; execution alone.
    assert [(s.kind, s.importance) for s in report.sections] == [("execution", importance)]


def test_an_area_with_no_requests_has_an_empty_report(session: Session) -> None:
    area, _ = upsert_area(session, area_id=None, name="Brand New")
    f = area_figures(session, area)
    assert (f.open, f.asking_accounts, f.requests) == (0, 0, [])
    report = _offline_report(f)
    assert report.sections == []
    assert report.top_requests.items == []
    assert {m.label: m.value for m in report.headline}["Ship rate"] == 0


def test_dealbreakers_of_exactly_500k_are_a_warning(session: Session) -> None:
    big = account(session, "E", "500000", enterprise=True)
    feedback(session, request(session, "sso", area="Edge"), big, HIGH)
    area = get_by_slug(session=session, slug="edge")
    assert area is not None
    report = _offline_report(area_figures(session, area))
    assert (report.sections[0].kind, report.sections[0].importance) == ("dealbreakers", "warning")


def test_invented_slugs_are_dropped(session: Session) -> None:
    f = _security(session)
    theme = reports.Theme(group=0, requests=[f.requests[0], f.requests[1]])
    text = InsightsText(
        summaries=dict.fromkeys(("dealbreakers", "segments", "themes", "execution"), "Words."),
        themes=[ThemeName(group=0, name="Identity", examples=["made-up", "audit"])],
    )
    report, invented = reports.build(f, [theme], text)
    assert invented == ["made-up"]
    examples = next(
        v for s in report.sections if s.kind == "themes" for v in s.visuals if v.kind == "list"
    )
    assert [i.slug for i in examples.items] == ["audit"]
    # At store time every slug is checked against the database as well.
    ghost = report.top_requests.model_copy(
        update={"items": [*report.top_requests.items, Item(slug="ghost", title="Ghost", value=1)]}
    )
    clean, dropped = reports.drop_unknown(
        report.model_copy(update={"top_requests": ghost}), {"sso", "audit", "empty"}
    )
    assert dropped == ["ghost"]
    assert "ghost" not in clean.slugs()


def test_a_report_refuses_more_than_four_sections_or_a_wrong_order(session: Session) -> None:
    report = _offline_report(_security(session))
    data = report.model_dump()
    with pytest.raises(ValueError, match="ordered by importance"):
        Report.model_validate({**data, "sections": list(reversed(data["sections"]))})
    with pytest.raises(ValueError, match="once"):
        Report.model_validate({**data, "sections": [data["sections"][0]] * 2})
    with pytest.raises(ValueError, match="at most 4"):
        Report.model_validate({**data, "sections": [data["sections"][0]] * 5})
