"""match checks: an LLM's opinion on approval-band matches, and its feature on decisions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gtm_feedback.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "match_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("llm_model", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_checks")),
        sa.UniqueConstraint("key", name=op.f("uq_match_checks_key")),
    )
    with op.batch_alter_table("match_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_checks_at"), ["at"], unique=False)
    with op.batch_alter_table("match_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("llm", sa.Float(), server_default="0", nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("match_decisions", schema=None) as batch_op:
        batch_op.drop_column("llm")
    with op.batch_alter_table("match_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_checks_at"))
    op.drop_table("match_checks")
