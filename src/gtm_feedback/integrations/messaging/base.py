"""The messaging adapter every workflow sends through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class Delivery:
    """Where a message went, and whether this call sent it (False: an earlier call had)."""

    via: Literal["outbox", "slack"]
    message_id: str
    sent_now: bool


class Messenger(Protocol):
    """Sends a message once per idempotency key, to a user (a DM) or a channel."""

    def send(
        self,
        *,
        key: str,
        kind: str,
        text: str,
        recipient_user_id: str | None = None,
        channel: str | None = None,
        blocks: Blocks | None = None,
    ) -> Delivery:
        """Deliver, or return the earlier delivery of the same ``key``.

        ``blocks`` (Slack Block Kit: buttons) are used where the medium shows them; ``text``
        always says the same on its own (notifications, the outbox).
        """
        ...
