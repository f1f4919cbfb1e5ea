"""Admission control for the intake endpoints: accept a burst, shed a flood at once.

Each accepted request is one durable enqueue (an insert), so a burst of hundreds is taken,
``active`` at a time, the rest waiting their turn without holding a thread or a database
connection. Past ``waiting`` requests in line, or after ``wait_s`` in line, the answer is 503
with ``Retry-After`` at once and nothing is written: the client retries with its
Idempotency-Key, and nothing it was told was accepted is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, Request

from gtm_feedback.errors import UnavailableError
from gtm_feedback.web.ratelimit import rate_limited


@dataclass
class Admission:
    """How many intake requests run at once, may wait in line, and for how long."""

    active: int
    waiting: int
    wait_s: float
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)
    _in_line: int = field(default=0, init=False, repr=False)

    def slots(self) -> asyncio.Semaphore:
        """The semaphore, made on first use inside the server's event loop."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.active)
        return self._slots

    async def enter(self) -> None:
        """Wait for a slot, or raise ``UnavailableError`` when the line is full or too slow."""
        if self.slots().locked() and self._in_line >= self.waiting:
            raise UnavailableError("too many requests are waiting; try again in a moment")
        self._in_line += 1
        try:
            await asyncio.wait_for(self.slots().acquire(), timeout=self.wait_s)
        except TimeoutError as exc:
            raise UnavailableError("the server is busy; try again in a moment") from exc
        finally:
            self._in_line -= 1

    def leave(self) -> None:
        """Give the slot back."""
        self.slots().release()


async def admitted(request: Request) -> AsyncIterator[None]:
    """A dependency: the request holds an intake slot while its handler runs."""
    admission: Admission = request.app.state.admission
    await admission.enter()
    try:
        yield
    finally:
        admission.leave()


#: The dependencies of an intake route: the client's rate, then a slot (released before the
#: answer is sent).
INTAKE = [Depends(rate_limited), Depends(admitted, scope="function")]

#: What an intake route may answer besides 202 and 422 (for the OpenAPI schema).
INTAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "Idempotency-Key used before with another body"},
    429: {"description": "Over the client's rate (see Retry-After); nothing was done"},
    503: {"description": "No room now (see Retry-After); nothing was done"},
}
