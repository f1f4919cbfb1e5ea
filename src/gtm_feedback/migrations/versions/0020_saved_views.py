"""saved views: named filters of the requests list, subscriptions, the change log, alerts

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gtm_feedback.db.types import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, values: list[str]) -> sa.Enum:
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(value) for value in values) + 4,
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "saved_views",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_saved_views_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_saved_views_owner_id")),
    )
    op.create_index(op.f("ix_saved_views_owner_id"), "saved_views", ["owner_id"])
    op.create_table(
        "view_subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("view_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("on_feedback", sa.Boolean(), nullable=False),
        sa.Column("on_status", sa.Boolean(), nullable=False),
        sa.Column("frequency", _enum("alert_frequency", ["immediate", "daily"]), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["view_id"],
            ["saved_views.id"],
            name=op.f("fk_view_subscriptions_view_id_saved_views"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_view_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_subscriptions")),
        sa.UniqueConstraint(
            "view_id", "user_id", "channel", name=op.f("uq_view_subscriptions_view_id")
        ),
    )
    op.create_index(op.f("ix_view_subscriptions_view_id"), "view_subscriptions", ["view_id"])
    op.create_index(op.f("ix_view_subscriptions_user_id"), "view_subscriptions", ["user_id"])
    op.create_table(
        "request_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("kind", _enum("change_kind", ["feedback", "status"]), nullable=False),
        sa.Column("feedback_id", sa.String(length=40), nullable=True),
        sa.Column("old_status", sa.String(length=20), nullable=True),
        sa.Column("new_status", sa.String(length=20), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("routed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feature_requests.id"],
            name=op.f("fk_request_changes_request_id_feature_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_changes")),
    )
    op.create_index(op.f("ix_request_changes_request_id"), "request_changes", ["request_id"])
    op.create_index("ix_request_changes_routed_id", "request_changes", ["routed", "id"])
    op.create_table(
        "view_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("digest_day", sa.String(length=10), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["view_subscriptions.id"],
            name=op.f("fk_view_alerts_subscription_id_view_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["request_changes.id"],
            name=op.f("fk_view_alerts_change_id_request_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_alerts")),
        sa.UniqueConstraint(
            "subscription_id", "change_id", name=op.f("uq_view_alerts_subscription_id")
        ),
    )
    for column in ("subscription_id", "change_id", "digest_day"):
        op.create_index(op.f(f"ix_view_alerts_{column}"), "view_alerts", [column])
    op.create_index("ix_view_alerts_sent_at_id", "view_alerts", ["sent_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("view_alerts")
    op.drop_table("request_changes")
    op.drop_table("view_subscriptions")
    op.drop_table("saved_views")
