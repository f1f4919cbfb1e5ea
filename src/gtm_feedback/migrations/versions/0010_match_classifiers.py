"""match classifiers: the second-opinion classifier's trainings, and its opinion on decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gtm_feedback.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "match_classifiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("model_id", sa.String(length=100), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("request_ids", sa.JSON(), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.Column("bias", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_classifiers")),
        sa.UniqueConstraint("run_id", name=op.f("uq_match_classifiers_run_id")),
    )
    with op.batch_alter_table("match_classifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_classifiers_model_id"), ["model_id"], unique=False
        )
    with op.batch_alter_table("match_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("belief", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lead", sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_decisions", schema=None) as batch_op:
        batch_op.drop_column("lead")
        batch_op.drop_column("belief")
    with op.batch_alter_table("match_classifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_classifiers_model_id"))
    op.drop_table("match_classifiers")
