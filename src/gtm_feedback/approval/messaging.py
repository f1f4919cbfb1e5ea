"""Slack Block Kit for decisions: Approve / Decline buttons, and the message once decided."""

from __future__ import annotations

from typing import Any

from gtm_feedback.text.markup import mrkdwn_escape

APPROVE = "approval_approve"
DECLINE = "approval_decline"
#: Ignoring a proposal from a reaction declines its approval, like Decline.
PROPOSAL_IGNORE = "proposal_ignore"

Blocks = list[dict[str, Any]]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def decision_blocks(text: str, token: str, *, yes: tuple[str, str], no: tuple[str, str]) -> Blocks:
    """``text`` with two buttons, each ``(label, action_id)``, carrying the approval token."""
    return [
        _section(text),
        {
            "type": "actions",
            "block_id": f"decision:{token[:40]}",
            "elements": [
                _button(yes[0], yes[1], token, "primary"),
                _button(no[0], no[1], token),
            ],
        },
    ]


def approval_blocks(text: str, token: str) -> Blocks:
    """A match to approve: Approve / Decline."""
    return decision_blocks(text, token, yes=("Approve", APPROVE), no=("Decline", DECLINE))


def decided_blocks(text: str, outcome: str, slack_user_id: str | None, who: str) -> Blocks:
    """The original text, its buttons replaced by the outcome and who decided."""
    by = f"<@{slack_user_id}>" if slack_user_id else mrkdwn_escape(who)
    return [
        _section(text),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{outcome}* by {by}"}]},
    ]
