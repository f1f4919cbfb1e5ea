"""Locks held for a transaction, so writers of one kind take turns."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def take_turn(session: Session, name: str) -> None:
    """Wait until no other transaction holds ``name``, then hold it until this one ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: nothing more to take, as a write
    transaction (``session_scope(write=True)``) already holds the database's one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
