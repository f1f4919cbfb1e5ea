"""``/metrics``: the real app with DBOS launched, feedback processed, the text parsed back."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gtm_feedback import metrics
from gtm_feedback.config import Settings
from gtm_feedback.main import create_app
from gtm_feedback.user.models import Role
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = request.getfixturevalue("module_pg_url") if request.param == "postgres" else None
    # A short approval wait: a decision run left waiting keeps its DBOS thread, and with it
    # pytest's process, alive past the last test.
    return seeded_settings(
        tmp_path_factory, "metrics", embed=True, database_url=url, approval_timeout=1.0
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings, Role.viewer) as test_client:
        yield test_client


def scrape(client: TestClient) -> Samples:
    """Every sample of ``/metrics``: (name, sorted labels) -> value."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= set(found))


def _submission(settings: Settings) -> dict[str, Any]:
    with (settings.data_dir / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    keys = ("severity", "account_id", "submitter_email")
    return {"pain": row["text"], **{key: row[key] for key in keys}}


def test_metrics_need_a_token(client: TestClient) -> None:
    anonymous = TestClient(client.app)  # not entered: the app's DBOS stays as it is
    assert anonymous.get("/metrics").status_code == 401


def test_processed_feedback_shows_in_every_family(client: TestClient, settings: Settings) -> None:
    before = scrape(client)
    member = bearer(settings.app_database_url, Role.member)
    accepted = client.post("/api/feedback", json=_submission(settings), headers=member)
    assert accepted.status_code == 202, accepted.text
    assert finished(client, accepted.json()["run_id"], timeout=60)["status"] == "SUCCESS"

    deadline, after = time.monotonic() + 60, before
    # Runs and steps are read from DBOS's tables a few seconds behind: wait for them.
    while time.monotonic() < deadline:
        after = scrape(client)
        if total(after, "gtmfb_runs_finished_total", status="SUCCESS") > 0:
            break
        time.sleep(0.5)
    grew = {
        name: total(after, name) - total(before, name)
        for name in (
            "gtmfb_match_decisions_total",
            "gtmfb_match_confidence_count",
            "gtmfb_runs_finished_total",
            "gtmfb_runs_started_total",
            "gtmfb_step_duration_seconds_count",
        )
    }
    assert grew["gtmfb_match_decisions_total"] == grew["gtmfb_match_confidence_count"] == 1
    assert all(value >= 1 for value in grew.values()), grew
    # Confidence is a probability: every observation falls in the last bucket (1.0).
    assert total(after, "gtmfb_match_confidence_bucket", le="1.0") == total(
        after, "gtmfb_match_confidence_count"
    )


def test_http_latency_is_labelled_by_route_template(client: TestClient) -> None:
    for slug in ("offline-mode-in-the-mobile-app", "no-such-request"):
        client.get(f"/api/requests/{slug}")
    client.get("/no/such/page")
    samples = scrape(client)
    routes = {dict(labels)["route"] for (name, labels) in samples if name.startswith("gtmfb_http")}
    assert "/api/requests/{slug}" in routes
    assert "unmatched" in routes
    assert not any("offline-mode" in route or "no-such" in route for route in routes)
    ok = total(samples, "gtmfb_http_request_duration_seconds_count", route="/api/requests/{slug}")
    assert ok >= 2
    assert total(samples, "gtmfb_http_request_duration_seconds_count", status="4xx") >= 2


def test_database_gauges_cover_every_queue(client: TestClient) -> None:
    samples = scrape(client)
    queues = {dict(labels)["queue"] for (name, labels) in samples if name == "gtmfb_queue_depth"}
    assert {"feedback", "requests", "notifications", "matching"} <= queues
    assert all(value >= 0 for (name, _), value in samples.items() if name.startswith("gtmfb_queue"))
    assert ("gtmfb_approvals_waiting", ()) in samples
    assert samples[("gtmfb_approvals_waiting", ())] >= 0


def test_the_dashboard_and_the_docs_name_only_series_the_code_exports() -> None:
    root = Path(__file__).resolve().parents[2]
    exported = set(
        re.findall(r'"(gtmfb_[a-z_]+)"', (root / "src/gtm_feedback/metrics.py").read_text())
        + re.findall(
            r'"(gtmfb_[a-z_]+)"', (root / "src/gtm_feedback/monitoring/metrics.py").read_text()
        )
    )
    documented = set(re.findall(r"`(gtmfb_[a-z_]+)`", (root / "docs/metrics.md").read_text()))
    dashboard = json.loads((root / "docs/grafana-dashboard.json").read_text())
    queried = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"gtmfb_[a-z_]+", target["expr"])
    }
    series = {re.sub(r"_total$", "", name) for name in documented}
    assert series == exported
    assert queried <= exported, queried - exported


def test_the_processes_of_a_host_add_up_through_the_folder(tmp_path: Path) -> None:
    setup = "import sys; from pathlib import Path; from gtm_feedback import metrics; "
    setup += "metrics.configure(Path(sys.argv[1])); "
    env = {k: v for k, v in os.environ.items() if k != metrics.ENV}
    for confidence in ("0.95", "0.4"):  # two processes, one after the other, one folder
        record = f"metrics.count_match('auto', {confidence})"
        subprocess.run([sys.executable, "-c", setup + record, str(tmp_path)], check=True, env=env)
    read = "from prometheus_client import generate_latest; "
    read += "print(generate_latest(metrics.registry()).decode())"
    shown = subprocess.run(
        [sys.executable, "-c", setup + read, str(tmp_path)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(shown)
        for sample in family.samples
    }
    assert samples[("gtmfb_match_decisions_total", (("tier", "auto"),))] == 2
    assert samples[("gtmfb_match_confidence_bucket", (("le", "0.5"),))] == 1
    assert samples[("gtmfb_match_confidence_count", ())] == 2
