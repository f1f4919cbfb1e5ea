"""``gtm-feedback agents usage``: what the agents cost this month (or another), by agent."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema


def _month(value: str | None) -> tuple[datetime, datetime]:
    from gtm_feedback.ai_usage.ledger import month_start

    if value is None:
        start = month_start()
    else:
        start = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
    return start, (start + timedelta(days=32)).replace(day=1)


def agent_usage(
    month: Annotated[
        str | None, typer.Option(help="YYYY-MM (UTC); default: this month.", metavar="YYYY-MM")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Calls, tokens and cost of each agent over a month, and the budget left."""
    from gtm_feedback.ai_usage import service
    from gtm_feedback.db.session import session_scope

    settings = cli_settings()
    require_current_schema(settings)
    try:
        since, until = _month(month)
    except ValueError as exc:
        errors.print(f"[red]Not a month:[/] {month!r} (e.g. 2026-12)")
        raise typer.Exit(2) from exc
    with session_scope(settings.app_database_url) as session:
        rows = service.totals(session=session, since=since, until=until)
    spent = sum(row.cost_usd for row in rows)
    budget = settings.llm_monthly_budget
    if as_json:
        found = {"month": f"{since:%Y-%m}", "cost_usd": spent, "budget_usd": budget}
        typer.echo(json.dumps(found | {"agents": [asdict(row) for row in rows]}))
        return
    table = Table("agent", "model", "calls", "fell back", "tokens in", "tokens out", "cost $")
    for row in rows:
        tokens = (f"{row.prompt_tokens:,}", f"{row.completion_tokens:,}")
        counts = (str(row.calls), str(row.fallbacks))
        table.add_row(row.agent, row.model, *counts, *tokens, f"{row.cost_usd:,.4f}")
    console.print(table)
    cap = f" of a ${budget:,.2f} budget" if budget is not None else " (no budget set)"
    console.print(f"{since:%Y-%m}: ${spent:,.4f} spent{cap}.")
