"""Slack's three inbound URLs, served by a slack-bolt app inside the FastAPI app.

Bolt verifies every request's signature with the signing secret and refuses timestamps more
than five minutes old (401), answers Slack's URL verification, and acknowledges each request
as soon as its listener calls ``ack()``; the listeners enqueue workflows and never wait for
them. With no signing secret configured the URLs answer 503.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.authorization import AuthorizeResult

from gtm_feedback.approval import slack as approval_slack
from gtm_feedback.approval.messaging import APPROVE, DECLINE, PROPOSAL_IGNORE
from gtm_feedback.config import Settings
from gtm_feedback.feature_request import slack as request_slack
from gtm_feedback.feedback import slack as feedback_slack
from gtm_feedback.feedback import slack_command
from gtm_feedback.feedback.messaging import MODAL, PROPOSAL_ADD, SHORTCUT
from gtm_feedback.logging import get_logger
from gtm_feedback.user.access import PUBLIC

router = APIRouter(prefix="/slack", include_in_schema=False)
log = get_logger(__name__)


def _ignore(ack: Any) -> None:
    ack()


def build_bolt(settings: Settings) -> App | None:
    """The Bolt app with every listener, or None when no signing secret is configured."""
    if settings.slack_signing_secret is None:
        return None
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        # One workspace, one bot token: nothing to look up (and no auth.test call to Slack).
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        authorize=authorize,
        token_verification_enabled=False,
        process_before_response=False,
        logger=logging.getLogger("gtm_feedback.slack"),
    )
    app.shortcut(SHORTCUT)(feedback_slack.open_modal)
    app.view(MODAL)(feedback_slack.on_modal_submit)
    app.event("reaction_added")(feedback_slack.on_reaction)
    app.action(PROPOSAL_ADD)(feedback_slack.open_modal_from_proposal)
    for action_id in (APPROVE, DECLINE, PROPOSAL_IGNORE):
        app.action(action_id)(approval_slack.on_decision)
    app.command("/shipped")(request_slack.on_shipped)
    app.command("/feedback")(slack_command.on_feedback)
    app.event("link_shared")(request_slack.on_link_shared)
    for event in ("app_mention", "app_home_opened", "message", "reaction_removed"):
        app.event(event)(_ignore)
    return app


async def _dispatch(request: Request) -> Response:
    bolt: App | None = request.app.state.bolt
    if bolt is None:
        detail = "Slack is not configured: set GTMFB_SLACK_SIGNING_SECRET (docs/slack.md)"
        return JSONResponse({"detail": detail}, status_code=503)
    stamp = request.headers.get("x-slack-request-timestamp", "")
    if not stamp.isascii() or not stamp.isdigit():
        # Bolt would fail converting it (a 500 for anyone); unsigned in effect, so 401.
        return JSONResponse({"detail": "invalid request timestamp"}, status_code=401)
    body = await request.body()
    try:
        # Bolt is synchronous (signature check, then the listener until ack): off the loop.
        answer = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # Signed, but not a body Slack sends (e.g. a payload that is not a JSON object).
        log.warning("slack.malformed_body", path=request.url.path, error=str(exc)[:200])
        return JSONResponse({"detail": "malformed Slack request body"}, status_code=400)
    return to_starlette_response(answer)


@router.post("/events", dependencies=[PUBLIC])
async def events(request: Request) -> Response:
    """Events API: URL verification, reactions, link previews."""
    return await _dispatch(request)


@router.post("/interactions", dependencies=[PUBLIC])
async def interactions(request: Request) -> Response:
    """Buttons, the global shortcut and modal submissions."""
    return await _dispatch(request)


@router.post("/commands", dependencies=[PUBLIC])
async def commands(request: Request) -> Response:
    """Slash commands: ``/shipped``, ``/feedback``."""
    return await _dispatch(request)
