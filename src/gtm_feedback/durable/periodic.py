"""A check a process runs on a daemon thread every few seconds until it stops."""

from __future__ import annotations

import threading
from typing import Any

from gtm_feedback.logging import get_logger

log = get_logger(__name__)


class Periodic:
    """Calls :meth:`check` at start, then every ``every`` seconds until :meth:`stop`.

    A check that fails (a busy or briefly absent database) is logged and the next one tries
    again: what it looks at lives in the database, so nothing is lost meanwhile.
    """

    def __init__(self, name: str, every: float) -> None:
        self._name = name
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gtmfb-{name}", daemon=True)

    def check(self) -> Any:
        """One look; subclasses say what it does."""
        raise NotImplementedError

    def start(self) -> None:
        """Check now, then every ``every`` seconds until stopped."""
        self._thread.start()

    def stop(self) -> None:
        """Stop checking (what a check started goes on)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as error:
                log.warning(f"{self._name}.check_failed", error=str(error))
            self._stop.wait(self._every)
