"""Slack writer: extract the pain from a message or thread; compose the product's messages."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field

from gtm_feedback.integrations.ai.schemas import AgentModel
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools
from gtm_feedback.text.markup import clip, mrkdwn_escape, sentences, strip_noise


class ExtractInput(AgentModel):
    """A Slack message, or a thread with its root first."""

    messages: list[str] = Field(min_length=1)


class Extraction(AgentModel):
    """The customer pain in a message, without greetings, signatures or quoted noise."""

    pain: str
    summary: str = Field(max_length=150)
    is_customer_specific: bool


class MessageKind(StrEnum):
    """The messages the product sends."""

    MATCH_CONFIRMATION = "match_confirmation"
    APPROVAL_REQUEST = "approval_request"
    PROPOSAL = "proposal"
    CREATED = "created"
    SHIPPED = "shipped"
    FOLLOW_UP = "follow_up"
    MERGED = "merged"


class ComposeInput(AgentModel):
    """What a message is about; links are absolute URLs."""

    kind: MessageKind
    request_title: str
    request_url: str
    pain: str = ""
    account_name: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    recipient_name: str | None = None


class Composed(AgentModel):
    """A short, friendly Slack mrkdwn text."""

    text: str = Field(min_length=1, max_length=3000)


EXTRACT_VERSION = "slack-extract/1"
EXTRACT_INSTRUCTIONS = """
From a Slack message or thread (root first), extract the customer's pain in their words, without
greetings, signatures, quoted earlier messages or chatter.
- pain: the problem, up to a few sentences. summary: one line of at most 150 characters.
- is_customer_specific: true when it is about a named or particular customer, account or deal.
"""
COMPOSE_VERSION = "slack-compose/2"
COMPOSE_INSTRUCTIONS = """
Write one short, friendly Slack message (mrkdwn) of the given kind. Link the request exactly as
<request_url|request_title>. No more than three sentences; no emoji walls; never invent figures.
Kinds: match_confirmation (feedback was attached), approval_request (ask the person to confirm the
match), proposal (suggest turning a thread into feedback), created (a new request was made),
shipped (a followed request shipped), follow_up (a new request still has no feedback), merged
(the request in pain was merged into the linked one, which the person now follows).
"""
_CUSTOMER = re.compile(
    r"\b(?:customer|client|prospect|account|deal|renewal|their|they|champion|"
    r"[A-Z][a-zA-Z]+ (?:Inc|Corp|Ltd|GmbH|LLC|SA|AG)\b)",
)


def extract(data: ExtractInput, _tools: Tools) -> Extraction:
    """Clean each message; keep the root and replies that add something."""
    parts = [strip_noise(message) for message in data.messages]
    pain = clip(" ".join(_sentence(part) for part in parts if part), 2000)
    first = (sentences(pain) or [""])[0]
    return Extraction(
        pain=pain,
        summary=clip(first, 150),
        is_customer_specific=bool(_CUSTOMER.search(pain)),
    )


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def compose(data: ComposeInput, _tools: Tools) -> Composed:
    """A template per kind; user-written text is escaped so it cannot form links or mentions."""
    link = f"<{data.request_url}|{mrkdwn_escape(clip(data.request_title, 120))}>"
    account = f" from *{mrkdwn_escape(data.account_name)}*" if data.account_name else ""
    hello = f"Hi {mrkdwn_escape(data.recipient_name)}! " if data.recipient_name else ""
    quoted = f"\n>{mrkdwn_escape(clip(data.pain, 280))}" if data.pain.strip() else ""
    sure = f" ({data.confidence:.0%} match)" if data.confidence is not None else ""
    texts = {
        MessageKind.MATCH_CONFIRMATION: f"{hello}Thanks! I added your feedback{account} to "
        f"{link}{sure}. You now follow it and will hear when it ships.",
        MessageKind.APPROVAL_REQUEST: f"{hello}I think this feedback{account} belongs to "
        f"{link}{sure}:{quoted}\nIs that right? Approve to attach it, or decline and I will "
        "create a new request.",
        MessageKind.PROPOSAL: f"{hello}This looks like customer feedback{account}:{quoted}\n"
        f"It matches {link}{sure}. Approve to add it, or ignore.",
        MessageKind.CREATED: f"{hello}Nothing existing fit, so I created {link} from your "
        f"feedback{account}. You follow it and will hear when it ships.",
        MessageKind.SHIPPED: f"{hello}Good news: {link} has shipped! You followed it"
        f"{' for ' + account.removeprefix(' from ') if account else ''}; "
        "time to tell the customer.",
        MessageKind.FOLLOW_UP: f"{hello}{link} has no customer feedback yet. When another "
        "customer mentions it, add their feedback so it ranks by ARR.",
        MessageKind.MERGED: f"{hello}*{mrkdwn_escape(clip(data.pain, 120))}* asked for the "
        f"same thing as {link}, so the two are now one: its feedback and followers moved "
        "there. You follow it and will hear when it ships.",
    }
    return Composed(text=texts[data.kind])


def check_compose(data: ComposeInput, output: Composed) -> None:
    """The message must link the request."""
    if data.request_url not in output.text:
        raise ValueError(f"the message must link the request as <{data.request_url}|title>")


EXTRACT = AgentSpec(
    "slack-extract", EXTRACT_VERSION, EXTRACT_INSTRUCTIONS, ExtractInput, Extraction, extract
)
COMPOSE = AgentSpec(
    "slack-compose",
    COMPOSE_VERSION,
    COMPOSE_INSTRUCTIONS,
    ComposeInput,
    Composed,
    compose,
    check_compose,
)
