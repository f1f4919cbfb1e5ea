"""The adapters container: what workflow steps use to reach the outside (messages, agents).

Built once per process when DBOS launches (``runtime.launch`` calls ``runtime.build_adapters``);
tests swap in their own with :func:`use`. Steps never build clients themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from slack_sdk import WebClient

from gtm_feedback.config import Settings
from gtm_feedback.integrations.ai.runner import AgentRunner
from gtm_feedback.integrations.messaging.base import Messenger


@dataclass(frozen=True)
class Adapters:
    """Settings and the outbound clients of this process."""

    settings: Settings
    messenger: Messenger
    agents: AgentRunner
    #: The Slack Web API client; None when no bot token is configured (messages: the outbox).
    slack: WebClient | None = None


_lock = threading.Lock()
_current: Adapters | None = None


def install(adapters: Adapters) -> None:
    """Make ``adapters`` the process's adapters."""
    global _current
    with _lock:
        _current = adapters


def current() -> Adapters:
    """The process's adapters; DBOS must have been launched through ``runtime.launch``."""
    if _current is None:
        raise RuntimeError("adapters are not installed: launch through gtm_feedback.runtime")
    return _current


@contextmanager
def use(adapters: Adapters) -> Iterator[Adapters]:
    """Swap the adapters for the block (tests)."""
    previous = _current
    install(adapters)
    try:
        yield adapters
    finally:
        if previous is not None:
            install(previous)
