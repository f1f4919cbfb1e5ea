"""feedback blocks the deal: a flag on feedback that names an open opportunity

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(
            sa.Column("blocks_deal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index(batch.f("ix_feedback_opportunity_id"), ["opportunity_id"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("feedback") as batch:
        batch.drop_index(batch.f("ix_feedback_opportunity_id"))
        batch.drop_column("blocks_deal")
