"""Steps about users that workflows share: who a Slack user is in the app."""

from __future__ import annotations

from dbos import DBOS
from slack_sdk.errors import SlackApiError

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.retry import retry_unless_permanent
from gtm_feedback.errors import PermanentError
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.slack.client import error_code, is_permanent
from gtm_feedback.user import agents as identity
from gtm_feedback.user import service
from gtm_feedback.user.agents import IdentityInput, UserOption


def _profile(slack_user_id: str) -> tuple[str, str]:
    """The Slack user's email and name (``users.info``; needs the ``users:read.email`` scope)."""
    client = adapters.current().slack
    if client is None:
        # Inbound Slack without a bot token: nobody to ask; a stable placeholder address.
        return f"{slack_user_id.lower()}@users.slack.invalid", slack_user_id
    try:
        user = client.users_info(user=slack_user_id)["user"]
    except SlackApiError as exc:
        if is_permanent(exc):
            raise PermanentError(f"Slack user {slack_user_id}: {error_code(exc)}") from exc
        raise
    profile = user.get("profile", {})
    email = profile.get("email") or f"{slack_user_id.lower()}@users.slack.invalid"
    name = profile.get("real_name") or user.get("real_name") or user.get("name") or ""
    return str(email), str(name)


@DBOS.step(
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=1.0,
    backoff_rate=2.0,
    should_retry=retry_unless_permanent,
)
def resolve_slack_user_step(slack_user_id: str) -> str:
    """The app user's email for a Slack user: linked before, found by the identity agent
    (aliases, name variants), or created; the Slack id is linked for next time."""
    found = adapters.current()
    with session_scope(found.settings.app_database_url) as session:
        linked = service.by_slack_id(session=session, slack_user_id=slack_user_id)
        if linked is not None:
            return linked.email
    email, name = _profile(slack_user_id)
    with session_scope(found.settings.app_database_url, write=True) as session:
        known = [
            UserOption(id=u.id, email=u.email, name=u.name)
            for u in service.without_slack(session=session, limit=5000)
        ]
        match = found.agents.run(identity.AGENT, IdentityInput(email=email, users=known)).output
        user = service.link_slack(
            session, slack_user_id=slack_user_id, user_id=match.user_id, email=email, name=name
        )
        return user.email
