"""The weekly digest, written with the workflow kit: per area channel and per follower, once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gtm_feedback.config import Settings
from gtm_feedback.feature_request import digest
from gtm_feedback.feature_request.digest_workflows import (
    WeeklyDigestInput,
    weekly_digest_workflow,
)
from gtm_feedback.sample.loader import seed
from gtm_feedback.testing import WorkflowKit, kit_settings

MONDAY = date(2026, 11, 2)  # reports 26 Oct - 1 Nov, the sample's last week


@pytest.fixture
def workflow_settings(tmp_path: Path) -> Settings:
    settings = kit_settings(tmp_path / "digest")
    seed(
        settings.app_database_url,
        settings.data_dir,
        seed_value=7,
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    return settings


def test_week_boundaries() -> None:
    assert digest.week_of(MONDAY) == (date(2026, 10, 26), MONDAY)
    assert digest.week_of(date(2026, 11, 8)) == (date(2026, 10, 26), MONDAY)  # a Sunday
    assert digest.week_label(date(2026, 10, 26)) == "2026-W44"


def test_the_digest_goes_out_once_per_week(workflows: WorkflowKit) -> None:
    first = workflows.run(weekly_digest_workflow, WeeklyDigestInput(day=MONDAY))
    assert first.week == "2026-W44"
    assert first.channels > 0
    assert first.followers > 0
    sent = workflows.messages(kind="digest")
    assert len(sent) == first.channels + first.followers
    channels = [m.channel for m in sent if m.channel]
    assert all(channel.startswith("#firehose-") for channel in channels)
    assert all("the week 2026-W44" in m.text for m in sent)
    assert any("/requests/" in m.text for m in sent)
    # The same week again (a retried schedule, a second server): nothing is sent twice.
    again = workflows.run(weekly_digest_workflow, WeeklyDigestInput(day=MONDAY))
    assert (again.channels, again.followers) == (0, 0)
    assert len(workflows.messages(kind="digest")) == len(sent)


def test_a_quiet_week_sends_nothing(workflows: WorkflowKit) -> None:
    quiet = workflows.run(weekly_digest_workflow, WeeklyDigestInput(day=date(2025, 1, 6)))
    assert (quiet.channels, quiet.followers) == (0, 0)
    assert workflows.messages(kind="digest") == []
