"""A process for the crash test: starts a workflow and is killed mid-sleep, or recovers it.

Usage: python tests/crash_worker.py DATA_DIR start|recover
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dbos import DBOS, SetWorkflowID

from gtm_feedback.config import Settings
from gtm_feedback.migrations import upgrade
from gtm_feedback.runtime import dbos_runtime

DATA_DIR = Path(sys.argv[1])
STEPS_LOG = DATA_DIR / "steps.log"


@DBOS.step()
def record(letter: str) -> None:
    """Append one letter: the log shows how many times each step really ran."""
    with STEPS_LOG.open("a") as handle:
        handle.write(letter)


@DBOS.workflow()
def crashable(seconds: float) -> str:
    """A step, a durable sleep (the process is killed during it), another step."""
    record("a")
    # A step returns only after DBOS checkpointed it: from here a kill must not repeat "a".
    # (Touching a file in a workflow body is harmless here: it is idempotent.)
    (DATA_DIR / "sleeping").touch()
    DBOS.sleep(seconds)
    record("b")
    return "done"


if __name__ == "__main__":
    # Same port and no explicit executor id in both runs: the default server executor id
    # must come back the same after a restart, or DBOS would never recover the workflow.
    settings = Settings(data_dir=DATA_DIR, port=8555)
    upgrade(settings.app_database_url)  # a server holds a lease: it needs the schema
    with dbos_runtime(settings, "server"):
        if sys.argv[2] == "start":
            with SetWorkflowID("crash-1"):
                DBOS.start_workflow(crashable, 2.0)
            time.sleep(120)
        else:
            print(DBOS.retrieve_workflow("crash-1").get_result(), flush=True)
