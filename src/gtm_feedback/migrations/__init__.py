"""Schema migrations: Alembic driven from code, with its scripts and the models registry here."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gtm_feedback.db.session import get_engine
from gtm_feedback.feature_request import sql_vectors

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged scripts and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)
    if revision == "head":  # pgvector installed on the server after the schema was migrated
        with get_engine(url).begin() as connection:
            sql_vectors.ensure(connection)


def has_pgvector(url: str) -> bool:
    """Whether matches on this database can search with pgvector (its search tables exist)."""
    with get_engine(url).connect() as connection:
        return sql_vectors.enabled(connection)


def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` (``base`` empties it)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head
