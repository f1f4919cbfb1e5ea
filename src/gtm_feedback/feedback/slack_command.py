"""``/feedback``: open the Add Feedback modal, or search requests privately.

``/feedback`` opens the modal; ``/feedback TEXT`` opens it with the pain filled in;
``/feedback search TEXT`` answers only the person, at once, with the requests that text would
match (title, ARR, status, confidence, link): a search reads, so it runs in the handler.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from gtm_feedback.feature_request import lookup
from gtm_feedback.feedback.messaging import feedback_modal
from gtm_feedback.feedback.slack import open_view
from gtm_feedback.text.formats import money
from gtm_feedback.text.markup import clip, mrkdwn_escape

USAGE = (
    "`/feedback` adds customer feedback (a form opens). `/feedback TEXT` starts it with TEXT. "
    "`/feedback search TEXT` shows the requests TEXT matches, only to you."
)
#: Matches listed for a search.
SHOWN = 5


def on_feedback(ack: Ack, command: dict[str, Any]) -> None:
    """Dispatch on the text: nothing or a pain opens the modal; ``search …`` answers."""
    text = (command.get("text") or "").strip()
    word, _, rest = text.partition(" ")
    if word.lower() == "help":
        ack(USAGE)
    elif word.lower() == "search":
        ack(_search(rest.strip()) if rest.strip() else f"What should I search for? {USAGE}")
    else:
        ack()
        open_view(command["trigger_id"], feedback_modal(pain=clip(text, 3000)))


def _search(text: str) -> str:
    found = lookup.matching_requests(text, limit=SHOWN)
    if not found:
        return f"No request matches “{mrkdwn_escape(clip(text, 80))}” yet."
    lines = [
        f"• <{hit.url}|{mrkdwn_escape(hit.title)}> — {money(hit.arr)} ARR · {hit.status.value} · "
        f"{hit.confidence:.0%} match"
        for hit in found
    ]
    heading = f"Requests matching “{mrkdwn_escape(clip(text, 80))}”:"
    return "\n".join([heading, *lines])
