"""Area insights end to end: the real app and DBOS, the sample data, an LLM on loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.insight.models import InsightReport
from gtm_feedback.main import create_app
from gtm_feedback.product_area.service import get_by_slug, upsert_area
from tests.auth import signed_in
from tests.integrations.fake_openai import serve
from tests.runs import finished, seeded_settings

SECURITY = "security-compliance"
RELATED_SSO = (
    "SAML single sign-on for contractor accounts",
    "Single sign-on through SAML for partner portals",
    "SAML SSO login for the mobile app",
)


@dataclass
class InsightsLLM:
    """An OpenAI-compatible fake that words any brief, fails for some areas, invents a slug."""

    failing_areas: set[str]
    base_url: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """A 500 for a failing area; else a valid answer for the brief it was sent."""
        brief = json.loads(body["messages"][-1]["content"])
        self.areas.append(brief["area"])
        if brief["area"] in self.failing_areas:
            return 500, {}, b'{"error": {"message": "model overloaded"}}'
        answer = {
            "summaries": {s["kind"]: f"LLM words on {s['kind']}." for s in brief["sections"]},
            "themes": [
                {"group": t["group"], "name": "Single sign-on", "examples": ["made-up-slug"]}
                for t in brief["themes"]
            ],
        }
        choice = {"index": 0, "message": {"role": "assistant", "content": json.dumps(answer)}}
        payload = {"id": "1", "object": "chat.completion", "created": 0, "model": "m"}
        return (
            200,
            {},
            json.dumps({**payload, "choices": [{**choice, "finish_reason": "stop"}]}).encode(),
        )


@pytest.fixture(scope="module")
def llm() -> Iterator[InsightsLLM]:
    with serve(InsightsLLM(failing_areas={"Mobile"})) as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, llm: InsightsLLM) -> Settings:
    found = seeded_settings(
        tmp_path_factory, "insights", port=8131, llm_base_url=llm.base_url, llm_max_retries=0
    )
    with session_scope(found.app_database_url) as session:
        area = get_by_slug(session=session, slug=SECURITY)
        assert area is not None
        for n, title in enumerate(RELATED_SSO):
            row = FeatureRequest(slug=f"sso-{n}", title=title, description="")
            row.areas = [area]
            session.add(row)
    return found


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _run(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    started = client.post("/api/workflows/area-insights", json=body)
    assert started.status_code == 202, started.text
    run = finished(client, started.json()["run_id"], timeout=120)
    assert run["status"] == "SUCCESS", run
    result: dict[str, Any] = run["result"]
    return result


def test_every_area_gets_a_report_and_a_failing_agent_falls_back(
    client: TestClient, settings: Settings, llm: InsightsLLM
) -> None:
    result = _run(client, {})
    by_area = {outcome["area_slug"]: outcome for outcome in result["areas"]}
    assert (result["succeeded"], result["failed"]) == (8, 0)
    # The LLM failed for Mobile only: its report is worded offline, the others by the LLM.
    assert by_area["mobile"]["engine"] == "offline"
    assert {o["engine"] for slug, o in by_area.items() if slug != "mobile"} == {"llm"}
    assert sorted(set(llm.areas))[:3] == [
        "API & Developer Tools",
        "Admin & Permissions",
        "Billing & Usage",
    ]
    # The three related SSO requests form a theme; the LLM's invented example slug is dropped.
    assert "themes" in by_area[SECURITY]["sections"]
    assert by_area[SECURITY]["dropped_slugs"] == ["made-up-slug"]
    assert all(o["duration_ms"] > 0 for o in result["areas"])

    latest = client.get(f"/api/areas/{SECURITY}/insights").json()
    assert latest["run_id"] == by_area[SECURITY]["run_id"]
    assert latest["generated_by"] == settings.system_user_email
    themes = next(s for s in latest["report"]["sections"] if s["kind"] == "themes")
    assert themes["summary"] == "LLM words on themes."
    chart, *lists = themes["visuals"]
    assert chart["bars"][0]["label"] == "Single sign-on"
    # The sample's own SAML request belongs to the theme too; with the model's example made
    # up, the theme's three most valuable requests are shown.
    theme = {"sso-0", "sso-1", "sso-2", "saml-single-sign-on-with-okta-and-azure-ad"}
    shown = [i["slug"] for i in lists[0]["items"]]
    assert len(shown) == 3
    assert set(shown) <= theme
    mobile = client.get("/api/areas/mobile/insights").json()["report"]
    assert not any(s["summary"].startswith("LLM") for s in mobile["sections"])
    child = DBOS.get_workflow_status(by_area[SECURITY]["run_id"])
    assert child is not None
    assert child.parent_workflow_id is not None


def test_one_area_failing_does_not_lose_the_others(client: TestClient, settings: Settings) -> None:
    url = settings.app_database_url
    with session_scope(url) as session:
        billing = get_by_slug(session=session, slug="billing-usage")
        assert billing is not None
        before = session.scalar(select(func.count()).select_from(InsightReport))
        # A real database failure for one area's report (a trigger refusing its insert).
        session.execute(
            text(
                "CREATE TRIGGER refuse_billing BEFORE INSERT ON insight_reports "
                f"WHEN NEW.area_id = '{billing.id}' "
                "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"
            )
        )
    try:
        result = _run(client, {"areas": ["billing-usage", "mobile", SECURITY]})
    finally:
        with session_scope(url) as session:
            session.execute(text("DROP TRIGGER refuse_billing"))
    by_area = {outcome["area_slug"]: outcome for outcome in result["areas"]}
    assert [o["area_slug"] for o in result["areas"]] == ["billing-usage", "mobile", SECURITY]
    assert (result["succeeded"], result["failed"]) == (2, 1)
    assert by_area["billing-usage"]["status"] == "error"
    assert "disk quota exceeded" in by_area["billing-usage"]["error"]
    child = DBOS.get_workflow_status(by_area["billing-usage"]["run_id"])
    assert child is not None
    assert child.status == "ERROR"
    with session_scope(url) as session:
        after = session.scalar(select(func.count()).select_from(InsightReport))
    assert after == (before or 0) + 2


def test_history_keeps_every_report_newest_first(client: TestClient) -> None:
    first = _run(client, {"areas": ["integrations"]})["areas"][0]["report_id"]
    second = _run(client, {"areas": ["integrations"]})["areas"][0]["report_id"]
    history = client.get("/api/areas/integrations/insights/history").json()["items"]
    assert [item["id"] for item in history[:2]] == [second, first]
    assert client.get("/api/areas/integrations/insights").json()["id"] == second
    older = client.get(f"/api/areas/integrations/insights/{first}")
    assert older.status_code == 200
    assert older.json()["id"] == first


def test_unknown_areas_are_refused_before_any_run(client: TestClient) -> None:
    before = len(DBOS.list_workflows(name="area_insights_workflow"))
    answer = client.post("/api/workflows/area-insights", json={"areas": ["mobile", "nope"]})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "areas"]
    assert "nope" in answer.json()["detail"][0]["msg"]
    assert len(DBOS.list_workflows(name="area_insights_workflow")) == before
    bad = client.post("/api/workflows/area-insights", json={"concurrency": 0})
    assert bad.status_code == 422


def test_missing_area_or_report_is_a_404(client: TestClient, settings: Settings) -> None:
    assert client.get("/api/areas/nope/insights").status_code == 404
    with session_scope(settings.app_database_url) as session:
        upsert_area(session, area_id=None, name="Brand New Area")
    missing = client.get("/api/areas/brand-new-area/insights")
    assert missing.status_code == 404
    assert "no insight report" in missing.json()["detail"]


def test_area_page_draws_the_report_and_its_button_starts_a_run(client: TestClient) -> None:
    _run(client, {"areas": [SECURITY]})
    page = client.get(f"/areas/{SECURITY}")
    assert page.status_code == 200
    html = page.text
    assert "Security &amp; Compliance" in html
    assert html.count("<svg") >= 3  # segment and region breakdowns, severity distribution
    assert 'href="/requests/sso-' in html
    assert re.search(
        r'by run <a href="/api/runs/area-insights-[0-9a-f]+-security-compliance">', html
    )
    assert "Generate insights now" in html
    pressed = client.post(f"/areas/{SECURITY}/insights", follow_redirects=False)
    assert pressed.status_code == 303
    target = pressed.headers["location"]
    run_id = target.split("run=")[1]
    assert finished(client, run_id, timeout=60)["status"] == "SUCCESS"
    done = client.get(target).text
    assert "Insights generated." in done
    assert 'http-equiv="refresh"' not in done
    areas = client.get("/areas").text
    assert f'href="/areas/{SECURITY}"' in areas


def test_pages_escape_user_text(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.app_database_url) as session:
        upsert_area(session, area_id=None, name="<script>alert(1)</script> Area")
    html = client.get("/areas/script-alert-1-script-area").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Area" in html
    assert "No insights for" in html
