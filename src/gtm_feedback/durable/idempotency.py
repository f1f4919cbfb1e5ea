"""Idempotency keys: one run per (endpoint, key), and a key reused with another body refused.

Like Stripe's: a client retries with the same key and gets the same run; the same key with a
different body is a client bug, answered 409 rather than silently running the first body.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from dbos import DBOS

from gtm_feedback.errors import ConflictError


def scoped(key: str | None, client: str) -> str | None:
    """``key`` as ``client``'s own: two clients choosing the same key never share a run."""
    return None if key is None else f"{client}\n{key}"


def run_id_for(endpoint: str, key: str | None) -> str:
    """A reachable run id for ``key`` on ``endpoint`` (any key: slashes, spaces, emoji), or a
    fresh one without a key. The key is hashed with the endpoint, so keys are scoped per
    endpoint and the id is always safe in a URL."""
    if key is None:
        return f"{endpoint}-{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{endpoint}\n{key}".encode()).hexdigest()[:24]
    return f"{endpoint}-{digest}"


def check_same_input(run_id: str, key: str | None, *args: Any) -> None:
    """Refuse (409) when ``run_id`` was started earlier with other arguments than ``args``
    (nothing to check without an idempotency ``key``: the run id was new).

    Call it after starting: DBOS keeps the first run of an id, so comparing what it recorded
    with what this request asked for is race-free however many requests share the key.
    """
    if key is None:
        return
    found = DBOS.list_workflows(workflow_ids=[run_id], load_input=True, load_output=False)
    if not found or found[0].input is None:
        return
    recorded = tuple(found[0].input["args"])
    if recorded != args:
        raise ConflictError(
            "this Idempotency-Key was used before with a different body; "
            "use a new key for a new request"
        )
