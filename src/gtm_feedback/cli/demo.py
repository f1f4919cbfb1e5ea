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
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from dbos import DBOS, SetWorkflowID
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy import func, select

from gtm_feedback import migrations
from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.models import Approval
from gtm_feedback.cli.support import cli_settings, console, progress_bar
from gtm_feedback.config import Settings, parse_duration
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.runs import own_work_ms, percentile
from gtm_feedback.feedback import workflows as feedback_workflows
from gtm_feedback.feedback.models import FeedbackSource
from gtm_feedback.feedback.schemas import FeedbackSubmission, ProcessFeedbackResult
from gtm_feedback.insight.schemas import AreaInsightsInput, AreaInsightsResult
from gtm_feedback.insight.workflows import area_insights_workflow
from gtm_feedback.logging import configure_logging
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.sample import loader
from gtm_feedback.user.audit import Actor

REVIEWER = "demo-reviewer@gtm.example"

#: Called with (phase, done, total) as the demo advances.
OnProgress = Callable[[str, int, int], None]


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


def run_demo(settings: Settings, items: list[Incoming], progress: OnProgress) -> DemoReport:
    """Process every item, decide the approvals, let the follow-ups fire; DBOS is launched."""
    report = DemoReport(items=len(items))
    runs = [
        feedback_workflows.start_processing(item.submission, f"demo-{n}")
        for n, item in enumerate(items)
    ]
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
    progress: OnProgress,
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
            actor=Actor(None, REVIEWER, "demo"),
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


def _wait_all(phase: str, run_ids: list[str], progress: OnProgress) -> list[Any]:
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


def demo(
    items: Annotated[
        int | None, typer.Option(min=1, help="Process only the first N incoming items.")
    ] = None,
    followup_delay: Annotated[
        str, typer.Option(help="How long follow-ups sleep durably (e.g. 3s, 1m).")
    ] = "3s",
    keep: Annotated[
        bool, typer.Option(help="Keep the demo's database and print how to browse it.")
    ] = False,
) -> None:
    """Run the whole system on a fresh temporary database and print what happened.

    Loads the sample data, processes every incoming feedback item through the real durable
    workflows, decides the pending approvals as a scripted reviewer would, lets the
    follow-ups fire, and prints a summary. Nothing outside a temporary folder is touched.
    """
    try:
        delay = parse_duration(followup_delay)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--followup-delay") from exc
    folder = Path(tempfile.mkdtemp(prefix="gtmfb-demo-"))
    settings = _demo_settings(cli_settings(), folder, delay)
    configure_logging(settings.log_level, "console")  # warnings and errors still show
    started = time.perf_counter()
    try:
        console.print(f"Demo database: {folder}")
        migrations.upgrade(settings.app_database_url)
        loader.seed(settings.app_database_url, folder, seed_value=settings.sample_seed)
        from gtm_feedback.cli.matching import sync_with_progress

        sync_with_progress(settings)
        incoming = load_incoming(folder / "sample" / "incoming.csv", items)
        report = _run(settings, incoming)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_summary(report, time.perf_counter() - started)
    if keep:
        console.print(
            f"Browse it: GTMFB_DATA_DIR={folder} gtm-feedback serve  (then open /api/outbox)"
        )


def _demo_settings(base: Settings, folder: Path, followup_delay: float) -> Settings:
    # Only the data location and timings change: the demo never touches a configured
    # database, and runs under an executor id of its own.
    return base.model_copy(
        update={
            "data_dir": folder,
            "database_url": None,
            "system_database_url": None,
            "executor_id": None,
            "followup_delay": followup_delay,
            "approval_timeout": 3600.0,
            # The table tells the story; per-step logs would bury the progress bars.
            "log_level": "WARNING",
        }
    )


def _run(settings: Settings, incoming: list[Incoming]) -> DemoReport:
    from gtm_feedback.runtime import dbos_runtime

    with progress_bar() as bars, dbos_runtime(settings, "worker"):
        tasks: dict[str, TaskID] = {}
        return run_demo(settings, incoming, lambda *state: _advance(bars, tasks, *state))


def _advance(bars: Progress, tasks: dict[str, TaskID], phase: str, done: int, total: int) -> None:
    if phase not in tasks:
        tasks[phase] = bars.add_task(phase, total=total)
    bars.update(tasks[phase], completed=done, total=total)


def print_summary(report: DemoReport, seconds: float) -> None:
    """The demo's outcome as a table."""
    table = Table("", "", title="GTM Feedback demo", title_justify="left", show_header=False)
    tiers = report.tiers
    table.add_row("incoming feedback processed", str(report.items))
    table.add_row("  attached automatically (auto tier)", str(tiers.get("auto", 0)))
    table.add_row("  asked a person (approval tier)", str(tiers.get("approval", 0)))
    table.add_row("  new request written (create tier)", str(tiers.get("create", 0)))
    table.add_row("approvals decided", f"{report.approved} approved, {report.declined} declined")
    table.add_row("attached to an existing request", str(report.attached))
    table.add_row("new requests created", str(report.created))
    share = 100 * report.on_expected / max(report.items, 1)
    table.add_row(
        "ended where the sample expects", f"{report.on_expected} of {report.items} ({share:.0f} %)"
    )
    table.add_row("follow-ups", f"{report.followups_sent} sent of {report.followups} due")
    messages = ", ".join(f"{n} {kind}" for kind, n in sorted(report.messages.items()))
    table.add_row("messages sent (outbox)", f"{sum(report.messages.values())}: {messages}")
    if report.insights is not None:
        table.add_row("area insight reports", _insights_line(report.insights))
    table.add_row(
        "process-feedback run (own work)",
        f"median {report.median_ms:.0f} ms, p95 {report.p95_ms:.0f} ms",
    )
    table.add_row("demo took", f"{seconds:.1f} s")
    console.print(table)


def _insights_line(result: AreaInsightsResult) -> str:
    def having(kind: str) -> int:
        return sum(kind in outcome.sections for outcome in result.areas)

    return (
        f"{result.succeeded} of {len(result.areas)} areas; dealbreakers in "
        f"{having('dealbreakers')}, themes in {having('themes')}"
    )
