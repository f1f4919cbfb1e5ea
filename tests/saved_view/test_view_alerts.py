"""Saved views with alerts, on both databases: views saved from the requests list's filters,
subscriptions, and alerts of new feedback and status changes sent once per item, at once
(started by the real kicker) or in a daily digest, through a retried send too."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus, request_areas
from gtm_feedback.importing.reader import read_csv_bytes
from gtm_feedback.importing.service import import_rows
from gtm_feedback.main import create_app
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.saved_view import routing
from gtm_feedback.saved_view.models import ChangeKind, RequestChange, SavedView, ViewAlert
from gtm_feedback.saved_view.routing import PendingAlert
from gtm_feedback.user.models import Role
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_on


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp(f"views-{request.param}")
    # The kicker looks for work twice a second: the alerts test waits for what it starts.
    return seeded_on(request, folder, port=8166, view_alerts_interval=0.5, view_digest_cron="off")


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _area_requests(settings: Settings) -> tuple[str, list[FeatureRequest], str]:
    """An area with at least two open requests, those requests, and another area's slug."""
    with session_scope(settings.app_database_url) as session:
        for area in session.scalars(select(ProductArea).order_by(ProductArea.slug)):
            found = list(
                session.scalars(
                    select(FeatureRequest)
                    .join(request_areas, request_areas.c.request_id == FeatureRequest.id)
                    .where(request_areas.c.area_id == area.id)
                    .where(FeatureRequest.status == RequestStatus.OPEN)
                    .where(FeatureRequest.merged_into_id.is_(None))
                    .order_by(FeatureRequest.id)
                )
            )
            if len(found) >= 2:
                other = session.scalar(select(ProductArea.slug).where(ProductArea.id != area.id))
                session.expunge_all()
                return area.slug, found[:2], str(other)
    raise AssertionError("the sample has an area with two open requests")


def _until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _messages(settings: Settings, kind: str) -> list[OutboxMessage]:
    with session_scope(settings.app_database_url) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        found = list(rows)
        session.expunge_all()
        return found


def _alerts(settings: Settings, subscription_id: str) -> list[ViewAlert]:
    with session_scope(settings.app_database_url) as session:
        found = list(
            session.scalars(select(ViewAlert).where(ViewAlert.subscription_id == subscription_id))
        )
        session.expunge_all()
        return found


def test_views_are_saved_checked_and_owned(client: TestClient, settings: Settings) -> None:
    area, _, _ = _area_requests(settings)
    body = {"name": "Enterprise pain", "filters": {"area": area, "enterprise": True}}
    made = client.post("/api/views", json=body)
    assert made.status_code == 201, made.text
    view = made.json()
    assert view["url"] == f"/requests?area={area}&enterprise=true"
    assert client.post("/api/views", json=body | {"name": "enterprise PAIN"}).status_code == 409
    unknown = client.post("/api/views", json={"name": "x", "filters": {"area": "nowhere"}})
    assert unknown.status_code == 422
    assert "no product area" in unknown.text
    bad = client.post("/api/views", json={"name": "x", "filters": {"status": "lost"}})
    assert bad.status_code == 422
    channel = {"channel": "not a channel!"}
    assert client.put(f"/api/views/{view['id']}/subscription", json=channel).status_code == 422
    listed = client.get("/api/views").json()
    assert [v["name"] for v in listed["items"]] == ["Enterprise pain"]
    # A viewer may keep views and alerts of their own, not post to a channel or delete others'.
    viewer = bearer(settings.app_database_url, Role.viewer)
    to_channel = {"channel": "#gtm-alerts"}
    put = client.put(f"/api/views/{view['id']}/subscription", json=to_channel, headers=viewer)
    assert put.status_code == 403
    mine = client.put(f"/api/views/{view['id']}/subscription", json={}, headers=viewer)
    assert mine.status_code == 200, mine.text
    assert client.delete(f"/api/views/{view['id']}", headers=viewer).status_code == 403
    assert client.delete(f"/api/views/{view['id']}").status_code == 204
    assert client.get(f"/api/views/{view['id']}").status_code == 404
    # The page saves the list's filters and shows the view.
    saved = client.post("/views", data={"name": "Open here", "area": area, "status": "open"})
    assert saved.status_code == 200
    assert "Saved “Open here”" in saved.text
    assert f"/requests?area={area}&amp;status=open" in saved.text
    page_id = next(v["id"] for v in client.get("/api/views").json()["items"])
    assert client.delete(f"/api/views/{page_id}").status_code == 204


def _import_feedback(settings: Settings, request_id: str, account_id: str, text: str) -> None:
    header, rows = read_csv_bytes(
        f"id,request_id,account_id,severity,description\n"
        f"fb_view_{request_id},{request_id},{account_id},high,{text}\n".encode()
    )
    report = import_rows(settings.app_database_url, "feedback", header, rows)
    assert not report.errors, report.errors


def test_changes_in_a_view_alert_each_subscriber_once(
    client: TestClient, settings: Settings
) -> None:
    area, (first, second), other = _area_requests(settings)
    view = client.post(
        "/api/views", json={"name": "Open in area", "filters": {"area": area, "status": "open"}}
    ).json()
    elsewhere = client.post("/api/views", json={"name": "Elsewhere", "filters": {"area": other}})
    now = client.put(f"/api/views/{view['id']}/subscription", json={}).json()
    member = bearer(settings.app_database_url, Role.member)
    daily_body = {"frequency": "daily", "channel": "#gtm-alerts"}
    daily = client.put(f"/api/views/{view['id']}/subscription", json=daily_body, headers=member)
    assert daily.status_code == 200, daily.text
    away = client.put(f"/api/views/{elsewhere.json()['id']}/subscription", json={}).json()

    account = client.get("/api/accounts", params={"limit": 1}).json()["items"][0]["id"]
    _import_feedback(settings, first.id, account, "Quarterly exports time out")
    changed = client.patch(f"/api/requests/{second.slug}", json={"status": "deprioritized"})
    assert changed.status_code == 200, changed.text

    # The kicker starts a run; both items reach the immediate subscriber, in one message each
    # item appears once.
    sent = _until(
        lambda: (
            len(_alerts(settings, now["id"])) == 2
            and all(a.sent_at for a in _alerts(settings, now["id"]))
        ),
        "both immediate alerts sent",
    )
    assert sent
    texts = " ".join(m.text for m in _messages(settings, "view_alert"))
    assert texts.count("Quarterly exports time out") == 1
    assert texts.count("is now deprioritized (was open)") == 1
    assert _alerts(settings, away["id"]) == []  # another area's view hears nothing

    # A send retried after it went out but before it was recorded does not go out again: the
    # alerts one run sent are marked unsent, and the run is forked from its first send step,
    # replaying its recorded list of what was due.
    runs = DBOS.list_workflows(name="view_alerts_workflow", status="SUCCESS")
    run = next(r for r in runs if r.output and r.output.sent)
    steps = DBOS.list_workflow_steps(run.workflow_id)
    due: list[PendingAlert] = next(
        s["output"] or [] for s in steps if s["function_name"].endswith("due_step")
    )
    ids = [alert.id for alert in due if alert.subscription_id == now["id"]]
    assert ids
    before = len(_messages(settings, "view_alert"))
    with session_scope(settings.app_database_url, write=True) as session:
        session.execute(update(ViewAlert).values(sent_at=None).where(ViewAlert.id.in_(ids)))
    send = next(s["function_id"] for s in steps if s["function_name"].endswith("send_alert_step"))
    forked = DBOS.fork_workflow(run.workflow_id, send)
    assert forked.get_result().sent == 0  # the messenger returned the earlier delivery
    # (The kicker may see them unsent first: its run groups them the same way, same key.)
    _until(lambda: all(a.sent_at for a in _alerts(settings, now["id"])), "marked sent again")
    assert len(_messages(settings, "view_alert")) == before

    # The daily subscriber gets one digest of both, once however often the day's run runs.
    for attempt in range(2):
        started = client.post("/api/workflows/view-digest", json={"day": "2026-12-04"})
        assert started.status_code == 202, started.text
        result = finished(client, started.json()["run_id"], timeout=60)["result"]
        assert result == {"day": "2026-12-04", "digests": 1 - attempt, "items": 2 - 2 * attempt}
    digests = _messages(settings, "view_digest")
    assert len(digests) == 1
    assert digests[0].channel == "#gtm-alerts"
    assert "Quarterly exports time out" in digests[0].text
    assert "is now deprioritized" in digests[0].text


def test_a_burst_longer_than_a_batch_reaches_the_subscriber_once_per_item(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import of 30 items into a view, routed 8 at a time: each run leaves the next its
    own work, and every item reaches the subscriber once, in far fewer than 30 messages."""
    monkeypatch.setattr(routing, "BATCH", 8)
    area, (first, _), _ = _area_requests(settings)
    view = client.post("/api/views", json={"name": "Burst", "filters": {"area": area}}).json()
    sub = client.put(f"/api/views/{view['id']}/subscription", json={"on_status": False}).json()
    before = len(_messages(settings, "view_alert"))
    runs_before = len(DBOS.list_workflows(name="view_alerts_workflow"))
    account = client.get("/api/accounts", params={"limit": 1}).json()["items"][0]["id"]
    lines = "".join(
        f"fb_burst_{n},{first.id},{account},low,Burst item {n:02d} here\n" for n in range(30)
    )
    header, rows = read_csv_bytes(
        f"id,request_id,account_id,severity,description\n{lines}".encode()
    )
    assert not import_rows(settings.app_database_url, "feedback", header, rows).errors
    _until(
        lambda: (
            len(_alerts(settings, sub["id"])) == 30
            and all(a.sent_at for a in _alerts(settings, sub["id"]))
        ),
        "30 alerts routed and sent",
        timeout=120,
    )
    # 30 changes, 8 a run: at least four runs, each started because the oldest moved on.
    assert len(DBOS.list_workflows(name="view_alerts_workflow")) - runs_before >= 4
    # This view's messages (another view of the area, from the test before, hears too).
    sent = [m for m in _messages(settings, "view_alert")[before:] if "|Burst>" in m.text]
    texts = " ".join(m.text for m in sent)
    assert all(texts.count(f"Burst item {n:02d} here") <= 1 for n in range(30))
    assert len(sent) < 30
    # Items past the 20 listed in one message are counted, and the view's link shows them all.
    listed = sum(texts.count(f"Burst item {n:02d} here") for n in range(30))
    more = sum(int(m.text.split("… and ")[1].split()[0]) for m in sent if "… and " in m.text)
    assert listed + more == 30


def test_alerts_runs_take_turns_so_each_item_is_sent_once(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alerts runs started together (three by the API, and the kicker's) run one at a time:
    two at once would read the same unsent alerts, and could send an item under two keys."""
    spans: list[tuple[float, float]] = []
    read_due = routing.due_now

    def slow_due(session: Any) -> list[PendingAlert]:
        began = time.monotonic()
        found = read_due(session)
        time.sleep(0.5)  # a wide window for another run to read the same alerts
        spans.append((began, time.monotonic()))
        return found

    monkeypatch.setattr(routing, "due_now", slow_due)
    area, (first, _), _ = _area_requests(settings)
    view = client.post("/api/views", json={"name": "Turns", "filters": {"area": area}}).json()
    sub = client.put(f"/api/views/{view['id']}/subscription", json={"on_status": False}).json()
    account = client.get("/api/accounts", params={"limit": 1}).json()["items"][0]["id"]
    lines = "".join(f"fb_turns_{n},{first.id},{account},low,Turns item {n}\n" for n in range(3))
    header, rows = read_csv_bytes(
        f"id,request_id,account_id,severity,description\n{lines}".encode()
    )
    assert not import_rows(settings.app_database_url, "feedback", header, rows).errors
    runs = [
        client.post(
            "/api/workflows/view-alerts", json={}, headers={"Idempotency-Key": f"turns-{n}"}
        ).json()["run_id"]
        for n in range(3)
    ]
    assert all(finished(client, run, timeout=120)["status"] == "SUCCESS" for run in runs)
    _until(lambda: all(a.sent_at for a in _alerts(settings, sub["id"])), "the alerts sent")
    assert len(spans) >= len(runs)
    ordered = sorted(spans)
    assert all(later[0] >= earlier[1] for earlier, later in pairwise(ordered))
    texts = " ".join(m.text for m in _messages(settings, "view_alert") if "|Turns>" in m.text)
    assert [texts.count(f"Turns item {n}") for n in range(3)] == [1, 1, 1]


def test_old_changes_are_forgotten_and_an_unreadable_view_is_passed_over(
    client: TestClient, settings: Settings
) -> None:
    url = settings.app_database_url
    area, (first, _), _ = _area_requests(settings)
    view = client.post("/api/views", json={"name": "Odd", "filters": {"area": area}}).json()
    client.put(f"/api/views/{view['id']}/subscription", json={})
    with session_scope(url, write=True) as session:
        # Saved by a version whose sort this one does not know: routing passes it over.
        session.execute(
            update(SavedView).where(SavedView.id == view["id"]).values(filters={"sort": "gone"})
        )
        newest = session.scalar(select(func.max(RequestChange.id)))
        kept = session.scalar(select(func.count()).select_from(RequestChange))
        old = RequestChange(
            request_id=first.id, kind=ChangeKind.STATUS, old_status="open", new_status="open"
        )
        session.add(old)
    with session_scope(url, write=True) as session:
        routing.route(session, "http://example")
        session.execute(
            update(RequestChange)
            .where(RequestChange.id > (newest or 0))
            .values(at=datetime.now(UTC) - routing.KEEP - timedelta(days=1))
        )
        routing.prune(session)
    with session_scope(url) as session:
        left = session.scalar(select(func.count()).where(RequestChange.id > (newest or 0)))
        assert left == 0
        assert session.scalar(select(func.count()).select_from(RequestChange)) == kept
