"""Alembic environment: runs against the URL the caller put in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from gtm_feedback.db.session import get_engine
from gtm_feedback.migrations.registry import include_object, metadata

config = context.config
url = config.attributes["database_url"]

with get_engine(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
