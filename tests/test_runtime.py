"""DBOS launched once per process with our settings: version pinned, executor id, queues."""

from __future__ import annotations

import pickle
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from dbos import DBOS, Queue, SetWorkflowID
from sqlalchemy import inspect

from gtm_feedback.config import Settings
from gtm_feedback.db.session import get_engine
from gtm_feedback.durable.queues import QUEUES
from gtm_feedback.durable.runs import dbos_ready
from gtm_feedback.errors import PermanentError
from gtm_feedback.insight.agents import InsightsText
from gtm_feedback.migrations import upgrade
from gtm_feedback.runtime import (
    _enable_wal,
    dbos_runtime,
    keep_moved_classes_loadable,
    refit_cron,
)


@DBOS.step()
def _double_step(value: int) -> int:
    return value * 2


@DBOS.workflow()
def _double_workflow(value: int) -> int:
    return _double_step(value) + 1


def test_runtime_runs_a_workflow_with_pinned_version(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, app_version="9.9.9-test", executor_id="exec-a")
    with dbos_runtime(settings, "test"):
        assert dbos_ready()
        with SetWorkflowID("double-20"):
            assert _double_workflow(20) == 41
        with SetWorkflowID("double-20"):  # same id: runs once, same result
            assert _double_workflow(99) == 41
        status = DBOS.get_workflow_status("double-20")
        assert status is not None
        assert (status.app_version, status.executor_id) == ("9.9.9-test", "exec-a")
        assert [q.name for q in QUEUES if DBOS.retrieve_queue(q.name) is not None] == [
            q.name for q in QUEUES
        ]
        handle = _feedback_queue().enqueue(_double_workflow, 1)
        assert handle.get_result() == 3
    system_db = tmp_path / "dbos_system.sqlite"
    with sqlite3.connect(system_db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_runtime_can_be_launched_again_after_shutdown(tmp_path: Path) -> None:
    for round_ in range(2):
        settings = Settings(data_dir=tmp_path)
        with dbos_runtime(settings, "test"), SetWorkflowID(f"again-{round_}"):
            assert _double_workflow(round_) == 2 * round_ + 1


@pytest.mark.postgres
def test_postgres_app_database_hosts_the_dbos_schema(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    with dbos_runtime(settings, "test"), SetWorkflowID("pg-double"):
        assert _double_workflow(5) == 11
    schemas = inspect(get_engine(postgres_url)).get_schema_names()
    assert "dbos" in schemas
    assert "workflow_status" in inspect(get_engine(postgres_url)).get_table_names(schema="dbos")
    assert not (tmp_path / "dbos_system.sqlite").exists()


def test_cli_processes_enqueue_but_leave_queued_work_to_the_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.app_database_url)  # a command and a server hold leases: they need the schema
    with dbos_runtime(settings, "cli"):
        with SetWorkflowID("queued-by-cli"):
            _feedback_queue().enqueue(_double_workflow, 4)
        time.sleep(0.5)  # several polling intervals: a listening worker would have taken it
        status = DBOS.get_workflow_status("queued-by-cli")
        assert status is not None
        assert status.status == "ENQUEUED"
    with dbos_runtime(settings, "server"):
        assert DBOS.retrieve_workflow("queued-by-cli").get_result() == 9


def _feedback_queue() -> Queue:
    queue = DBOS.retrieve_queue("feedback")
    assert queue is not None
    return queue


def test_a_class_pickled_under_its_module_before_the_move_still_loads() -> None:
    # Runs recorded before the floors were laid out name e.g. InsightsText's old module.
    text = InsightsText(summaries={"execution": "Mobile ships slowly."})
    blob = pickle.dumps(text, protocol=2)
    old = blob.replace(b"gtm_feedback.insight.agents", b"gtm_feedback.integrations.ai.schemas")
    assert old != blob
    keep_moved_classes_loadable()
    assert pickle.loads(old) == text
    error = pickle.dumps(PermanentError("unknown request"), protocol=2)
    loaded = pickle.loads(error.replace(b"gtm_feedback.errors", b"gtm_feedback.workflow_support"))
    assert isinstance(loaded, PermanentError)


def test_the_nightly_refit_is_off_when_the_environment_pins_matching() -> None:
    assert refit_cron(Settings()) == "30 2 * * *"
    assert refit_cron(Settings(match_refit_cron="0 4 * * *")) == "0 4 * * *"
    assert refit_cron(Settings(match_auto_threshold=0.97)) == "off"
    assert refit_cron(Settings(match_calibration=(-5.0, 7.0, 12.0))) == "off"
    assert refit_cron(Settings(match_learn=False)) == "off"


@pytest.mark.parametrize(("mode", "pragma"), [("full", 2), ("normal", 1)])
def test_one_durability_setting_for_the_app_and_dbos(
    tmp_path: Path, mode: str, pragma: int
) -> None:
    settings = Settings(data_dir=tmp_path, sqlite_synchronous=mode)
    with dbos_runtime(settings, "test") as dbos:
        with get_engine(settings.app_database_url).connect() as app:
            assert app.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
        # DBOS builds its own engine for its system database: the setting reaches it too.
        system = dbos._sys_db.engine  # private, read only to check the pragma
        with system.connect() as dbos_connection:
            assert dbos_connection.exec_driver_sql("PRAGMA synchronous").scalar() == pragma


def test_wal_is_switched_on_once_the_other_process_lets_go(tmp_path: Path) -> None:
    """Two processes launching on one SQLite file: the second waits for the first's lock."""
    database = tmp_path / "shared.sqlite"
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")  # the other process, mid-launch
    # Longer than sqlite3's own 5 s wait: the launch must keep trying, not give up.
    releaser = threading.Timer(6.0, lambda: holder.execute("COMMIT"))
    releaser.start()
    try:
        _enable_wal(f"sqlite:///{database}")
    finally:
        releaser.join()
        holder.close()
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
