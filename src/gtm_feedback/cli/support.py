"""Consoles, settings and progress bars shared by the command-line modules."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gtm_feedback.config import Settings, get_settings
from gtm_feedback.logging import configure_logging

console = Console()
errors = Console(stderr=True)


def cli_settings() -> Settings:
    """The settings, with logs formatted for a terminal."""
    settings = get_settings()
    configure_logging(settings.log_level, "console")
    return settings


def progress_bar() -> Progress:
    """A progress bar with a count and the elapsed time."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def require_current_schema(settings: Settings) -> None:
    """Stop with a clear message (exit 1) unless the database is migrated to the newest schema."""
    from gtm_feedback import migrations

    current = migrations.current_revision(settings.app_database_url)
    if current != migrations.head_revision():
        state = f"at revision {current}" if current else "empty"
        errors.print(
            f"[red]The database is {state}, not at {migrations.head_revision()}:[/] "
            "run `gtm-feedback init` (or `gtm-feedback db upgrade`) first."
        )
        raise typer.Exit(1)
