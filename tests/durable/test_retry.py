"""A transient database failure never ends a run; anything else fails it at once."""

from __future__ import annotations

import pytest
from dbos import DBOS
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from gtm_feedback.db.session import is_transient
from gtm_feedback.durable.retry import DB_RETRY
from gtm_feedback.testing import WorkflowKit

_calls: dict[str, int] = {}


def _locked() -> OperationalError:
    return OperationalError("INSERT …", {}, Exception("database is locked"))


@DBOS.step(**DB_RETRY)
def _flaky_step(key: str, failures: int, error: str) -> int:
    _calls[key] = _calls.get(key, 0) + 1
    if _calls[key] <= failures:
        if error == "locked":
            raise _locked()
        if error == "pool":
            raise PoolTimeoutError("QueuePool limit of size 10 overflow 30 reached")
        raise ValueError("a bug, not the weather")
    return _calls[key]


@DBOS.workflow()
def _flaky_workflow(key: str, failures: int, error: str) -> int:
    return _flaky_step(key, failures, error)


@pytest.mark.parametrize("error", ["locked", "pool"])
def test_a_transient_database_failure_is_retried_until_it_passes(
    workflows: WorkflowKit, error: str
) -> None:
    key = f"transient-{error}"
    assert workflows.run(_flaky_workflow, key, 3, error) == 4
    assert _calls[key] == 4


def test_any_other_error_fails_the_run_at_once(workflows: WorkflowKit) -> None:
    with pytest.raises(ValueError, match="a bug"):
        workflows.run(_flaky_workflow, "bug", 1, "bug")
    assert _calls["bug"] == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_locked(), True),
        (OperationalError("SELECT 1", {}, Exception("database is busy")), True),
        (OperationalError("x", {}, Exception("could not serialize access")), True),
        (OperationalError("x", {}, Exception("server closed the connection")), True),
        (PoolTimeoutError("QueuePool limit reached"), True),
        (OperationalError("x", {}, Exception("no such table: feedback")), False),
        (ValueError("database is locked"), False),
    ],
)
def test_which_failures_are_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
