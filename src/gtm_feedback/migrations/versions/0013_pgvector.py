"""pgvector: on a PostgreSQL that has the extension, ``vector(384)`` search tables with HNSW
indexes, filled from the stored vectors (elsewhere: nothing, the in-memory index is used)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from gtm_feedback.feature_request import sql_vectors

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    sql_vectors.ensure(op.get_bind())


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        sql_vectors.drop(op.get_bind())
