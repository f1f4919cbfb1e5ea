"""Migrations build exactly the models' schema on SQLite and PostgreSQL, and undo cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gtm_feedback import migrations
from gtm_feedback.db.session import get_engine
from gtm_feedback.feature_request import sql_vectors
from gtm_feedback.migrations.registry import include_object, metadata


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pgvector", marks=pytest.mark.postgres),
    ]
)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all (on PostgreSQL: without pgvector, and with it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    url: str = request.getfixturevalue(f"empty_{request.param.replace('postgres', 'pg')}_url")
    return url


def test_upgrade_matches_models(empty_url: str) -> None:
    assert migrations.current_revision(empty_url) is None
    migrations.upgrade(empty_url)
    assert migrations.current_revision(empty_url) == migrations.head_revision()
    with get_engine(empty_url).connect() as connection:
        options = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, metadata) == []
        # pgvector's tables exist exactly where the server has the extension.
        assert sql_vectors.enabled(connection) is sql_vectors.available(connection)


def test_downgrade_to_base_and_up_again(empty_url: str) -> None:
    migrations.upgrade(empty_url)
    migrations.downgrade(empty_url, "base")
    tables = set(inspect(get_engine(empty_url)).get_table_names()) - {"alembic_version"}
    assert tables == set()
    migrations.upgrade(empty_url)
    assert "feature_requests" in inspect(get_engine(empty_url)).get_table_names()


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    migrations.upgrade(empty_url)
    migrations.upgrade(empty_url)
    assert migrations.current_revision(empty_url) == migrations.head_revision()
