"""Admission control: a burst waits its turn; past the line or the wait, 503 at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from gtm_feedback.errors import UnavailableError
from gtm_feedback.web.admission import Admission


def test_a_burst_waits_its_turn_and_every_request_is_admitted() -> None:
    admission = Admission(active=2, waiting=100, wait_s=30)
    running: list[int] = []
    peak = 0

    async def request() -> None:
        nonlocal peak
        await admission.enter()
        running.append(1)
        peak = max(peak, len(running))
        await asyncio.sleep(0.001)
        running.pop()
        admission.leave()

    async def burst() -> None:
        await asyncio.gather(*(request() for _ in range(50)))

    asyncio.run(burst())
    assert peak == 2


def test_past_the_line_the_answer_is_immediate() -> None:
    admission = Admission(active=1, waiting=0, wait_s=30)

    async def two() -> float:
        await admission.enter()  # holds the only slot
        started = time.monotonic()
        with pytest.raises(UnavailableError):
            await admission.enter()
        return time.monotonic() - started

    # Refused without waiting for the slot (a generous bound: the property is "no wait").
    assert asyncio.run(two()) < 5


def test_a_request_that_waits_too_long_is_refused() -> None:
    admission = Admission(active=1, waiting=10, wait_s=0.05)

    async def two() -> None:
        await admission.enter()
        with pytest.raises(UnavailableError):
            await admission.enter()
        admission.leave()
        await admission.enter()  # the slot came back: admitted again

    asyncio.run(two())
