"""How long each page takes to render on the sample data (server side, through the full app).

``python -m bench.pages [--repeats 30]``: one fresh embedded database with the sample loaded
and embedded, every area's insight report generated, then each page requested ``repeats``
times in turn through the real ASGI app (routing, database, templates); medians and p95.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.runs import percentile
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.logging import configure_logging
from gtm_feedback.main import create_app
from gtm_feedback.migrations import upgrade
from gtm_feedback.sample.loader import seed
from gtm_feedback.user import service as users
from gtm_feedback.user import tokens
from gtm_feedback.user.models import Role


def main(argv: Sequence[str] | None = None) -> None:
    """Print the median and p95 of each page."""
    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")
    folder = Path(tempfile.mkdtemp(prefix="gtmfb-bench-pages-"))
    settings = Settings(data_dir=folder, log_level="WARNING")
    upgrade(settings.app_database_url)
    seed(settings.app_database_url, folder, seed_value=7, now=datetime(2026, 11, 1, tzinfo=UTC))
    print(
        f"# pages benchmark — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, SQLite (WAL), sample data, {args.repeats} requests per page"
    )
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {_admin_token(settings)}"
        started = client.post(
            "/api/workflows/area-insights", json={}, headers={"Idempotency-Key": "bench"}
        )
        run_id = started.json()["run_id"]
        while client.get(f"/api/runs/{run_id}").json()["status"] not in {"SUCCESS", "ERROR"}:
            time.sleep(0.1)
        pages = _pages(settings, run_id)
        timings: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.repeats):
            for name, path in pages.items():
                began = time.perf_counter()
                answer = client.get(path, headers={"Accept": "text/html"})
                timings[name].append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
    for name, values in timings.items():
        print(
            f"{name:22} median {statistics.median(values):6.1f} ms   "
            f"p95 {percentile(values, 0.95):6.1f} ms"
        )


def _admin_token(settings: Settings) -> str:
    """A token of an admin, so every page answers (they all need a signed-in person)."""
    with session_scope(settings.app_database_url, write=True) as session:
        user = users.get_or_create(session=session, email="bench@example.com")
        users.set_role(session=session, user_id=user.id, role=Role.admin)
        return tokens.create(session=session, user=user, name="bench").secret


def _pages(settings: Settings, run_id: str) -> dict[str, str]:
    """Every page, with real ids from the sample."""
    with session_scope(settings.app_database_url) as session:
        item = session.scalars(select(Feedback).limit(1)).one()
        slug, account, eid = item.request.slug, item.account_id, item.id
    return {
        "requests list": "/requests",
        "requests, filtered": "/requests?area=mobile&status=open&sort=feedback&enterprise=true",
        "request": f"/requests/{slug}?eid={eid}",
        "submit form": "/feedback/new",
        "account search": "/accounts/search?account_id=a",
        "areas": "/areas",
        "area report": "/areas/security-compliance",
        "account": f"/accounts/{account}",
        "approvals": "/approvals",
        "outbox": "/outbox",
        "runs": "/runs",
        "run": f"/runs/{run_id}",
        "admin areas": "/admin/areas",
    }


if __name__ == "__main__":
    main()
    sys.stdout.flush()
