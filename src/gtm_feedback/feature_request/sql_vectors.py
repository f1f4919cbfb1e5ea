"""pgvector on PostgreSQL: the searchable vectors mirrored into ``vector(384)`` tables with
HNSW indexes, kept in step in the transaction that changes them.

``search_items`` holds one row per item a match compares with (a request's text, each linked
feedback), ``search_requests`` one per request: the normalised sum of its items (the centroid
of the fused score). The float32 blobs on the rows stay the source of truth; on SQLite, or a
PostgreSQL without the extension, none of this exists and the in-memory index is used.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any

import structlog
from pgvector.sqlalchemy import Vector
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import DBAPIError

from gtm_feedback.db.vectors import from_bytes

log = structlog.get_logger(__name__)

#: The offline model's width; another embedder's vectors stay on the in-memory index.
DIMENSIONS = 384
#: The tables and indexes this module owns (the migrations' model comparison leaves them out).
TABLES = ("search_items", "search_requests")
_BLOB_BYTES = DIMENSIONS * 4
_CHUNK = 1000

_TABLES_DDL = f"""
CREATE TABLE IF NOT EXISTS search_items (
    item_id varchar(40) PRIMARY KEY,
    request_id varchar(40) NOT NULL REFERENCES feature_requests (id) ON DELETE CASCADE,
    feedback_id varchar(40) REFERENCES feedback (id) ON DELETE CASCADE,
    model varchar(80) NOT NULL,
    key varchar(64),
    vector vector({DIMENSIONS}) NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_search_items_request_id ON search_items (request_id);
CREATE TABLE IF NOT EXISTS search_requests (
    request_id varchar(40) PRIMARY KEY REFERENCES feature_requests (id) ON DELETE CASCADE,
    model varchar(80) NOT NULL,
    linked integer NOT NULL,
    centroid vector({DIMENSIONS}) NOT NULL
)
"""
#: ef_construction 128 (pgvector's default is 64): feedback clusters tightly around topics, and
#: a graph built wider keeps the clusters reachable (bench/pgvector.py, docs/benchmarks.md).
_INDEXES_DDL = """
CREATE INDEX IF NOT EXISTS ix_search_items_vector
    ON search_items USING hnsw (vector vector_cosine_ops) WITH (m = 16, ef_construction = 128);
CREATE INDEX IF NOT EXISTS ix_search_requests_centroid
    ON search_requests USING hnsw (centroid vector_cosine_ops)
    WITH (m = 16, ef_construction = 128)
"""

_enabled: dict[str, bool] = {}
_lock = threading.Lock()


def enabled(connection: Connection) -> bool:
    """Whether this database searches with pgvector (PostgreSQL with the tables in place)."""
    if connection.dialect.name != "postgresql":
        return False
    url = str(connection.engine.url)
    with _lock:
        known = _enabled.get(url)
    if known is None:
        found = connection.execute(text("SELECT to_regclass('search_requests') IS NOT NULL"))
        known = bool(found.scalar_one())
        with _lock:
            _enabled[url] = known
    return known


def forget() -> None:
    """Check every database again (after a migration created or dropped the tables)."""
    with _lock:
        _enabled.clear()


def available(connection: Connection) -> bool:
    """Whether the server can install pgvector (the ``vector`` extension's files are there)."""
    if connection.dialect.name != "postgresql":
        return False
    found = connection.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    return found is not None


def ensure(connection: Connection) -> bool:
    """Install pgvector and its tables when the server has it (idempotent); fill them from the
    stored vectors the first time. False when the server lacks it: the in-memory index stays."""
    if not available(connection):
        return False
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except DBAPIError as exc:  # e.g. not allowed: a superuser must run CREATE EXTENSION once
        log.warning("pgvector not installed", error=str(exc.orig))
        return False
    created = connection.execute(text("SELECT to_regclass('search_requests') IS NULL"))
    if created.scalar_one():
        connection.execute(text(_TABLES_DDL))
        sync(connection, None, force=True)  # before the indexes: one bulk build, not per row
    connection.execute(text(_INDEXES_DDL))
    forget()
    return True


def drop(connection: Connection) -> None:
    """Remove the tables (the extension stays: other schemas may use it)."""
    connection.execute(text("DROP TABLE IF EXISTS search_requests, search_items"))
    forget()


def backfill(connection: Connection) -> None:
    """Mirror every stored vector again, building the HNSW indexes once at the end (a first
    load of many rows: inserting into a built HNSW index costs far more per row)."""
    connection.execute(text("DROP INDEX IF EXISTS ix_search_items_vector"))
    connection.execute(text("DROP INDEX IF EXISTS ix_search_requests_centroid"))
    sync(connection, None, force=True)
    connection.execute(text(_INDEXES_DDL))
    connection.execute(text("ANALYZE search_items, search_requests"))


def sync(connection: Connection, request_ids: Collection[str] | None, force: bool = False) -> None:
    """Bring the mirror of ``request_ids`` (None: every request) in step with their rows and
    linked feedback, in the caller's transaction."""
    if not (force or enabled(connection)):
        return
    ids = None if request_ids is None else sorted(request_ids)
    if ids is not None:
        if not ids:
            return
        # One writer per request at a time: a concurrent attach's centroid must include ours.
        connection.execute(
            text("SELECT id FROM feature_requests WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
            {"ids": ids},
        )
    else:
        connection.execute(text("LOCK TABLE search_requests IN SHARE ROW EXCLUSIVE MODE"))
    _sync_items(connection, ids)
    _sync_centroids(connection, ids)


def _where(column: str, ids: Sequence[str] | None) -> str:
    return f"{column} = ANY(:ids)" if ids is not None else "TRUE"


def _sync_items(connection: Connection, ids: Sequence[str] | None) -> None:
    params: dict[str, Any] = {"ids": ids} if ids is not None else {}
    wanted = {
        row.item_id: (row.request_id, row.model, row.key)
        for row in connection.execute(
            text(
                "SELECT id AS item_id, id AS request_id, embedding_model AS model,"
                " embedding_key AS key FROM feature_requests"
                f" WHERE {_where('id', ids)} AND octet_length(embedding) = {_BLOB_BYTES}"
                " UNION ALL SELECT id, request_id, embedding_model, embedding_key FROM feedback"
                f" WHERE {_where('request_id', ids)} AND octet_length(embedding) = {_BLOB_BYTES}"
            ),
            params,
        )
    }
    have = {
        row.item_id: (row.request_id, row.model, row.key)
        for row in connection.execute(
            text(
                "SELECT item_id, request_id, model, key FROM search_items"
                f" WHERE {_where('request_id', ids)}"
            ),
            params,
        )
    }
    gone = [item for item in have if item not in wanted]
    for start in range(0, len(gone), _CHUNK):
        connection.execute(
            text("DELETE FROM search_items WHERE item_id = ANY(:gone)"),
            {"gone": gone[start : start + _CHUNK]},
        )
    # No key (rows stored by hand, not by ``embeddings``): the vector cannot be told unchanged.
    stale = [item for item, row in wanted.items() if row[2] is None or have.get(item) != row]
    for start in range(0, len(stale), _CHUNK):
        _write_items(connection, stale[start : start + _CHUNK])


_UPSERT = text(
    "INSERT INTO search_items (item_id, request_id, feedback_id, model, key, vector)"
    " VALUES (:item_id, :request_id, :feedback_id, :model, :key, :vector)"
    " ON CONFLICT (item_id) DO UPDATE SET request_id = excluded.request_id,"
    " model = excluded.model, key = excluded.key, vector = excluded.vector"
).bindparams(bindparam("vector", type_=Vector(DIMENSIONS)))


def _write_items(connection: Connection, items: Sequence[str]) -> None:
    rows = connection.execute(
        text(
            "SELECT id, id AS request_id, NULL AS feedback_id, embedding_model, embedding_key,"
            " embedding FROM feature_requests WHERE id = ANY(:items)"
            " UNION ALL SELECT id, request_id, id, embedding_model, embedding_key, embedding"
            " FROM feedback WHERE id = ANY(:items)"
        ),
        {"items": list(items)},
    )
    values = [
        {
            "item_id": row.id,
            "request_id": row.request_id,
            "feedback_id": row.feedback_id,
            "model": row.embedding_model or "",
            "key": row.embedding_key,
            "vector": from_bytes(row.embedding),
        }
        for row in rows
    ]
    if values:
        connection.execute(_UPSERT, values)


def _sync_centroids(connection: Connection, ids: Sequence[str] | None) -> None:
    params: dict[str, Any] = {"ids": ids} if ids is not None else {}
    connection.execute(
        text(f"DELETE FROM search_requests WHERE {_where('request_id', ids)}"), params
    )
    # A request's items of its own text's model: what the in-memory index sums.
    connection.execute(
        text(
            "INSERT INTO search_requests (request_id, model, linked, centroid)"
            " SELECT own.request_id, own.model, count(*) - 1, l2_normalize(sum(item.vector))"
            " FROM search_items own JOIN search_items item"
            " ON item.request_id = own.request_id AND item.model = own.model"
            f" WHERE own.feedback_id IS NULL AND {_where('own.request_id', ids)}"
            " GROUP BY own.request_id, own.model"
        ),
        params,
    )
