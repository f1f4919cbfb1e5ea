"""``gtm-feedback eval-duplicates``: how well known duplicate requests are found."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gtm_feedback.cli.evaluation import EvalInputError, embed_requests, load_requests, read_pairs
from gtm_feedback.cli.matching import embedder_or_exit
from gtm_feedback.cli.support import cli_settings, console, errors, progress_bar
from gtm_feedback.matching import duplicates


def eval_duplicates(
    requests: Annotated[Path, typer.Option(help="CSV: id,title,description.")],
    pairs: Annotated[Path, typer.Option(help="CSV: request_id,duplicate_of — known duplicates.")],
    linked: Annotated[
        Path | None, typer.Option(help="CSV: request_id,text — feedback already linked.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=-1,
            max=1,
            help="Suggest pairs scoring this or more. Default: GTMFB_DUPLICATE_THRESHOLD.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rank each known duplicate among its request's nearest requests; score the suggestions."""
    settings = cli_settings()
    cut = settings.duplicate_threshold if threshold is None else threshold
    try:
        data = load_requests(requests, linked)
        known = read_pairs(pairs, data)
    except EvalInputError as exc:
        errors.print(f"[red]Cannot evaluate:[/]\n{exc}")
        raise typer.Exit(2) from exc
    embedder = embedder_or_exit(settings)
    index, _ = embed_requests(data, embedder)
    if as_json:
        found = duplicates.neighbours(index, k=10)
    else:
        with progress_bar() as progress:
            task = progress.add_task("Comparing requests", total=len(index))
            found = duplicates.neighbours(index, 10, lambda n: progress.advance(task, n))
    report = duplicates.evaluate(found, known, cut)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(report)))
        return
    table = Table("figure", "value", title=f"{report.pairs} known duplicate pairs")
    for name in ("recall_at_1", "recall_at_5", "recall_at_10", "mrr"):
        table.add_row(name, f"{getattr(report, name):.3f}")
    table.add_row(f"suggested at ≥ {cut:.2f}", str(report.suggested))
    table.add_row("suggest_precision", f"{report.suggest_precision:.3f}")
    table.add_row("suggest_recall", f"{report.suggest_recall:.3f}")
    console.print(table)
