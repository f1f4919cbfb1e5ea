"""Requests from Slack: ``/shipped <request url>``, and previews of the app's links."""

from __future__ import annotations

from dbos import DBOS
from pydantic import BaseModel, ConfigDict
from slack_sdk.webhook import WebhookClient

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.retry import DB_RETRY, OUTBOUND_RETRY
from gtm_feedback.errors import PermanentError
from gtm_feedback.feature_request import unfurl
from gtm_feedback.feature_request.workflows import MarkShippedInput, mark_shipped_workflow
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.slack.client import RETRY_HANDLERS, call_api
from gtm_feedback.user.workflows import resolve_slack_user_step


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShippedInput(_Model):
    """``/shipped``: the request's slug, who typed it, where to answer."""

    request: str
    slack_user_id: str
    response_url: str


class UnfurlInput(_Model):
    """A message with links to the app's pages."""

    channel: str
    message_ts: str
    links: list[str]


@DBOS.workflow()
def slack_shipped_workflow(data: ShippedInput) -> str:
    """Mark the request shipped as the Slack user, then answer in the channel."""
    email = resolve_slack_user_step(data.slack_user_id)
    try:
        result = mark_shipped_workflow(MarkShippedInput(request=data.request, shipped_by=email))
    except PermanentError as exc:
        text = f"Could not mark it shipped: {exc}."
    else:
        text = result.summary()
        if not result.already_shipped:
            text = f"<@{data.slack_user_id}> marked it shipped. {text}"
    respond_step(data.response_url, text)
    return text


@DBOS.step(**OUTBOUND_RETRY)
def respond_step(response_url: str, text: str) -> None:
    """Answer a slash command through its response URL (valid for 30 minutes)."""
    client = WebhookClient(response_url, timeout=15, retry_handlers=list(RETRY_HANDLERS))
    answer = client.send(text=text, response_type="in_channel")
    if answer.status_code >= 500:
        raise RuntimeError(f"response_url answered {answer.status_code}")
    if answer.status_code >= 400:
        raise PermanentError(f"response_url answered {answer.status_code}: {answer.body}")


@DBOS.workflow()
def slack_unfurl_workflow(data: UnfurlInput) -> int:
    """Preview the app's links in the message; title only in externally shared channels."""
    restricted = shared_externally_step(data.channel)
    previews = previews_step(data.links, restricted)
    if previews:
        unfurl_step(data.channel, data.message_ts, previews)
    return len(previews)


def _client_call(method: str, **kwargs: object) -> dict[str, object]:
    return call_api(adapters.current().slack, method, **kwargs)


@DBOS.step(**OUTBOUND_RETRY)
def shared_externally_step(channel: str) -> bool:
    """True when the channel is shared with another organisation (Slack Connect)."""
    info = _client_call("conversations_info", channel=channel).get("channel")
    if not isinstance(info, dict):
        return True  # unknown: the safe answer
    return bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))


@DBOS.step(**DB_RETRY)
def previews_step(links: list[str], restricted: bool) -> dict[str, dict[str, object]]:
    """The previews of the links that are the app's pages."""
    settings = adapters.current().settings
    found: dict[str, dict[str, object]] = {}
    with session_scope(settings.app_database_url) as session:
        for url in links:
            made = unfurl.preview(session, url, settings.base_url, restricted=restricted)
            if made is not None:
                found[url] = made
    return found


@DBOS.step(**OUTBOUND_RETRY)
def unfurl_step(channel: str, ts: str, previews: dict[str, dict[str, object]]) -> None:
    """Attach the previews to the message."""
    _client_call("chat_unfurl", channel=channel, ts=ts, unfurls=previews)
