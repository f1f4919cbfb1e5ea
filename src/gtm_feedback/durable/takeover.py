"""The lease keeper: renews this process's lease and, in a worker, takes over dead ones' runs.

A takeover hands the dead executor's PENDING runs back to the queues through DBOS's own
recovery (a run re-enqueued there is claimed by exactly one live process, and its checkpoints
are fenced by owner, so a slow holder that comes back cannot record over the new one). The
lease row is locked and deleted in the same transaction, so of several live workers exactly
one takes a given dead executor over, once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable import executors
from gtm_feedback.durable.executors import Identity
from gtm_feedback.logging import get_logger

log = get_logger(__name__)

#: Hands an executor's PENDING runs back to the queues; returns how many.
Recover = Callable[[str], int]

#: Heartbeats per lease: a holder may miss a few (a busy machine, a slow query) and keep it.
BEATS_PER_LEASE = 6


class LeaseKeeper:
    """Holds this process's lease while it runs; ``recover`` given: also takes over others."""

    def __init__(self, url: str, me: Identity, lease: float, recover: Recover | None) -> None:
        self.url, self.me, self.lease, self.recover = url, me, lease, recover
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Since when (monotonic) every heartbeat of this process succeeded; None after a
        #: failure. Others are judged only after a whole lease of our own good health: after
        #: a database outage every lease looks stale, and the holders need a lease to renew.
        self._healthy_since: float | None = None
        self.taken_over: list[tuple[str, int]] = []

    def claim(self) -> None:
        """Take the lease (before DBOS launches and recovers this executor's own runs)."""
        executors.claim(self.url, self.me, self.lease)
        self._healthy_since = time.monotonic()

    def start(self) -> None:
        """Renew the lease in the background (after DBOS launched: takeovers need it)."""
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing and give the lease up, so others may take over what still waits."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            executors.release(self.url, self.me)
        except Exception as error:  # the database may be what is going away
            log.warning("executor.release_failed", error=str(error))

    def _run(self) -> None:
        while not self._stop.wait(self.lease / BEATS_PER_LEASE):
            self.tick()

    def tick(self) -> None:
        """One heartbeat, then (a worker in good health for a lease) one round of takeovers."""
        try:
            if not executors.beat(self.url, self.me, self.lease):
                log.warning("executor.lease_lost", executor_id=self.me.executor_id)
            if self._healthy_since is None:
                self._healthy_since = time.monotonic()
            if self.recover is not None and self._healthy_for_a_lease():
                self.take_over_expired()
        except Exception as error:
            self._healthy_since = None
            log.warning("executor.heartbeat_failed", error=str(error))

    def _healthy_for_a_lease(self) -> bool:
        since = self._healthy_since
        return since is not None and time.monotonic() - since >= self.lease

    def take_over_expired(self) -> None:
        """Take over every executor whose lease ran out (each by exactly one process)."""
        assert self.recover is not None
        for dead in executors.expired(self.url, self.lease):
            if dead == self.me.executor_id:
                continue
            with session_scope(self.url, write=True) as session:
                if not executors.forget(session, dead, self.lease):
                    continue  # renewed, or another worker took it first
                runs = self.recover(dead)
            self.taken_over.append((dead, runs))
            log.warning("executor.taken_over", dead=dead, runs=runs, by=self.me.executor_id)
