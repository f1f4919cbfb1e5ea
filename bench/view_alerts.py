"""Saved-view alerts: what an idle server pays to look for work, and how fast a burst routes.

The sample data on a fresh embedded database (or ``--database-url``), ``--history`` routed
changes behind it (what months of feedback leave in ``request_changes``), and ``--views``
saved views with filters of every kind, each with one immediate subscriber. Then:

* the kicker's look for work (``routing.work_mark``, run every ``GTMFB_VIEW_ALERTS_INTERVAL``)
  timed ``--checks`` times with nothing waiting;
* a burst of ``--burst`` new-feedback changes on the sample's requests, routed as the
  view-alerts runs route it (``routing.route``, a batch of ``routing.BATCH`` a call): changes
  and alerts recorded per second.

    python -m bench.view_alerts [--history 200000 --views 20 --burst 5000 --checks 200]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, text, update

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.migrations import upgrade
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.sample.loader import seed
from gtm_feedback.saved_view import routing, service
from gtm_feedback.saved_view.filters import ViewFilters
from gtm_feedback.saved_view.models import ChangeKind, Frequency, RequestChange, ViewAlert
from gtm_feedback.user import audit
from gtm_feedback.user import service as users

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _views(url: str, count: int) -> None:
    with session_scope(url, write=True) as session:
        slugs = list(session.scalars(select(ProductArea.slug).order_by(ProductArea.slug)))
        owner = users.get_or_create(session=session, email="bench@views.example")
        kinds: Iterator[dict[str, object]] = itertools.cycle(
            [
                {"area": None},
                {"status": RequestStatus.OPEN},
                {"severity": Severity.HIGH},
                {"enterprise": True},
                {"q": "export"},
            ]
        )
        for n, extra in zip(range(count), kinds, strict=False):
            area = slugs[n % len(slugs)] if "area" in extra else ""
            given = {key: value for key, value in extra.items() if key != "area"}
            filters = ViewFilters.model_validate({"area": area, **given})
            view = service.create_view(
                session=session,
                owner_id=owner.id,
                name=f"view {n}",
                filters=filters,
                actor=audit.SYSTEM,
            )
            service.subscribe(
                session=session,
                view=view,
                user_id=owner.id,
                channel="",
                on_feedback=True,
                on_status=True,
                frequency=Frequency.IMMEDIATE,
            )


def _changes(url: str, count: int, routed: bool) -> None:
    with session_scope(url, write=True) as session:
        pairs = session.execute(select(Feedback.request_id, Feedback.id)).all()
        at = NOW if routed else datetime.now(UTC)
        rows = [
            {
                "request_id": request_id,
                "kind": ChangeKind.FEEDBACK,
                "feedback_id": feedback_id,
                "routed": routed,
                "at": at,
            }
            for (request_id, feedback_id), _ in zip(
                itertools.cycle(pairs), range(count), strict=False
            )
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(RequestChange), rows[start : start + 10_000])


def _analyze(url: str) -> None:
    # What autovacuum does after a bulk load: the planner's figures for the new rows.
    with session_scope(url, write=True) as session:
        session.execute(text("ANALYZE"))


def main(argv: Sequence[str] | None = None) -> None:
    """Build the data, time the look for work and the routing of a burst, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.view_alerts", description=__doc__)
    parser.add_argument("--history", type=int, default=200_000)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--burst", type=int, default=5_000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-views-"))
    settings = Settings(data_dir=folder, database_url=args.database_url)
    url = settings.app_database_url
    upgrade(url)
    seed(url, folder, seed_value=7, now=NOW)
    with session_scope(url, write=True) as session:  # the sample's own feedback: long routed
        session.execute(update(RequestChange).values(routed=True, at=NOW))
    _changes(url, args.history, routed=True)
    _views(url, args.views)
    _analyze(url)

    looks: list[float] = []
    for _ in range(args.checks):
        started = time.perf_counter()
        with session_scope(url) as session:
            assert routing.work_mark(session) is None
        looks.append((time.perf_counter() - started) * 1000)

    _changes(url, args.burst, routed=False)
    _analyze(url)
    started, calls = time.perf_counter(), 0
    while True:
        with session_scope(url, write=True) as session:
            if routing.work_mark(session) is None:
                break
            routing.route(session, "http://bench")
            session.execute(update(ViewAlert).values(sent_at=NOW))  # as if sent
        calls += 1
    took = time.perf_counter() - started
    with session_scope(url) as session:
        alerts = session.scalar(select(func.count()).select_from(ViewAlert)) or 0

    print(
        f"# view alerts — {datetime.now(UTC):%Y-%m-%d %H:%M}, {platform.node()}, "
        f"{settings.app_database_url.split(':')[0]}, {args.history:,} routed changes behind, "
        f"{args.views} views with an immediate subscriber each"
    )
    p95 = statistics.quantiles(looks, n=20)[-1]
    print("\n| look for work, nothing waiting (ms) | p50 | p95 | n |\n|---|---:|---:|---:|")
    print(f"| `routing.work_mark` | {statistics.median(looks):.2f} | {p95:.2f} | {len(looks)} |")
    print(f"\n| burst of {args.burst:,} new-feedback changes | figure |\n|---|---:|")
    print(f"| routed in | {took:.1f} s ({calls} batches of {routing.BATCH}) |")
    print(f"| changes routed per second | {args.burst / took:,.0f} |")
    print(f"| alerts recorded | {alerts:,} ({alerts / took:,.0f} per second) |")


if __name__ == "__main__":
    main()
