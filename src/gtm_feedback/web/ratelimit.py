"""Per-client rate limits on the intake endpoints, with the `limits` library.

A client over its rate gets 429 with ``Retry-After`` (seconds until its window frees a slot)
and nothing is written. Clients are told apart by the user they act as (a person or a token's
user), else by address; the counts live in this process (a moving window in memory).
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from gtm_feedback.errors import RateLimitedError


class RateLimit:
    """One rate (e.g. ``120/minute``) per client, or none when the rate is ``off``."""

    def __init__(self, rate: str) -> None:
        self._item: RateLimitItem | None = None if rate == "off" else parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> None:
        """Count one request of ``client``; raise ``RateLimitedError`` when over the rate."""
        if self._item is None or self._limiter.hit(self._item, client):
            return
        self._refuse(client)

    def check_room(self, client: str) -> None:
        """Raise ``RateLimitedError`` if ``client`` has used its rate, without counting."""
        if self._item is not None and not self._limiter.test(self._item, client):
            self._refuse(client)

    def count(self, client: str) -> None:
        """Count one event of ``client`` (e.g. a failed sign-in) against its rate."""
        if self._item is not None:
            self._limiter.hit(self._item, client)

    def _refuse(self, client: str) -> None:
        assert self._item is not None
        reset = self._limiter.get_window_stats(self._item, client).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise RateLimitedError(f"over the limit of {self._item}; retry in {wait} s", wait)


def client_key(user_id: str) -> str:
    """The key a user's requests count against, whichever door they come through."""
    return f"user:{user_id}"


def client_of(request: Request) -> str:
    """Who a request counts against: its signed-in user or token's user, else its address."""
    who = getattr(request.state, "principal", None)
    user_id = getattr(who, "user_id", None)
    if isinstance(user_id, str):
        return client_key(user_id)
    return f"address:{request.client.host if request.client else 'unknown'}"


def rate_limited(request: Request) -> None:
    """A dependency: count the request against its client's rate (declare it after the role)."""
    limit: RateLimit = request.app.state.rate_limit
    limit.check(client_of(request))
