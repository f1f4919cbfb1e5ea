"""``gtm-feedback demo``: the whole system at work on a fresh embedded database.

Every incoming sample item goes through the same intake as ``POST /api/feedback`` and the
real workflows; a scripted reviewer decides the pending approvals through the approvals
service (as the web inbox and Slack buttons do), approving a proposed match when it is the
request the sample says is right and declining it otherwise; the follow-ups sleep durably
for a short demo delay and fire; then every area's insight report is generated. The report
says what happened.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID
from sqlalchemy import func, select

from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.models import Approval
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feedback import intake
from gtm_feedback.feedback.models import FeedbackSource
from gtm_feedback.feedback.schemas import FeedbackSubmission, ProcessFeedbackResult
from gtm_feedback.insight.schemas import AreaInsightsInput, AreaInsightsResult
from gtm_feedback.insight.workflows import area_insights_workflow
from gtm_feedback.monitoring.runs import own_work_ms, percentile
from gtm_feedback.outbox.models import OutboxMessage

REVIEWER = "demo-reviewer@gtm.example"

#: Called with (phase, done, total) as the demo advances.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Incoming:
    """One sample item and what the sample says should happen to it."""

    submission: FeedbackSubmission
    expected_request_id: str | None


@dataclass
class DemoReport:
    """What the demo did."""

    items: int = 0
    tiers: Counter[str] = field(default_factory=Counter)
    approved: int = 0
    declined: int = 0
    attached: int = 0
    created: int = 0
    on_expected: int = 0
    followups_sent: int = 0
    followups: int = 0
    messages: dict[str, int] = field(default_factory=dict)
    work_ms: list[float] = field(default_factory=list)
    insights: AreaInsightsResult | None = None

    @property
    def median_ms(self) -> float:
        """Median of the process-feedback runs' own work."""
        return statistics.median(self.work_ms) if self.work_ms else 0.0

    @property
    def p95_ms(self) -> float:
        """95th percentile of the process-feedback runs' own work."""
        return percentile(self.work_ms, 0.95) if self.work_ms else 0.0


def load_incoming(path: Path, limit: int | None = None) -> list[Incoming]:
    """The sample's incoming items (``incoming.csv``), as the intake receives them."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:limit]
    return [
        Incoming(
            submission=FeedbackSubmission(
                pain=row["text"],
                severity=row["severity"],
                account_id=row["account_id"],
                submitter_email=row["submitter_email"],
                source=FeedbackSource.API,
            ),
            expected_request_id=row["expected_request_id"] or None,
        )
        for row in rows
    ]


def run_demo(settings: Settings, items: list[Incoming], progress: Progress) -> DemoReport:
    """Process every item, decide the approvals, let the follow-ups fire; DBOS is launched."""
    report = DemoReport(items=len(items))
    runs = [intake.start_processing(item.submission, f"demo-{n}") for n, item in enumerate(items)]
    results = _wait_all("Processing feedback", [run.run_id for run in runs], progress)
    report.tiers.update(result.tier for result in results)
    report.work_ms = [ms for ms in map(own_work_ms, (r.run_id for r in runs)) if ms is not None]
    finals = _review(settings, results, items, report, progress)
    for item, final in zip(items, finals, strict=True):
        report.attached += final.outcome == "attached"
        report.created += final.outcome == "created"
        if final.outcome == "attached":
            report.on_expected += final.request_id == item.expected_request_id
        else:
            report.on_expected += item.expected_request_id is None
    followups = [w.workflow_id for w in DBOS.list_workflows(workflow_id_prefix="followup-")]
    sent = _wait_all("Follow-ups (durable sleep)", followups, progress)
    report.followups, report.followups_sent = len(sent), sum(map(bool, sent))
    report.messages = _messages(settings.app_database_url)
    with SetWorkflowID("demo-area-insights"):
        DBOS.start_workflow(area_insights_workflow, AreaInsightsInput())
    report.insights = _wait_all("Area insights", ["demo-area-insights"], progress)[0]
    return report


def _review(
    settings: Settings,
    results: list[ProcessFeedbackResult],
    items: list[Incoming],
    report: DemoReport,
    progress: Progress,
) -> list[ProcessFeedbackResult]:
    """Decide each pending approval as a careful reviewer would; every item's final result."""
    decision_runs = []
    for result, item in zip(results, items, strict=True):
        if result.outcome != "waiting":
            continue
        assert result.decision_run_id is not None
        approve = result.request_id == item.expected_request_id
        approvals.decide_and_resume(
            settings.app_database_url,
            token=_token(settings.app_database_url, result.decision_run_id),
            approved=approve,
            user=REVIEWER,
        )
        report.approved += approve
        report.declined += not approve
        decision_runs.append(result.decision_run_id)
    decided = iter(_wait_all("Approved or declined", decision_runs, progress))
    return [next(decided) if r.outcome == "waiting" else r for r in results]


def _token(url: str, decision_run_id: str) -> str:
    with session_scope(url) as session:
        query = select(Approval.token).where(Approval.workflow_id == decision_run_id)
        return session.scalars(query).one()


def _wait_all(phase: str, run_ids: list[str], progress: Progress) -> list[Any]:
    results: list[Any] = []
    progress(phase, 0, len(run_ids))
    for done, run_id in enumerate(run_ids, start=1):
        results.append(DBOS.retrieve_workflow(run_id).get_result())
        progress(phase, done, len(run_ids))
    return results


def _messages(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        query = select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
        return {str(kind): int(count) for kind, count in session.execute(query)}
