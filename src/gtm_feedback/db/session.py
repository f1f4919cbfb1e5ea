"""Engines and sessions: one engine per database URL per process, WAL on SQLite."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

#: ``PRAGMA synchronous`` for every SQLite connection of this process (settings
#: ``GTMFB_SQLITE_SYNCHRONOUS``; docs/reliability.md says what each can lose).
_synchronous = "NORMAL"


def configure_durability(synchronous: str) -> None:
    """``normal`` or ``full``: for SQLite connections opened from now on, DBOS's included."""
    global _synchronous
    _synchronous = synchronous.upper()


@event.listens_for(Engine, "connect")
def _sqlite_durability(dbapi_connection: Any, _record: Any) -> None:
    # On the Engine class: every engine of the process, also the one DBOS builds for its
    # system database (which would otherwise run SQLite's default, FULL), so the app's writes
    # and DBOS's checkpoints have the same durability.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA synchronous={_synchronous}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, start transactions (see _sqlite_begin);
    # the module's own implicit BEGIN breaks SAVEPOINT, which the importer relies on.
    dbapi_connection.isolation_level = None
    # WAL lets readers and one writer work at once; busy_timeout waits for the writer
    # instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A deferred BEGIN that reads and then writes cannot wait for another writer: SQLite
    # answers "database is locked" at once. Write sessions take the write lock up front.
    immediate = connection.get_execution_options().get("gtmfb_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(frozen=True)
class PoolSizes:
    """How many connections an engine keeps, may add under load, and waits for one."""

    size: int = 10
    overflow: int = 30
    timeout: float = 30.0


_pools = PoolSizes()


def configure_pools(sizes: PoolSizes) -> None:
    """Pool sizes for engines built from now on (settings ``GTMFB_DB_POOL_*``)."""
    global _pools
    _pools = sizes


def build_engine(url: str) -> Engine:
    """A new engine for ``url``; SQLite files get their folder created and WAL switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 10},
            pool_size=_pools.size,
            max_overflow=_pools.overflow,
            pool_timeout=_pools.timeout,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=_pools.size,
        max_overflow=_pools.overflow,
        pool_timeout=_pools.timeout,
    )


_ENGINES: dict[str, Engine] = {}
_MAKERS: dict[str, sessionmaker[Session]] = {}
_LOCK = threading.Lock()


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url``."""
    return _bound(url)[0]


def _bound(url: str) -> tuple[Engine, sessionmaker[Session]]:
    # Engine and session maker read together under the lock: dispose_engines (tests, shutdown)
    # may clear both from another thread at any moment.
    with _LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = build_engine(url)
            _MAKERS[url] = sessionmaker(bind=_ENGINES[url], expire_on_commit=False)
        return _ENGINES[url], _MAKERS[url]


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    ``write=True`` for a transaction that reads then writes while other writers may run (on
    SQLite it then waits its turn, up to busy_timeout, instead of failing).
    """
    engine, maker = _bound(url)
    turn = _writer_turn(url) if write and engine.dialect.name == "sqlite" else None
    if turn is not None:
        _take(turn, url, engine)
    try:
        session = maker()
        try:
            if write:
                session.connection(execution_options={"gtmfb_write": True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    finally:
        # Whatever failed above, the turn goes back: a leaked turn stalls every writer.
        if turn is not None:
            _HOLDERS.pop(url, None)
            turn.release()


_WRITERS: dict[str, threading.Lock] = {}
#: Who holds each turn and since when: named in the error of a writer that waited too long.
_HOLDERS: dict[str, tuple[str, float]] = {}


def _take(turn: threading.Lock, url: str, engine: Engine) -> None:
    if not turn.acquire(timeout=_pools.timeout):
        holder, since = _HOLDERS.get(url, ("?", time.monotonic()))
        raise PoolTimeoutError(
            f"no turn to write to {engine.url.database} in {_pools.timeout} s "
            f"(held by {holder} for {time.monotonic() - since:.1f} s)"
        )
    # Frames: 0 this, 1 session_scope, 2 contextlib's __enter__, 3 the writer.
    caller = sys._getframe(3).f_code
    _HOLDERS[url] = (
        f"{caller.co_qualname} ({caller.co_filename.rsplit('/', 1)[-1]})",
        time.monotonic(),
    )


def _writer_turn(url: str) -> threading.Lock:
    # SQLite has one writer at a time, and its busy handler polls: under many writers a
    # waiter can lose every poll for the whole busy timeout ("database is locked"). This
    # process's writers queue on a lock instead, and only other processes meet the poll.
    # A plain Lock, not an RLock: a request's session may be closed by another thread than
    # the one that opened it (FastAPI runs a dependency's teardown where it likes).
    with _LOCK:
        return _WRITERS.setdefault(url, threading.Lock())


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests and shutdown)."""
    with _LOCK:
        for engine in _ENGINES.values():
            retired = engine.pool
            engine.dispose()
            # A thread may still hold one of the old pool's connections (a lease beat, a
            # request ending): it goes back to that pool later, which nothing references any
            # more, and would be garbage-collected open. Closed on its way back instead.
            event.listen(retired, "checkin", _close_on_return)
        _ENGINES.clear()
        _MAKERS.clear()


def _close_on_return(dbapi_connection: Any, _record: Any) -> None:
    if dbapi_connection is not None:
        dbapi_connection.close()


#: Words in a driver's message that mark a failure a retry may not meet again.
_TRANSIENT_SIGNS = ("locked", "busy", "timeout", "connection", "serializ", "deadlock", "terminat")


def is_transient(exc: BaseException) -> bool:
    """True for database failures worth retrying: a pool timeout, SQLite busy or locked,
    a dropped PostgreSQL connection, a serialization failure or deadlock."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc).lower()
    return isinstance(exc, OperationalError) and any(sign in text for sign in _TRANSIENT_SIGNS)
