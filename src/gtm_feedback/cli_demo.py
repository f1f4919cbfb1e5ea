"""``gtm-feedback demo``: the quickest way to see the whole system work (see ``demo.py``)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from gtm_feedback.cli_support import cli_settings, console, progress_bar
from gtm_feedback.config import Settings, parse_duration
from gtm_feedback.db import migrate
from gtm_feedback.demo import DemoReport, Incoming, load_incoming, run_demo
from gtm_feedback.insight.schemas import AreaInsightsResult
from gtm_feedback.monitoring.logging import configure_logging
from gtm_feedback.sample import loader


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
        migrate.upgrade(settings.app_database_url)
        loader.seed(settings.app_database_url, folder, seed_value=settings.sample_seed)
        from gtm_feedback.cli_matching import sync_with_progress

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
