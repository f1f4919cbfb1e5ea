"""Who runs: one lease row per live DBOS process, renewed by its heartbeat, in the app database.

Open-source DBOS recovers a process's PENDING runs only when a process with the same
executor id starts again. The lease lets the others notice a process that stopped for good:
a lease not renewed for ``GTMFB_EXECUTOR_LEASE`` seconds is taken over by one live worker
(``durable/takeover.py``). Every time here is the database's clock, so hosts whose clocks
differ agree on who is late.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Float, Integer, String, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from gtm_feedback.db.base import Base
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import ConflictError


class Executor(Base):
    """A DBOS process holding (or last holding) an executor id, and its last heartbeat."""

    __tablename__ = "executors"

    executor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    #: A new value per process start: tells this process's lease from an earlier holder's.
    instance: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(100))
    #: Seconds since the epoch, on the database's clock.
    started_at: Mapped[float] = mapped_column(Float)
    heartbeat_at: Mapped[float] = mapped_column(Float)


class db_epoch(FunctionElement[float]):  # noqa: N801  (reads like the SQL function it is)
    """The database server's clock, in seconds since the epoch."""

    type = Float()
    inherit_cache = True


@compiles(db_epoch, "postgresql")
def _pg_epoch(_element: db_epoch, _compiler: Any, **_kw: Any) -> str:
    # clock_timestamp, not now(): now() is the transaction's start, stale in a long one.
    return "extract(epoch from clock_timestamp())"


@compiles(db_epoch, "sqlite")
def _sqlite_epoch(_element: db_epoch, _compiler: Any, **_kw: Any) -> str:
    return "((julianday('now') - 2440587.5) * 86400.0)"


class ExecutorInUseError(ConflictError):
    """Another live process holds the executor id this one was asked to take."""


@dataclass(frozen=True)
class Identity:
    """This process as a lease holder."""

    executor_id: str
    role: str
    version: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)


def _upsert(session: Session, me: Identity, lease: float, *, force_over: str | None) -> bool:
    values = {
        "executor_id": me.executor_id,
        "role": me.role,
        "host": me.host,
        "pid": me.pid,
        "instance": me.instance,
        "version": me.version,
        "started_at": db_epoch(),
        "heartbeat_at": db_epoch(),
    }
    table = cast(Table, Executor.__table__)
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(values)
    # Taken when the holder's lease ran out, or (force_over) from a holder known to be dead.
    free = (
        table.c.instance == force_over if force_over else table.c.heartbeat_at < db_epoch() - lease
    )
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.executor_id],
        set_={name: insert.excluded[name] for name in values if name != "executor_id"},
        where=free | (table.c.instance == me.instance),
    )
    # RETURNING, not rowcount: psycopg reports -1 for an upsert whose WHERE declined.
    return session.execute(statement.returning(table.c.executor_id)).first() is not None


def claim(url: str, me: Identity, lease: float) -> None:
    """Take ``me.executor_id`` for this process, or raise ``ExecutorInUseError``.

    A holder on this host whose process is gone (a crash, then a restart within the lease)
    gives way at once; one on another host only when its lease has run out.
    """
    with session_scope(url, write=True) as session:
        if _upsert(session, me, lease, force_over=None):
            return
        holder = session.get(Executor, me.executor_id, populate_existing=True)
        if holder is None:  # deleted by a takeover between the two statements
            _upsert(session, me, lease, force_over=None)
            return
        if _gone(holder, me) and _upsert(session, me, lease, force_over=holder.instance):
            return
        who = f"{holder.role} pid {holder.pid} on {holder.host}"
    raise ExecutorInUseError(
        f"executor id {me.executor_id!r} is held by a live process ({who}): give this "
        "process another name (worker --name, or GTMFB_EXECUTOR_ID) or stop that one first"
    )


def _gone(holder: Executor, me: Identity) -> bool:
    if holder.host != me.host:
        return False
    if holder.pid == me.pid:  # an earlier launch of this very process (tests relaunch)
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def beat(url: str, me: Identity, lease: float) -> bool:
    """Renew this process's lease; False when it was taken over meanwhile (then re-claimed)."""
    with session_scope(url, write=True) as session:
        renewed = session.execute(
            update(Executor)
            .where(Executor.executor_id == me.executor_id, Executor.instance == me.instance)
            .values(heartbeat_at=db_epoch())
        )
        if renewed.rowcount:  # type: ignore[attr-defined]
            return True
        _upsert(session, me, lease, force_over=None)
        return False


def release(url: str, me: Identity) -> None:
    """Give the lease up at a clean stop, so a live worker takes what waits at once."""
    with session_scope(url, write=True) as session:
        session.execute(
            update(Executor)
            .where(Executor.executor_id == me.executor_id, Executor.instance == me.instance)
            .values(heartbeat_at=0.0)
        )


def expired(url: str, lease: float) -> list[str]:
    """Executor ids whose lease ran out, oldest heartbeat first."""
    with session_scope(url) as session:
        found = session.scalars(
            select(Executor.executor_id)
            .where(Executor.heartbeat_at < db_epoch() - lease)
            .order_by(Executor.heartbeat_at)
        )
        return list(found)


def live(url: str, lease: float) -> list[Executor]:
    """The processes whose lease is current, by role then id."""
    with session_scope(url) as session:
        found = session.scalars(
            select(Executor)
            .where(Executor.heartbeat_at >= db_epoch() - lease)
            .order_by(Executor.role, Executor.executor_id)
        )
        rows = list(found)
        session.expunge_all()
        return rows


def forget(session: Session, executor_id: str, lease: float) -> bool:
    """Lock and delete ``executor_id``'s row if its lease is still out; False if it is not.

    The row lock (PostgreSQL) makes a second taker, or the holder coming back, wait until
    this transaction ends, and then see the row gone or renewed.
    """
    row = session.execute(
        select(Executor.executor_id)
        .where(Executor.executor_id == executor_id, Executor.heartbeat_at < db_epoch() - lease)
        .with_for_update()
    ).first()
    if row is None:
        return False
    session.execute(delete(Executor).where(Executor.executor_id == executor_id))
    return True
