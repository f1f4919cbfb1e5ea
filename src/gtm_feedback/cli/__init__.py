"""The ``gtm-feedback`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

from gtm_feedback import __version__, migrations
from gtm_feedback.cli import (
    access,
    agents,
    assistant,
    demo,
    duplicates,
    imports,
    learning,
    matching,
    merges,
    processes,
    runs,
    scaffold,
    usage,
    workflows,
)
from gtm_feedback.cli.support import cli_settings, console
from gtm_feedback.sample import loader

app = typer.Typer(help="GTM Feedback: customer feedback to ARR-weighted feature requests.")
db_app = typer.Typer(help="Database schema migrations.")
app.add_typer(db_app, name="db")


def _print_version(value: bool) -> None:
    if value:
        console.print(__version__)
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Run ``gtm-feedback COMMAND --help`` for a command's options."""


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = cli_settings()
    migrations.upgrade(settings.app_database_url, revision)
    console.print(
        f"Database at revision [bold]{migrations.current_revision(settings.app_database_url)}[/]"
    )
    _print_vector_search(settings.app_database_url)


def _print_vector_search(url: str) -> None:
    if migrations.has_pgvector(url):
        console.print("Vector search: pgvector (HNSW indexes in the database)")
    else:
        console.print("Vector search: in memory (this database has no pgvector; docs/deploy.md)")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one this version ships."""
    settings = cli_settings()
    current = migrations.current_revision(settings.app_database_url) or "none (empty database)"
    console.print(f"current: {current}\nhead:    {migrations.head_revision()}")
    if current != "none (empty database)":
        _print_vector_search(settings.app_database_url)


@app.command()
def seed() -> None:
    """Load the sample dataset (safe to re-run: rows are upserted by id)."""
    settings = cli_settings()
    migrations.upgrade(settings.app_database_url)
    _print_seed(
        loader.seed(settings.app_database_url, settings.data_dir, seed_value=settings.sample_seed)
    )


@app.command()
def init() -> None:
    """Migrate the database and load the sample data if it is empty (first run)."""
    settings = cli_settings()
    migrations.upgrade(settings.app_database_url)
    if loader.is_empty(settings.app_database_url):
        console.print("First run: loading the sample dataset…")
        _print_seed(
            loader.seed(
                settings.app_database_url, settings.data_dir, seed_value=settings.sample_seed
            )
        )
    else:
        console.print("Database ready (sample data already present or real data loaded).")
    matching.sync_with_progress(settings)
    if settings.embedded:
        console.print(access.demo_admin(settings))


app.command("demo")(demo.demo)


def _print_seed(result: loader.SeedResult) -> None:
    for report in result.reports.values():
        imports.print_report(report)
    console.print(
        f"{result.incoming} incoming feedback items to try matching on: "
        f"{result.csv_dir / 'incoming.csv'}"
    )


app.command("serve")(processes.serve)
app.command("worker")(processes.worker)

app.command("import")(imports.import_csv)


@app.command()
def status() -> None:
    """Check the database and DBOS, and list the live processes (launches DBOS briefly)."""
    from dbos import DBOS

    from gtm_feedback.durable import executors
    from gtm_feedback.runtime import dbos_runtime

    settings = cli_settings()
    console.print(f"database: {settings.app_database_url}")
    console.print(f"schema:   {migrations.current_revision(settings.app_database_url) or 'empty'}")
    with dbos_runtime(settings, "cli"):
        pending = DBOS.list_workflows(status=["PENDING", "ENQUEUED"])
        console.print(f"dbos:     {settings.dbos_database_url}")
        console.print(f"version:  {settings.app_version} (pinned)")
        console.print(f"waiting:  {len(pending)} workflow(s) pending or enqueued")
        for process in executors.live(settings.app_database_url, settings.executor_lease):
            console.print(
                f"process:  {process.executor_id} ({process.role}, pid {process.pid} on "
                f"{process.host}, version {process.version})"
            )


# Matching commands live in their own module; registered last so --help lists them last.
app.add_typer(matching.embeddings_app, name="embeddings")
app.command("match")(matching.match_command)
app.command("eval-matching")(matching.eval_matching)
app.command("eval-duplicates")(duplicates.eval_duplicates)
app.command("mcp")(assistant.mcp)
app.add_typer(learning.matching_app, name="matching")
agents.agents_app.command("usage")(usage.agent_usage)
app.add_typer(agents.agents_app, name="agents")
app.add_typer(access.users_app, name="users")
app.add_typer(access.tokens_app, name="tokens")
app.add_typer(runs.runs_app, name="runs")
app.add_typer(merges.requests_app, name="requests")
app.command("audit")(access.audit_log)
app.command("ship")(workflows.ship)
app.command("insights")(workflows.insights)
app.command("new-workflow")(scaffold.new_workflow)
