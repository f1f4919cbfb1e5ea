"""A durable sleep that a message can end (an operator's "now", a test's wake-up)."""

from __future__ import annotations

from dbos import DBOS

#: The topic a durable sleep listens on, and the event a sleeping run publishes.
WAKE_TOPIC = "wake-up"
SLEEP_EVENT = "sleeping"


def durable_sleep(seconds: float) -> bool:
    """Sleep durably (a restart sleeps only what is left), unless woken: True if woken early.

    ``DBOS.sleep`` blocks its thread in ``time.sleep``, which nothing can cut short. This waits
    for a message on :data:`WAKE_TOPIC` with the sleep as its timeout instead, so an operator
    ("send the follow-up now") or a test (:func:`wake_up`) can end it. While it sleeps, the
    run's :data:`SLEEP_EVENT` says for how long.
    """
    DBOS.set_event(SLEEP_EVENT, {"seconds": seconds})
    woken = DBOS.recv(WAKE_TOPIC, timeout_seconds=seconds)
    DBOS.set_event(SLEEP_EVENT, None)
    return woken is not None


def wake_up(run_id: str) -> None:
    """End the durable sleep of ``run_id`` now (or its next one, if it is not sleeping yet)."""
    DBOS.send(run_id, {"wake": True}, topic=WAKE_TOPIC)
