"""``INSERT … ON CONFLICT`` on either database: the dialect's own insert construct."""

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
