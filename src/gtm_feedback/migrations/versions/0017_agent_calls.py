"""agent calls: every agent run on the LLM, with its tokens, time and cost

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gtm_feedback.db.types import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "agent_calls",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("agent", sa.String(length=80), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_calls")),
    )
    op.create_index(op.f("ix_agent_calls_at"), "agent_calls", ["at"])
    op.create_index(op.f("ix_agent_calls_agent"), "agent_calls", ["agent"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_agent_calls_agent"), table_name="agent_calls")
    op.drop_index(op.f("ix_agent_calls_at"), table_name="agent_calls")
    op.drop_table("agent_calls")
