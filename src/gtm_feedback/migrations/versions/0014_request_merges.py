"""request merges: a merged request is a tombstone pointing at its survivor; each merge
records what moved so it can be undone

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gtm_feedback.db.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("feature_requests") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.String(length=40), nullable=True))
        batch.create_index(batch.f("ix_feature_requests_merged_into_id"), ["merged_into_id"])
        batch.create_foreign_key(
            batch.f("fk_feature_requests_merged_into_id_feature_requests"),
            "feature_requests",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "request_merges",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("survivor_id", sa.String(length=40), nullable=False),
        sa.Column("feedback_ids", sa.JSON(), nullable=False),
        sa.Column("follower_ids", sa.JSON(), nullable=False),
        sa.Column("area_ids", sa.JSON(), nullable=False),
        sa.Column("source_embedding", sa.LargeBinary(), nullable=True),
        sa.Column("source_embedding_model", sa.String(length=80), nullable=True),
        sa.Column("source_embedding_key", sa.String(length=64), nullable=True),
        sa.Column("merged_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("undone_by", sa.String(length=320), nullable=True),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["feature_requests.id"],
            name=op.f("fk_request_merges_source_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["feature_requests.id"],
            name=op.f("fk_request_merges_survivor_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_merges")),
    )
    op.create_index(op.f("ix_request_merges_source_id"), "request_merges", ["source_id"])
    op.create_index(op.f("ix_request_merges_survivor_id"), "request_merges", ["survivor_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_request_merges_survivor_id"), table_name="request_merges")
    op.drop_index(op.f("ix_request_merges_source_id"), table_name="request_merges")
    op.drop_table("request_merges")
    with op.batch_alter_table("feature_requests") as batch:
        batch.drop_constraint(
            batch.f("fk_feature_requests_merged_into_id_feature_requests"), type_="foreignkey"
        )
        batch.drop_index(batch.f("ix_feature_requests_merged_into_id"))
        batch.drop_column("merged_into_id")
