"""Area insights at scale: 50 areas × 200 requests × 2,000 feedback items (per area).

``python -m bench.insights [--areas 50] [--requests 200] [--feedback 2000] [--repeats 3]``

One fresh embedded database (SQLite, WAL; DBOS in its own file, the default layout). The
whole insights workflow runs with its fan-out limited to 1 child at a time (sequential) and
to the configured limit, alternately, so each pair shares the machine's state. Then again
with an LLM: a loopback OpenAI-compatible server that answers after a fixed delay (the
latency of a hosted model), where the fan-out overlaps the waits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID
from sqlalchemy import insert

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.db.vectors import to_bytes
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus, request_areas
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.insight import agents as insights
from gtm_feedback.insight.agents import InsightsBrief
from gtm_feedback.insight.schemas import AreaInsightsInput, AreaInsightsResult
from gtm_feedback.insight.workflows import area_insights_workflow
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.logging import configure_logging
from gtm_feedback.migrations import upgrade
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.runtime import dbos_runtime

_OBJECTS = """SAML single sign-on|SCIM user provisioning|audit log export|role-based permissions|
webhook retries|API rate limits|sandbox environments|usage-based billing|invoice exports|
dashboard sharing|scheduled reports|custom metrics|Salesforce sync|HubSpot sync|Slack alerts|
mobile offline mode|push notifications|data residency|encryption keys|IP allowlisting|
bulk CSV import|workflow automation rules|approval chains|custom fields|two-factor login"""
_QUALIFIERS = """for admins|for contractors|in the mobile app|for enterprise workspaces|with an API|
per team|with alerts|for partners|across regions|with a full history"""
# 25 topics × 10 variants: titles on one topic are alike, so areas have real themes.
OBJECTS = [part.strip() for part in _OBJECTS.split("|")]
QUALIFIERS = [part.strip() for part in _QUALIFIERS.split("|")]
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
START = datetime(2026, 1, 1, tzinfo=UTC)


def build_data(url: str, settings: Settings, areas: int, requests: int, feedback: int) -> None:
    """Accounts, areas, requests (with stored vectors) and feedback, in bulk."""
    rng = random.Random(7)
    embedder = get_embedder(settings)
    texts = [f"{o} {q}" for o in OBJECTS for q in QUALIFIERS]
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    with session_scope(url) as session:
        accounts = _accounts(rng, 3000)
        session.execute(insert(Account), accounts)
        for a in range(areas):
            area = ProductArea(name=f"Area {a:02d}", slug=f"area-{a:02d}")
            session.add(area)
            session.flush()
            ids = _requests(session, rng, area.id, a, requests, texts, vectors, embedder.model_id)
            rows = [_feedback(rng, ids, accounts, n) for n in range(feedback)]
            session.execute(insert(Feedback), rows)


def _accounts(rng: random.Random, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"acct-{n:05d}",
            "name": f"Account {n}",
            "region": rng.choice(REGIONS),
            "arr": Decimal(round(10 ** rng.uniform(3.7, 6.3), 2)).quantize(Decimal("0.01")),
            "is_enterprise": rng.random() < 0.15,
        }
        for n in range(count)
    ]


def _requests(
    session: Any,
    rng: random.Random,
    area_id: str,
    a: int,
    count: int,
    texts: list[str],
    vectors: dict[str, Any],
    model_id: str,
) -> list[str]:
    statuses = [RequestStatus.OPEN] * 80 + [RequestStatus.SHIPPED] * 12
    statuses += [RequestStatus.DEPRIORITIZED] * 8
    rows = []
    for r in range(count):
        title = rng.choice(texts)
        rows.append(
            {
                "id": f"fr-{a:02d}-{r:04d}",
                "slug": f"area-{a:02d}-request-{r:04d}",
                "title": title,
                "status": rng.choice(statuses),
                "embedding": to_bytes(vectors[title]),
                "embedding_model": model_id,
            }
        )
    session.execute(insert(FeatureRequest), rows)
    links = [{"request_id": row["id"], "area_id": area_id} for row in rows]
    session.execute(insert(request_areas), links)
    return [str(row["id"]) for row in rows]


def _feedback(
    rng: random.Random, request_ids: list[str], accounts: list[dict[str, Any]], n: int
) -> dict[str, Any]:
    # A few requests draw most of the feedback, as in real backlogs.
    request_id = request_ids[min(int(rng.paretovariate(1.2)) - 1, len(request_ids) - 1)]
    return {
        "request_id": request_id if rng.random() < 0.5 else rng.choice(request_ids),
        "account_id": rng.choice(accounts)["id"],
        "severity": rng.choices(list(Severity), weights=(4, 4, 2))[0],
        "description": f"Customer pain number {n}",
        "created_at": START + timedelta(minutes=n),
    }


@contextmanager
def slow_llm(delay: float) -> Iterator[str]:
    """A loopback OpenAI-compatible server answering every insights brief after ``delay`` s."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            brief = InsightsBrief.model_validate_json(body["messages"][-1]["content"])
            time.sleep(delay)
            text = insights.offline(brief, None).model_dump_json()  # type: ignore[arg-type]
            message = {"role": "assistant", "content": text}
            answer = {
                "id": "1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def one_run(concurrency: int) -> tuple[float, AreaInsightsResult]:
    """Seconds for a whole area-insights run, and its result."""
    started = time.perf_counter()
    with SetWorkflowID(f"bench-insights-{concurrency}-{time.monotonic_ns()}"):
        handle = DBOS.start_workflow(
            area_insights_workflow, AreaInsightsInput(concurrency=concurrency)
        )
    result = handle.get_result()
    assert result.failed == 0, result
    return time.perf_counter() - started, result


def compare(settings: Settings, limit: int, repeats: int, label: str) -> None:
    """Sequential against fanned-out runs, alternately; prints medians and the speed-up."""
    times: dict[int, list[float]] = {1: [], limit: []}
    areas_ms: list[float] = []
    themed = 0
    with dbos_runtime(settings, "cli"):
        for _ in range(repeats):
            for concurrency in (1, limit):
                seconds, result = one_run(concurrency)
                times[concurrency].append(seconds)
                areas_ms += [o.duration_ms for o in result.areas]
                themed = sum("themes" in o.sections for o in result.areas)
    sequential, fanned = statistics.median(times[1]), statistics.median(times[limit])
    print(
        f"{label}: sequential {sequential:.2f} s, fan-out ({limit} at once) {fanned:.2f} s "
        f"(medians of {repeats}); speed-up {sequential / fanned:.2f}x; one area's own work "
        f"median {statistics.median(areas_ms):.0f} ms, max {max(areas_ms):.0f} ms; "
        f"{themed} of {len(result.areas)} reports have themes"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Build the data, then print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.insights")
    parser.add_argument("--areas", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--feedback", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--llm-delay", type=float, default=0.5)
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")
    folder = Path(tempfile.mkdtemp(prefix="gtmfb-bench-insights-"))
    settings = Settings(data_dir=folder, log_level="WARNING")
    upgrade(settings.app_database_url)
    built = time.perf_counter()
    build_data(settings.app_database_url, settings, args.areas, args.requests, args.feedback)
    print(
        f"# insights benchmark — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, SQLite (WAL); {args.areas} areas × {args.requests} requests × "
        f"{args.feedback} feedback (built in {time.perf_counter() - built:.0f} s)"
    )
    limit = settings.insights_concurrency
    compare(settings, limit, args.repeats, "offline agent")
    with slow_llm(args.llm_delay) as base_url:
        llm = settings.model_copy(update={"llm_base_url": base_url})
        compare(llm, limit, 1, f"LLM answering in {args.llm_delay:.1f} s")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
