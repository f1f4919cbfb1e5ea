"""vector index changes: which requests each index version changed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "vector_index_changes",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("version", "request_id", name=op.f("pk_vector_index_changes")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("vector_index_changes")
