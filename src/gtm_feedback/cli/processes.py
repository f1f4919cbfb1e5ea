"""The long-running processes: ``serve`` (web, with or without the workers) and ``worker``."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from types import FrameType
from typing import Annotated

import typer

from gtm_feedback import metrics
from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema
from gtm_feedback.durable.executors import ExecutorInUseError
from gtm_feedback.logging import configure_logging

#: A worker name as the settings accept it (it becomes part of the executor id).
NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
#: Seconds a stopping worker gives its running steps before it hands the rest over.
STOP_TIMEOUT = 10
ONE_PROCESS = (
    "SQLite serves one process: run the web and the workers together "
    "(`gtm-feedback serve --with-workers`); separate processes need PostgreSQL "
    "(GTMFB_DATABASE_URL)."
)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default GTMFB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default GTMFB_PORT).")] = None,
    with_workers: Annotated[
        bool | None,
        typer.Option(
            "--with-workers/--web-only",
            help="Also run the queues and the schedules in this process. Default: with the "
            "workers on SQLite (one process), web only on PostgreSQL (run `gtm-feedback "
            "worker` beside it).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the web app: it answers and enqueues; with the workers it also runs the work."""
    import uvicorn

    from gtm_feedback.main import create_app

    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    settings = cli_settings().model_copy(update=overrides)
    workers = settings.embedded if with_workers is None else with_workers
    if settings.embedded and not workers:
        errors.print(f"[red]--web-only needs PostgreSQL.[/] {ONE_PROCESS}")
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_format)
    metrics.configure(settings.resolved_metrics_dir)  # shared with the host's other processes
    if not workers:
        console.print("Web only: work waits in the queues until a `gtm-feedback worker` runs.")
    try:
        uvicorn.run(
            create_app(settings, role="server" if workers else "web"),
            host=settings.host,
            port=settings.port,
            log_config=None,
            server_header=False,  # no banner naming the server software
        )
    except ExecutorInUseError as error:
        errors.print(f"[red]Not started:[/] {error}")
        raise typer.Exit(1) from error
    _exit_now()


def _exit_now() -> None:
    # DBOS is shut down and the lease given up, but runs that sleep or wait for a person (up
    # to days) still occupy DBOS's executor threads, which the interpreter would join at exit
    # and so never stop. They are recorded: a live worker takes them over (or this executor
    # id resumes them at its restart).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def worker(
    name: Annotated[
        str | None,
        typer.Option(
            help="This worker's name, unique among the workers of one host and stable across "
            "its restarts (its executor id is HOST-worker-NAME). Default GTMFB_WORKER_NAME, 1.",
        ),
    ] = None,
) -> None:
    """Run the queues and the schedules (no web): start as many as the load needs."""
    from gtm_feedback import runtime

    settings = cli_settings()
    if name is not None:
        if not NAME.fullmatch(name):
            errors.print("[red]--name:[/] 1 to 40 letters, digits, '.', '_' or '-'.")
            raise typer.Exit(2)
        settings = settings.model_copy(update={"worker_name": name})
    if settings.embedded:
        errors.print(f"[red]A separate worker needs PostgreSQL.[/] {ONE_PROCESS}")
        raise typer.Exit(2)
    require_current_schema(settings)
    configure_logging(settings.log_level, settings.log_format)
    metrics.configure(settings.resolved_metrics_dir)
    stopping = _stop_on_signals()
    try:
        runtime.launch(settings, "worker")
    except ExecutorInUseError as error:
        errors.print(f"[red]Not started:[/] {error}")
        raise typer.Exit(1) from error
    console.print(f"Worker {settings.resolved_executor_id('worker')} running; Ctrl-C stops it.")
    try:
        stopping.wait()
    finally:
        runtime.shutdown(timeout_sec=STOP_TIMEOUT)
    _exit_now()


def _stop_on_signals() -> threading.Event:
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopping
