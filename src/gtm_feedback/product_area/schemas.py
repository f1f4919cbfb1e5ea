"""API shapes of product areas."""

from __future__ import annotations

from pydantic import BaseModel


class AreaOut(BaseModel):
    """A product area with its request counts and ship rate."""

    id: str
    name: str
    slug: str
    description: str
    firehose_channel: str | None
    open_requests: int
    shipped_requests: int
    deprioritized_requests: int
    ship_rate: int
