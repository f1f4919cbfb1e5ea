"""Inserts that meet a unique key: ``INSERT … ON CONFLICT`` on either database, and an ORM row
added in a savepoint."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, model: type[Any] | Table) -> Any:
    """An insert into ``model``'s table (or a plain table) offering ``on_conflict_do_nothing``
    / ``_do_update`` (PostgreSQL's or SQLite's, as the session's database is)."""
    table = model if isinstance(model, Table) else cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def add_in_savepoint(session: Session, row: Any) -> None:
    """Insert ``row`` now, in a savepoint: a unique key that refuses it (another transaction
    wrote the same at the same moment) raises ``IntegrityError`` and rolls back only the
    savepoint, so the caller's transaction goes on."""
    with session.begin_nested():
        session.add(row)
        session.flush()
