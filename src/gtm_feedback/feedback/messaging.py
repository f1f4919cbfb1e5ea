"""Slack views and messages of feedback intake: the Add Feedback modal and the proposal."""

from __future__ import annotations

import json
from typing import Any

from gtm_feedback.approval.messaging import PROPOSAL_IGNORE, Blocks, decision_blocks
from gtm_feedback.feedback.models import SEVERITY_LABELS, Severity
from gtm_feedback.text.markup import clip, mrkdwn_escape

SHORTCUT = "add_feedback"
MODAL = "add_feedback_modal"
PROPOSAL_ADD = "proposal_add"
#: Block ids of the modal's inputs, named after the submission fields they fill.
FIELDS = ("severity", "account_id", "opportunity_id", "blocks_deal", "pain", "links")


def _input(
    block_id: str, label: str, element: dict[str, Any], optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }


def _text(initial: str = "", multiline: bool = False, hint: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    if hint:
        element["placeholder"] = {"type": "plain_text", "text": hint}
    return element


_BLOCKS_DEAL = {
    "type": "checkboxes",
    "options": [
        {
            "text": {"type": "plain_text", "text": "This blocks the deal"},
            "description": {
                "type": "plain_text",
                "text": "The opportunity will not close without it",
            },
            "value": "on",
        }
    ],
}


def feedback_modal(
    *, pain: str = "", account_id: str = "", metadata: dict[str, str] | None = None
) -> dict[str, Any]:
    """The Add Feedback modal (optionally prefilled, e.g. from a reaction's proposal)."""
    options = [
        {"text": {"type": "plain_text", "text": SEVERITY_LABELS[s]}, "value": s.value}
        for s in Severity
    ]
    blocks = [
        _input("severity", "Severity", {"type": "static_select", "options": options}),
        _input("account_id", "Account id (CRM)", _text(account_id, hint="e.g. 0015g00000AbCdE")),
        _input("opportunity_id", "Opportunity id", _text(), optional=True),
        _input("blocks_deal", "The deal", _BLOCKS_DEAL, optional=True),
        _input("pain", "Customer pain", _text(clip(pain, 2900), multiline=True)),
        _input("links", "Links (one per line)", _text(multiline=True), optional=True),
    ]
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": {"type": "plain_text", "text": "Add feedback"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata or {}),
        "blocks": blocks,
    }


def modal_values(state: dict[str, Any]) -> dict[str, str]:
    """The modal's submitted values by field name (empty string when left blank)."""
    values: dict[str, str] = {}
    for field in FIELDS:
        element = state.get("values", {}).get(field, {}).get("value", {})
        selected = element.get("selected_option") or {}
        ticked = ",".join(
            str(option.get("value")) for option in element.get("selected_options", [])
        )
        values[field] = str(selected.get("value") or element.get("value") or ticked).strip()
    return values


def proposal_blocks(pain: str, token: str) -> Blocks:
    """The proposal posted in the thread after a reaction: add it as feedback, or ignore."""
    text = f"Looks like customer feedback:\n>{mrkdwn_escape(clip(pain, 600))}"
    return decision_blocks(
        text, token, yes=("Add as feedback", PROPOSAL_ADD), no=("Ignore", PROPOSAL_IGNORE)
    )
