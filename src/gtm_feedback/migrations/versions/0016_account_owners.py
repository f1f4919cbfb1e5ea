"""account owners: the AE or CSM told when a request the account asked for ships

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(length=40), nullable=True))
        batch.create_index(batch.f("ix_accounts_owner_id"), ["owner_id"])
        batch.create_foreign_key(
            batch.f("fk_accounts_owner_id_users"), "users", ["owner_id"], ["id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(batch.f("fk_accounts_owner_id_users"), type_="foreignkey")
        batch.drop_index(batch.f("ix_accounts_owner_id"))
        batch.drop_column("owner_id")
