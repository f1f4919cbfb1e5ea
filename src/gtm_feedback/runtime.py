"""The DBOS runtime: the adapters, configuration, launch once per process, queues, shutdown."""

from __future__ import annotations

import importlib
import logging
import sqlite3
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from datetime import datetime
from typing import Any, Literal, cast

from dbos import DBOS, DBOSConfig
from dbos._dbos import ScheduleInput
from sqlalchemy.engine import make_url
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from gtm_feedback.ai_usage.ledger import SqlLedger
from gtm_feedback.config import Settings
from gtm_feedback.db import transactional
from gtm_feedback.db.session import PoolSizes, configure_durability, configure_pools
from gtm_feedback.durable.executors import Identity
from gtm_feedback.durable.queues import register_queues, stop_pacing
from gtm_feedback.durable.registry import import_workflow_modules
from gtm_feedback.durable.takeover import LeaseKeeper
from gtm_feedback.feature_request.digest_workflows import SCHEDULE_NAME as DIGEST_SCHEDULE
from gtm_feedback.feature_request.digest_workflows import scheduled_weekly_digest_workflow
from gtm_feedback.feature_request.duplicate_workflows import SCHEDULE_NAME as SWEEP_SCHEDULE
from gtm_feedback.feature_request.duplicate_workflows import scheduled_duplicate_sweep_workflow
from gtm_feedback.insight.workflows import SCHEDULE_NAME as INSIGHTS_SCHEDULE
from gtm_feedback.insight.workflows import scheduled_area_insights_workflow
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.adapters import Adapters
from gtm_feedback.integrations.ai.registry import build_runner
from gtm_feedback.integrations.messaging.base import Messenger
from gtm_feedback.integrations.slack.client import build_client
from gtm_feedback.learning.service import pinned
from gtm_feedback.learning.workflows import REFIT_SCHEDULE, scheduled_refit_workflow
from gtm_feedback.logging import get_logger
from gtm_feedback.monitoring.retention import SCHEDULE_NAME as RETENTION_SCHEDULE
from gtm_feedback.monitoring.retention import scheduled_retention_workflow
from gtm_feedback.outbox.messengers import OutboxMessenger, SlackMessenger
from gtm_feedback.saved_view.kicker import AlertKicker
from gtm_feedback.saved_view.workflows import VIEW_DIGEST_SCHEDULE, scheduled_view_digest_workflow

log = get_logger(__name__)

#: server: web and workers in one process (the embedded default); web: answers and enqueues
#: only; worker: runs the queues and the schedules; cli: a command; test: the test suite.
Role = Literal["server", "web", "worker", "cli", "test"]
#: The roles that consume the queues, and of those the ones that run the schedules and take
#: over the runs of processes whose lease ran out (tests relaunch in one process: no takeover).
RUNS_WORK: frozenset[Role] = frozenset({"server", "worker", "test"})
KEEPS_WATCH: frozenset[Role] = frozenset({"server", "worker"})
#: The test suite launches and stops DBOS many times in one process, often on a database
#: without the schema: it holds no lease (tests/durable/test_takeover.py tests the leases).
UNLEASED: frozenset[Role] = frozenset({"test"})
#: This process's lease keeper, while DBOS is launched.
_KEEPER: list[LeaseKeeper] = []
_KICKER: list[AlertKicker] = []
ScheduledWorkflow = Callable[[datetime, Any], None]


#: Modules whose classes moved when the floors were laid out (issue 16), and where they live
#: now. DBOS pickles step outputs and errors by module path: a run recorded before the move
#: must still load (recovery, the run pages).
MOVED_CLASSES: dict[str, tuple[str, ...]] = {
    "gtm_feedback.integrations.ai.schemas": (
        "gtm_feedback.feature_request.agents",
        "gtm_feedback.feedback.agents",
        "gtm_feedback.insight.agents",
        "gtm_feedback.user.agents",
    ),
    "gtm_feedback.workflow_support": ("gtm_feedback.errors", "gtm_feedback.durable.fanout"),
}


def keep_moved_classes_loadable() -> None:
    """Let a pickle that names a class's old module find the class where it lives now."""
    for old, homes in MOVED_CLASSES.items():
        try:
            module = importlib.import_module(old)
        except ModuleNotFoundError:
            module = sys.modules.setdefault(old, types.ModuleType(old))
        vars(module)["__getattr__"] = _finder(old, homes)  # PEP 562: missing names only


def _finder(old: str, homes: tuple[str, ...]) -> Callable[[str], Any]:
    def find(name: str) -> Any:
        for home in homes:
            found = getattr(importlib.import_module(home), name, None)
            if isinstance(found, type):
                return found
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return find


def route_dbos_logs() -> None:
    """Send DBOS's log records through our handlers (JSON lines) instead of its own console.

    DBOS attaches a stream handler bound to whatever ``sys.stderr`` was when it first ran;
    ours is configured per process and follows our format. The null handler stops DBOS from
    adding its own back on the next launch.
    """
    dbos_log = logging.getLogger("dbos")
    dbos_log.handlers = [logging.NullHandler()]
    dbos_log.propagate = True


def dbos_config(settings: Settings, role: Role) -> DBOSConfig:
    """DBOS's configuration from our settings (pinned version, per-process executor id)."""
    return {
        "name": settings.app_name,
        "system_database_url": settings.dbos_database_url,
        # Recovery only resumes workflows of the same application version: pin it so a
        # restart after a code edit still resumes what was running.
        "application_version": settings.app_version,
        "executor_id": settings.resolved_executor_id(role),
        # A command's progress bars should not be interleaved with DBOS's start-up chatter.
        "log_level": "WARNING" if role == "cli" else settings.log_level.upper(),
        # Every step checkpoints through this pool, and every enqueue: sized like the app's.
        "sys_db_pool_size": settings.db_pool_size + settings.db_max_overflow,
        # Waiting runs (approvals, sleeps) hear a message within this; each poll costs a query
        # per waiting run on SQLite.
        "notification_listener_polling_interval_sec": settings.notification_polling_interval,
    }


def _enable_wal(url: str) -> None:
    # DBOS sets no journal mode on SQLite; WAL is a property of the file, so once is enough.
    database = make_url(url).database
    if not database:
        return
    # Two processes starting at once (a server and a worker) both get here, and switching to
    # WAL needs the file to itself: SQLite answers "locked" at once, without waiting, while
    # the other one works in it. Try again until it is free or the other one switched it.
    for attempt in Retrying(
        stop=stop_after_delay(60),
        wait=wait_fixed(0.1),
        retry=retry_if_exception_type(sqlite3.OperationalError),
        reraise=True,
    ):
        with attempt, closing(sqlite3.connect(database, timeout=30)) as connection:
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")


def build_adapters(settings: Settings) -> Adapters:
    """Slack when a bot token is configured (else the outbox), and the agent runner."""
    client = build_client(settings)
    messenger: Messenger = (
        OutboxMessenger(settings.app_database_url, "Slack is not configured")
        if client is None
        else SlackMessenger(settings.app_database_url, client)
    )
    return Adapters(
        settings=settings,
        messenger=messenger,
        agents=build_runner(settings, SqlLedger(settings.app_database_url)),
        slack=client,
    )


def launch(settings: Settings, role: Role) -> DBOS:
    """Create and launch DBOS for this process, then register the queues."""
    url = settings.dbos_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _enable_wal(url)
    configure_pools(
        PoolSizes(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout)
    )
    configure_durability(settings.sqlite_synchronous)
    # Before launch: recovery may resume workflows whose steps need the adapters at once.
    import_workflow_modules()
    keep_moved_classes_loadable()
    adapters.install(build_adapters(settings))
    route_dbos_logs()
    keeper = _keep_lease(settings, role)
    dbos = DBOS(config=dbos_config(settings, role))
    # Datasources (transactional steps) are accepted between DBOS() and DBOS.launch() only.
    transactional.datasource(settings.app_database_url)
    if role not in RUNS_WORK:
        # A command or a web-only server must not dequeue background work (a command would
        # exit with it half done); both may enqueue, and the workers pick it up.
        DBOS.listen_queues([])
    DBOS.launch()
    register_queues(settings, runs_work=role in RUNS_WORK)
    if role in KEEPS_WATCH:
        apply_schedules(settings)
        _watch_views(settings)
    if keeper is not None:
        keeper.start()
        _KEEPER.append(keeper)
    announce = log.debug if role == "cli" else log.info  # a command's output is for its user
    announce("dbos.launched", role=role, executor_id=settings.resolved_executor_id(role))
    return dbos


def _watch_views(settings: Settings) -> None:
    # Saved views' immediate alerts: a run starts when there is work (saved_view/kicker.py).
    if settings.view_alerts_interval > 0:
        _KICKER.append(AlertKicker(settings.app_database_url, settings.view_alerts_interval))
        _KICKER[-1].start()


def _keep_lease(settings: Settings, role: Role) -> LeaseKeeper | None:
    if role in UNLEASED:
        return None
    # Claimed before DBOS launches: launching recovers this executor id's PENDING runs, which
    # must not happen while another live process holds the id.
    me = Identity(settings.resolved_executor_id(role), role, settings.app_version)
    recover = _recover if role in KEEPS_WATCH else None
    keeper = LeaseKeeper(settings.app_database_url, me, settings.executor_lease, recover)
    keeper.claim()
    return keeper


def _recover(executor_id: str) -> int:
    # DBOS's own recovery for another executor id: it re-enqueues the PENDING runs so that one
    # live process claims each; a repeat for the same id matches nothing.
    return len(DBOS._recover_pending_workflows([executor_id]))


def _schedules(settings: Settings) -> tuple[tuple[str, Callable[..., Any], str, str], ...]:
    # Each schedule: its name, its workflow, its cron (``off``: none) and its queue.
    return (
        (INSIGHTS_SCHEDULE, scheduled_area_insights_workflow, settings.insights_cron, "insights"),
        (DIGEST_SCHEDULE, scheduled_weekly_digest_workflow, settings.digest_cron, "notifications"),
        (
            VIEW_DIGEST_SCHEDULE,
            scheduled_view_digest_workflow,
            settings.view_digest_cron,
            "notifications",
        ),
        (REFIT_SCHEDULE, scheduled_refit_workflow, refit_cron(settings), "matching"),
        (RETENTION_SCHEDULE, scheduled_retention_workflow, settings.run_retention_cron, "matching"),
        (
            SWEEP_SCHEDULE,
            scheduled_duplicate_sweep_workflow,
            settings.duplicate_sweep_cron,
            "matching",
        ),
    )


def apply_schedules(settings: Settings) -> None:
    """Create or update the schedules: insights, digest, saved views' digest, refit, run
    retention, duplicate sweep (``off``: remove).

    Every server and worker calls this at start: DBOS upserts schedules by name, so however
    many processes start there is one schedule each, and each firing time runs once (its run
    id is derived from the schedule name and the time).
    """
    entries: list[ScheduleInput] = []
    for name, workflow, cron, queue in _schedules(settings):
        if cron == "off":
            DBOS.delete_schedule(name)
            continue
        entries.append(
            {
                "schedule_name": name,
                # DBOS records what it returns (a typed result); its hint says None.
                "workflow_fn": cast(ScheduledWorkflow, workflow),
                "schedule": cron,
                "cron_timezone": settings.timezone,
                "queue_name": queue,
            }
        )
    if entries:
        DBOS.apply_schedules(entries)


def refit_cron(settings: Settings) -> str:
    """The nightly refit's schedule: off when the environment pins the calibration."""
    return "off" if pinned(settings) else settings.match_refit_cron


def shutdown(timeout_sec: int = 5) -> None:
    """Stop DBOS, letting running workflows finish for up to ``timeout_sec`` seconds."""
    stop_pacing()
    while _KICKER:
        _KICKER.pop().stop()
    for keeper in _KEEPER:
        keeper.recover = None  # no takeovers while this process winds down
    DBOS.destroy(workflow_completion_timeout_sec=timeout_sec)
    while _KEEPER:  # given up after the runs had their time to finish
        _KEEPER.pop().stop()
    with suppress(RuntimeError):  # no adapters: nothing was recorded
        adapters.current().agents.flush_usage()  # before the database may go away
    transactional.dispose()


@contextmanager
def dbos_runtime(settings: Settings, role: Role = "cli") -> Iterator[DBOS]:
    """DBOS launched for the duration of the block (CLI commands, scripts, tests)."""
    dbos = launch(settings, role)
    try:
        yield dbos
    finally:
        shutdown()
