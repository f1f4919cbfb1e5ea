"""duplicate suggestions: pairs the sweep found alike, each suggested once

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gtm_feedback.db.types import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "duplicate_suggestions",
        sa.Column("pair", sa.String(length=90), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("survivor_id", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("approval_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["feature_requests.id"],
            name=op.f("fk_duplicate_suggestions_source_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["feature_requests.id"],
            name=op.f("fk_duplicate_suggestions_survivor_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pair", name=op.f("pk_duplicate_suggestions")),
    )
    op.create_index(
        op.f("ix_duplicate_suggestions_source_id"), "duplicate_suggestions", ["source_id"]
    )
    op.create_index(
        op.f("ix_duplicate_suggestions_survivor_id"), "duplicate_suggestions", ["survivor_id"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_duplicate_suggestions_survivor_id"), table_name="duplicate_suggestions")
    op.drop_index(op.f("ix_duplicate_suggestions_source_id"), table_name="duplicate_suggestions")
    op.drop_table("duplicate_suggestions")
