"""Transactional steps: a step's database writes and its DBOS checkpoint commit together.

A plain ``@DBOS.step`` that writes rows commits them, then DBOS records the step: a crash
between the two re-runs the step, so it must be idempotent and cannot tell "created" from
"updated" on the second try. DBOS 3.4's datasource steps write the checkpoint in the same
transaction as the rows, in the application database: the step happens exactly once.

Each application database gets its own engine here. DBOS sets an isolation level on every
transaction it opens, and on SQLite that switches the driver back to its own implicit BEGIN
handling, which the app's pooled connections deliberately turn off (it breaks savepoints).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from dbos import SQLAlchemyDatasource
from sqlalchemy.orm import Session

from gtm_feedback.db.session import build_engine

P = ParamSpec("P")
R = TypeVar("R")

_SOURCES: dict[str, SQLAlchemyDatasource] = {}
_LOCK = threading.Lock()


def datasource(url: str) -> SQLAlchemyDatasource:
    """The process's DBOS datasource for the application database at ``url``.

    The first call for a URL must come before ``DBOS.launch()`` (``runtime.launch`` makes it).
    """
    with _LOCK:
        if url not in _SOURCES:
            # Write transactions take SQLite's write lock up front (BEGIN IMMEDIATE), so a
            # batch waits its turn behind other writers instead of failing half-way.
            engine = build_engine(url).execution_options(gtmfb_write=True)
            _SOURCES[url] = SQLAlchemyDatasource.create(url, engine=engine)
        return _SOURCES[url]


def run_step(url: str, name: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``func`` as a transactional step named ``name`` (exactly once per workflow step)."""
    return datasource(url).run_tx_step({"name": name}, func, *args, **kwargs)


def session(url: str) -> Session:
    """The session of the transactional step running now (inside :func:`run_step`)."""
    return datasource(url).sql_session()


def dispose() -> None:
    """Close the datasources' pooled connections (shutdown and tests)."""
    with _LOCK:
        for source in _SOURCES.values():
            source.engine.dispose()
