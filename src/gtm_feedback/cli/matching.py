"""Matching commands: ``embeddings sync|status``, ``match`` and ``eval-matching``."""

from __future__ import annotations

import json
from dataclasses import astuple, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gtm_feedback import migrations
from gtm_feedback.cli.evaluation import (
    EvalData,
    EvalInputError,
    learn_config,
    load_eval_data,
    match_all,
    run_eval,
)
from gtm_feedback.cli.support import (
    cli_settings,
    console,
    errors,
    progress_bar,
    require_current_schema,
)
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings, search
from gtm_feedback.integrations.embeddings import Embedder, EmbeddingError, get_embedder
from gtm_feedback.learning.service import policy
from gtm_feedback.matching import tuning
from gtm_feedback.matching.evaluate import Report
from gtm_feedback.matching.matcher import MatchConfig
from gtm_feedback.matching.tiers import Thresholds

embeddings_app = typer.Typer(help="Vectors of requests and feedback used by matching.")

_METRICS = {
    "n": "feedback rows evaluated",
    "top1": "best candidate is the expected request",
    "recall_at_5": "expected request among the first 5",
    "mrr": "mean reciprocal rank of the expected request",
    "auto_precision": "auto-attached rows attached to the expected request",
    "auto_coverage": "rows with an expected request that were auto-attached",
    "approval_share": "rows sent to a person for approval",
    "new_precision": "'create new' rows that really had no request",
    "new_recall": "rows with no request that went to 'create new'",
    "auroc_new": "best confidence separating 'has a request' from 'has none'",
}


def embedder_or_exit(settings: Settings) -> Embedder:
    """The configured embedder, or exit 1 saying why it is unavailable."""
    try:
        return get_embedder(settings)
    except EmbeddingError as exc:
        errors.print(f"[red]Embedding model unavailable:[/] {exc}")
        raise typer.Exit(1) from exc


def sync_with_progress(settings: Settings, batch_size: int = 256) -> tuple[int, int]:
    """Embed every request and feedback item whose vector is missing or stale, in batches."""
    embedder = embedder_or_exit(settings)
    url = settings.app_database_url
    with session_scope(url) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
    with progress_bar() as progress:
        task = progress.add_task(f"Embedding ({embedder.model_id})", total=todo.total)
        for kind, ids in (("requests", todo.requests), ("feedback", todo.feedback)):
            for start in range(0, len(ids), batch_size):
                batch = ids[start : start + batch_size]  # one commit per batch: resumable
                embeddings.embed_batch(url, embedder, kind, batch)
                progress.advance(task, len(batch))
    console.print(
        f"Embedded {len(todo.requests)} request(s) and {len(todo.feedback)} feedback item(s)."
    )
    return len(todo.requests), len(todo.feedback)


@embeddings_app.command("sync")
def sync_command(
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Rows per commit.")] = 256,
) -> None:
    """Embed requests and feedback whose vector is missing, stale, or of another model."""
    settings = cli_settings()
    migrations.upgrade(settings.app_database_url)
    sync_with_progress(settings, batch_size)


@embeddings_app.command("status")
def status_command() -> None:
    """How many requests have a vector of the configured model, and how many need one."""
    settings = cli_settings()
    require_current_schema(settings)
    embedder = embedder_or_exit(settings)
    with session_scope(settings.app_database_url) as session:
        done, total = embeddings.coverage(session=session, model_id=embedder.model_id)
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
    console.print(f"model:    {embedder.model_id}")
    console.print(f"requests: {done} of {total} embedded")
    console.print(f"pending:  {len(todo.requests)} request(s), {len(todo.feedback)} feedback")


@embeddings_app.callback()
def _embeddings() -> None:
    """Run ``gtm-feedback embeddings COMMAND --help`` for a command's options."""


def match_command(
    pain: Annotated[str, typer.Argument(help="The customer pain, in their words.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the requests a customer pain would match, with confidence, reason and tier."""
    settings = cli_settings()
    if not pain.strip():
        errors.print("[red]The customer pain is empty.[/]")
        raise typer.Exit(2)
    require_current_schema(settings)
    embedder = embedder_or_exit(settings)
    with session_scope(settings.app_database_url) as session:
        config = search.match_config(settings, embedder.model_id, session)
        result = search.find_candidates(
            session=session, embedder=embedder, pain=pain, config=config
        )
    if as_json:
        candidates = [c.as_dict() for c in result.candidates]
        typer.echo(json.dumps({"tier": result.tier.value, "candidates": candidates}))
        return
    table = Table("confidence", "request", "reason", title=f"Tier: {result.tier.value}")
    for candidate in result.candidates:
        table.add_row(f"{candidate.confidence:.2f}", candidate.title, candidate.reason)
    console.print(table if result.candidates else "No requests are embedded yet.")


def eval_matching(
    requests: Annotated[Path, typer.Option(help="CSV: id,title,description.")],
    feedback: Annotated[Path, typer.Option(help="CSV: text,expected_request_id (empty = new).")],
    linked: Annotated[
        Path | None, typer.Option(help="CSV: request_id,text — feedback already linked.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    auto_threshold: Annotated[
        float | None, typer.Option(min=0, max=1, help="Default: GTMFB_MATCH_AUTO_THRESHOLD.")
    ] = None,
    approval_threshold: Annotated[
        float | None, typer.Option(min=0, max=1, help="Default: GTMFB_MATCH_APPROVAL_THRESHOLD.")
    ] = None,
    lexical_weight: Annotated[
        float | None, typer.Option(min=0, max=1, help="Default: GTMFB_MATCH_LEXICAL_WEIGHT.")
    ] = None,
    fit: Annotated[
        bool, typer.Option("--fit", help="Fit the confidence calibration to these rows instead.")
    ] = False,
    learn_from: Annotated[
        Path | None,
        typer.Option(
            help="CSV like --feedback: labelled rows standing in for past decisions; refit "
            "from them as the server does, then evaluate --feedback with the result."
        ),
    ] = None,
) -> None:
    """Measure matching on your own exported data, to check or tune the thresholds."""
    settings = cli_settings()
    if fit and as_json:
        errors.print("[red]--fit prints a table and settings; use it without --json.[/]")
        raise typer.Exit(2)
    options = (
        ("match_auto_threshold", auto_threshold),
        ("match_approval_threshold", approval_threshold),
        ("match_lexical_weight", lexical_weight),
    )
    settings = settings.model_copy(update={k: v for k, v in options if v is not None})
    embedder = embedder_or_exit(settings)
    try:
        data = load_eval_data(requests, feedback, linked)
        config = replace(search.offline_config(settings, embedder.model_id), k=10)
        past = load_eval_data(requests, learn_from, linked) if learn_from else None
    except (EvalInputError, ValueError) as exc:
        errors.print(f"[red]Cannot evaluate:[/]\n{exc}")
        raise typer.Exit(2) from exc
    if past is not None:
        config = _learnt(past, embedder, config, settings, quiet=as_json)
    if fit:
        _fit(data, embedder, config)
        return
    if as_json:
        report = run_eval(data, embedder, config)
        typer.echo(json.dumps(report.as_dict()))
        return
    with progress_bar() as progress:
        task = progress.add_task("Matching", total=len(data.feedback))
        report = run_eval(data, embedder, config, lambda n: progress.advance(task, n))
    _print_eval(report, config.thresholds)


def _learnt(
    past: EvalData, embedder: Embedder, config: MatchConfig, settings: Settings, *, quiet: bool
) -> MatchConfig:
    if quiet:
        learnt, proposal = learn_config(past, embedder, config, policy(settings))
    else:
        with progress_bar() as progress:
            task = progress.add_task("Learning from past decisions", total=len(past.feedback))
            learnt, proposal = learn_config(
                past, embedder, config, policy(settings), lambda n: progress.advance(task, n)
            )
    if proposal is None:
        errors.print(
            f"[red]Cannot learn:[/] {len(past.feedback)} row(s) in --learn-from; a refit needs "
            f"{settings.match_min_decisions} (GTMFB_MATCH_MIN_DECISIONS)."
        )
        raise typer.Exit(2)
    if not quiet:
        console.print(
            f"Learnt from {proposal.decisions} decisions ({proposal.held_back} held back): "
            f"{proposal.note}"
        )
    return learnt


def _fit(data: EvalData, embedder: Embedder, config: MatchConfig) -> None:
    with progress_bar() as progress:
        task = progress.add_task("Matching", total=len(data.feedback))
        results = match_all(data, embedder, config, lambda n: progress.advance(task, n))
    observed = [
        seen
        for result, (_, expected) in zip(results, data.feedback, strict=True)
        if (seen := tuning.observe(result, expected)) is not None
    ]
    if len({o.right for o in observed}) < 2:
        errors.print("[red]Cannot fit:[/] need rows matched both right and wrong.")
        raise typer.Exit(2)
    calibration = tuning.fit(embedder.model_id, observed)
    table = Table(
        "threshold",
        "precision ≥",
        "coverage ≥",
        "new recall <",
        "known rows <",
        title="Rows at or above (≥) and below (<) each confidence threshold",
        title_justify="left",
        caption="As the auto threshold, read ≥; as the approval threshold, read < "
        "(rows below it create a new request: 'known rows <' would be duplicates).",
    )
    for row in tuning.threshold_table(calibration, observed, [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98]):
        table.add_row(*(_fmt(v) for v in astuple(row)))
    console.print(table)
    suggested = tuning.suggest_auto_threshold(calibration, observed)
    console.print(
        "GTMFB_MATCH_CALIBRATION=" + ",".join(f"{v:.4f}" for v in calibration.coefficients)
    )
    if suggested is None:
        console.print(f"# no threshold reaches precision {tuning.TARGET_PRECISION} on these rows")
    else:
        console.print(f"GTMFB_MATCH_AUTO_THRESHOLD={suggested}")
    console.print(
        f"# fitted and measured on the same {len(observed)} rows: check on rows held back"
    )


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _print_eval(report: Report, thresholds: Thresholds) -> None:
    title = (
        f"Matching on {report.n} rows (auto ≥ {thresholds.auto}, approval ≥ {thresholds.approval})"
    )
    table = Table("metric", "value", "meaning", title=title, title_justify="left")
    for key, value in report.as_dict().items():
        shown = str(value) if key == "n" else _fmt(value)
        table.add_row(key, shown, _METRICS[key])
    console.print(table)
