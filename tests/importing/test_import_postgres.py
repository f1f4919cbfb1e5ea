"""The import workflow on PostgreSQL: its batch checkpoints live in the app database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.importing.schemas import ImportInput
from gtm_feedback.importing.workflows import start_import_bytes
from gtm_feedback.runtime import dbos_runtime
from tests.importing.test_import_workflow import accounts_csv


@pytest.mark.postgres
def test_import_on_postgres_writes_each_batch_once(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    data = ImportInput(kind="accounts", csv=accounts_csv(12).encode(), batch_size=5)
    with dbos_runtime(settings, "test"):
        _input, handle = start_import_bytes(data, "import-pg")
        result = handle.get_result()
    assert (result.created, result.updated, result.rejected, result.batches) == (12, 0, 2, 3)
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).where(Account.id.like("IMP%"))) == 12
        # The batches' checkpoints lived beside the rows and are cleared once the run is done.
        left = session.execute(text("SELECT count(*) FROM dbos.datasource_outputs")).scalar()
        assert left == 0
