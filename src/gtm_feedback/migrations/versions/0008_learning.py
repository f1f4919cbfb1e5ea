"""learning: match decisions and calibration history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gtm_feedback.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "match_calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("model_id", sa.String(length=100), nullable=False),
        sa.Column("coefficients", sa.JSON(), nullable=False),
        sa.Column("auto_threshold", sa.Float(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("held_back", sa.Integer(), nullable=False),
        sa.Column("held_back_auto", sa.Integer(), nullable=False),
        sa.Column("held_back_wrong", sa.Integer(), nullable=False),
        sa.Column("estimated_precision", sa.Float(), nullable=True),
        sa.Column("estimated_coverage", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_calibrations")),
        sa.UniqueConstraint("run_id", name=op.f("uq_match_calibrations_run_id")),
    )
    with op.batch_alter_table("match_calibrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_calibrations_model_id"), ["model_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_match_calibrations_status"), ["status"], unique=False)

    op.create_table(
        "match_decisions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("right", sa.Boolean(), nullable=False),
        sa.Column("model_id", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("feedback_id", sa.String(length=80), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("margin", sa.Float(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=400), nullable=False),
        sa.Column("at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_decisions")),
        sa.UniqueConstraint("key", name=op.f("uq_match_decisions_key")),
    )
    with op.batch_alter_table("match_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_decisions_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_decisions_model_id"), ["model_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_decisions_model_id"))
        batch_op.drop_index(batch_op.f("ix_match_decisions_at"))

    op.drop_table("match_decisions")
    with op.batch_alter_table("match_calibrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_calibrations_status"))
        batch_op.drop_index(batch_op.f("ix_match_calibrations_model_id"))

    op.drop_table("match_calibrations")
