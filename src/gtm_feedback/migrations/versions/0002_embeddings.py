"""embeddings on requests and feedback, vector index version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("feature_requests", "feedback")


def upgrade() -> None:
    """Apply this revision."""
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
            batch_op.add_column(sa.Column("embedding_model", sa.String(length=80), nullable=True))
            batch_op.add_column(sa.Column("embedding_key", sa.String(length=64), nullable=True))
    state = op.create_table(
        "vector_index_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_vector_index_state")),
    )
    op.bulk_insert(state, [{"name": "requests", "version": 0}])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("vector_index_state")
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("embedding_key")
            batch_op.drop_column("embedding_model")
            batch_op.drop_column("embedding")
