"""A process for the merge crash test: starts a merge and is killed during it, or recovers it.

Usage: python tests/merge_crash_worker.py DATA_DIR start|recover SOURCE INTO
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dbos import DBOS, SetWorkflowID

from gtm_feedback.config import Settings
from gtm_feedback.feature_request.merge_workflows import (
    MergeInput,
    MergeResult,
    merge_requests_workflow,
)
from gtm_feedback.runtime import dbos_runtime

RUN_ID = "merge-requests-crash"

if __name__ == "__main__":
    data_dir, action, source, into = Path(sys.argv[1]), *sys.argv[2:5]
    # The same port in both processes: the same default executor id, so the restart recovers.
    settings = Settings(data_dir=data_dir, port=8556, approval_timeout=1.0)
    with dbos_runtime(settings, "server"):
        if action == "start":
            with SetWorkflowID(RUN_ID):
                DBOS.start_workflow(
                    merge_requests_workflow, MergeInput(source=source, survivor=into)
                )
            time.sleep(120)
        else:
            result: MergeResult = DBOS.retrieve_workflow(RUN_ID).get_result()
            print(result.model_dump_json(), flush=True)
