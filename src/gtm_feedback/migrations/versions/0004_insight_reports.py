"""insight reports: the overview (headline tiles, top requests), who generated it, engine

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("insight_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overview", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("generated_by_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("engine", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_insight_reports_generated_by_id_users"),
            "users",
            ["generated_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("insight_reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_insight_reports_generated_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("engine")
        batch_op.drop_column("generated_by_id")
        batch_op.drop_column("overview")
