"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gtm_feedback.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("arr", gtm_feedback.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("is_enterprise", sa.Boolean(), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_name"), ["name"], unique=False)

    op.create_table(
        "product_areas",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("firehose_channel", sa.String(length=80), nullable=True),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_areas")),
        sa.UniqueConstraint("name", name=op.f("uq_product_areas_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_product_areas_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("avatar_url", sa.String(length=500), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("slack_user_id", name=op.f("uq_users_slack_user_id")),
    )
    op.create_table(
        "approvals",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "declined",
                name="approval_status",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("requested_from_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_from_id"], ["users.id"], name=op.f("fk_approvals_requested_from_id_users")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_approvals")),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_approvals_workflow_id"), ["workflow_id"], unique=False)

    op.create_table(
        "feature_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "shipped",
                "deprioritized",
                name="request_status",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("creator_id", sa.String(length=40), nullable=True),
        sa.Column("related_request_id", sa.String(length=40), nullable=True),
        sa.Column("tracker_url", sa.String(length=500), nullable=True),
        sa.Column("related_links", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("shipped_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["users.id"], name=op.f("fk_feature_requests_creator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["related_request_id"],
            ["feature_requests.id"],
            name=op.f("fk_feature_requests_related_request_id_feature_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_requests")),
        sa.UniqueConstraint("slug", name=op.f("uq_feature_requests_slug")),
    )
    with op.batch_alter_table("feature_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feature_requests_status"), ["status"], unique=False)

    op.create_table(
        "insight_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("area_id", sa.String(length=40), nullable=False),
        sa.Column("generated_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["product_areas.id"],
            name=op.f("fk_insight_reports_area_id_product_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_reports")),
    )
    with op.batch_alter_table("insight_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_insight_reports_area_id"), ["area_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_insight_reports_generated_at"), ["generated_at"], unique=False
        )

    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("arr", gtm_feedback.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_opportunities_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunities_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "feedback",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("opportunity_id", sa.String(length=64), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("creator_id", sa.String(length=40), nullable=True),
        sa.Column(
            "creation_source",
            sa.Enum(
                "manual",
                "agent",
                name="creation_source",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "ui",
                "api",
                "slack",
                "import",
                name="feedback_source",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column(
            "match_tier",
            sa.Enum(
                "auto",
                "approved",
                "created",
                name="match_tier",
                native_enum=False,
                create_constraint=True,
                length=12,
            ),
            nullable=True,
        ),
        sa.Column("match_confidence", sa.Float(), nullable=True),
        sa.Column("match_reason", sa.Text(), nullable=True),
        sa.Column("match_candidates", sa.JSON(), nullable=False),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_feedback_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["users.id"], name=op.f("fk_feedback_creator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_feedback_opportunity_id_opportunities"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feature_requests.id"],
            name=op.f("fk_feedback_request_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_request_id"), ["request_id"], unique=False)

    op.create_table(
        "request_areas",
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("area_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["product_areas.id"],
            name=op.f("fk_request_areas_area_id_product_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feature_requests.id"],
            name=op.f("fk_request_areas_request_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "area_id", name=op.f("pk_request_areas")),
    )
    op.create_table(
        "request_followers",
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", gtm_feedback.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feature_requests.id"],
            name=op.f("fk_request_followers_request_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_request_followers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "user_id", name=op.f("pk_request_followers")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("request_followers")
    op.drop_table("request_areas")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_request_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_created_at"))
        batch_op.drop_index(batch_op.f("ix_feedback_account_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_account_id"))

    op.drop_table("opportunities")
    with op.batch_alter_table("insight_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insight_reports_generated_at"))
        batch_op.drop_index(batch_op.f("ix_insight_reports_area_id"))

    op.drop_table("insight_reports")
    with op.batch_alter_table("feature_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feature_requests_status"))

    op.drop_table("feature_requests")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approvals_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_approvals_status"))

    op.drop_table("approvals")
    op.drop_table("users")
    op.drop_table("product_areas")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_name"))

    op.drop_table("accounts")
