"""``gtm-feedback agents``: see what each agent produces with the current settings."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.ai_usage.ledger import SqlLedger
from gtm_feedback.cli.support import cli_settings, console, errors, require_current_schema
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import agents as request_agents
from gtm_feedback.feature_request import search
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feature_request.texts import request_texts
from gtm_feedback.feedback import agents as feedback_agents
from gtm_feedback.insight import agents as insight_agents
from gtm_feedback.insight import report as insight_report
from gtm_feedback.insight import workflows as insight_workflows
from gtm_feedback.integrations.ai.registry import build_runner
from gtm_feedback.integrations.ai.spec import AgentSpec
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import agents as learning_agents
from gtm_feedback.learning import checks
from gtm_feedback.product_area import service as areas
from gtm_feedback.user import agents as user_agents
from gtm_feedback.user.models import User

#: Every agent by name, from the domains that own them.
AGENTS: dict[str, AgentSpec[Any, Any]] = {
    spec.name: spec
    for spec in (
        request_agents.WRITER,
        request_agents.RELATED,
        feedback_agents.EXTRACT,
        feedback_agents.COMPOSE,
        user_agents.AGENT,
        insight_agents.AGENT,
        learning_agents.AGENT,
    )
}

agents_app = typer.Typer(help="The AI agents (offline by default, or GTMFB_LLM_BASE_URL).")


class AgentName(StrEnum):
    """Agents that can be tried."""

    request_writer = "request-writer"
    related = "related"
    slack_extract = "slack-extract"
    slack_compose = "slack-compose"
    identity = "identity"
    insights = "insights"
    match_check = "match-check"


Builder = Callable[[Session, Settings, str, feedback_agents.MessageKind], BaseModel]


def _areas(session: Session) -> list[request_agents.AreaOption]:
    return [
        request_agents.AreaOption(id=a.id, name=a.name, description=a.description or "")
        for a in areas.list_areas(session=session)
    ]


def _request_writer(session: Session, _s: Settings, text: str, _k: Any) -> BaseModel:
    return request_agents.RequestDraftInput(pain=text, areas=_areas(session))


def _related(session: Session, _s: Settings, text: str, _k: Any) -> BaseModel:
    rows = session.execute(
        select(FeatureRequest.id, FeatureRequest.title, FeatureRequest.description).limit(500)
    )
    options = [
        request_agents.RequestOption(id=r.id, title=r.title, description=r.description)
        for r in rows
    ]
    return request_agents.RelatedInput(title=text, candidates=options)


def _extract(_session: Session, _s: Settings, text: str, _k: Any) -> BaseModel:
    # A line "---" separates the messages of a thread (root first).
    messages = [part for part in text.split("\n---\n") if part.strip()] or [text]
    return feedback_agents.ExtractInput(messages=messages)


def _compose(session: Session, settings: Settings, text: str, kind: Any) -> BaseModel:
    request = session.scalars(select(FeatureRequest).order_by(FeatureRequest.slug)).first()
    if request is None:
        raise typer.BadParameter("there is no request yet: run `gtm-feedback init`")
    url = f"{settings.base_url}/requests/{request.slug}"
    return feedback_agents.ComposeInput(
        kind=kind, request_title=request.title, request_url=url, pain=text, confidence=0.9
    )


def _identity(session: Session, _s: Settings, text: str, _k: Any) -> BaseModel:
    users = [
        user_agents.UserOption(id=u.id, email=u.email, name=u.name or "")
        for u in session.scalars(select(User))
    ]
    return user_agents.IdentityInput(email=text, users=users)


def _insights(session: Session, settings: Settings, text: str, _k: Any) -> BaseModel:
    area = areas.get_by_slug(session=session, slug=text.strip())
    if area is None:
        raise typer.BadParameter(f"no product area with slug {text!r}")
    prepared = insight_workflows.prepare(session, settings, area)
    return insight_report.brief(prepared.figures, insight_workflows.themes_of(prepared))


def _match_check(session: Session, settings: Settings, text: str, _k: Any) -> BaseModel:
    embedder = get_embedder(settings)
    config = search.match_config(settings, embedder.model_id, session)
    ranked = search.find_candidates(session=session, embedder=embedder, pain=text, config=config)
    ids = [c.request_id for c in ranked.candidates]
    if not ids:
        raise typer.BadParameter("no embedded request to check: run `gtm-feedback embeddings sync`")
    return checks.question(text, ids, request_texts(session=session, ids=ids))


BUILDERS: dict[AgentName, Builder] = {
    AgentName.request_writer: _request_writer,
    AgentName.related: _related,
    AgentName.slack_extract: _extract,
    AgentName.slack_compose: _compose,
    AgentName.identity: _identity,
    AgentName.insights: _insights,
    AgentName.match_check: _match_check,
}
_TEXT_HELP = (
    "request-writer: a customer pain · related: a new request's title · slack-extract: a "
    "message (a line '---' separates thread messages) · slack-compose: the pain to quote · "
    "identity: an email · insights: an area slug · match-check: a customer pain"
)


@agents_app.command("try")
def try_agent(
    agent: Annotated[AgentName, typer.Argument(help="Which agent.")],
    text: Annotated[str, typer.Argument(help=_TEXT_HELP)],
    kind: Annotated[
        feedback_agents.MessageKind, typer.Option(help="slack-compose: the kind of message.")
    ] = feedback_agents.MessageKind.APPROVAL_REQUEST,
) -> None:
    """Run one agent on TEXT with the data in the database, and show its output."""
    settings = cli_settings()
    if agent is not AgentName.slack_extract:  # the only agent that reads nothing stored
        require_current_schema(settings)
    try:
        with session_scope(settings.app_database_url) as session:
            data = BUILDERS[agent](session, settings, text, kind)
    except ValidationError as exc:
        errors.print(f"[red]Invalid input:[/] {exc}")
        raise typer.Exit(2) from exc
    ledger = SqlLedger(settings.app_database_url)  # a tried call costs like any other
    result = build_runner(settings, ledger).run(AGENTS[agent.value], data)
    ledger.flush()
    console.print_json(result.output.model_dump_json())
    usage = result.usage
    note = f"; fell back: {result.fallback_reason}" if result.fallback_reason else ""
    console.print(
        f"engine: {result.engine} ({result.prompt_version}), attempts: {result.attempts}, "
        f"tokens: {usage.prompt_tokens} in / {usage.completion_tokens} out{note}"
    )


@agents_app.command("list")
def list_agents() -> None:
    """The agents and their prompt versions."""
    for spec in AGENTS.values():
        console.print(f"{spec.name:20s} {spec.version}")
