"""Consoles, settings and progress bars shared by the command-line modules."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gtm_feedback.config import Settings, get_settings
from gtm_feedback.monitoring.logging import configure_logging

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
