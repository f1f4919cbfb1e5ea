"""The generated sample dataset is big enough, realistic, deterministic and loads cleanly."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.sample.generator import generate
from gtm_feedback.sample.loader import is_empty, seed

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_sizes_meet_the_brief() -> None:
    data = generate(7, NOW)
    assert len(data.areas) >= 8
    assert len(data.accounts) >= 60
    assert len(data.requests) >= 40
    assert len(data.incoming) >= 100
    assert data.opportunities
    assert {row["request_id"] for row in data.feedback} == {row["id"] for row in data.requests}


def test_arr_is_concentrated_like_a_real_book() -> None:
    arrs = sorted((Decimal(a["arr"]) for a in generate(7, NOW).accounts), reverse=True)
    total = sum(arrs)
    assert sum(arrs[:6]) / total > Decimal("0.5")  # a few large logos carry the book
    assert arrs[0] / arrs[40] > 50  # and a long tail of small ones
    assert sum(1 for a in generate(7, NOW).accounts if a["is_enterprise"] == "true") >= 6


def test_incoming_exercises_all_three_tiers_with_real_references() -> None:
    data = generate(7, NOW)
    tiers = Counter(item["expected_tier"] for item in data.incoming)
    assert min(tiers["auto"], tiers["approval"], tiers["create"]) >= 20
    request_ids = {r["id"] for r in data.requests}
    account_ids = {a["id"] for a in data.accounts}
    for item in data.incoming:
        assert (item["expected_request_id"] in request_ids) == (item["expected_tier"] != "create")
        assert item["account_id"] in account_ids
    existing = {row["description"] for row in data.feedback}
    assert not existing & {item["text"] for item in data.incoming}


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert generate(7, NOW) == generate(7, NOW)
    assert generate(7, NOW).accounts != generate(8, NOW).accounts


def test_seed_loads_everything_and_is_idempotent(db_url: str, tmp_path: Path) -> None:
    assert is_empty(db_url)
    first = seed(db_url, tmp_path, seed_value=7, now=NOW)
    assert all(not report.errors for report in first.reports.values())
    second = seed(db_url, tmp_path, seed_value=7, now=NOW)
    assert all(report.created == 0 for report in second.reports.values())
    assert not is_empty(db_url)
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(FeatureRequest)).scalar_one() >= 40
        feedback = session.scalar(select(func.count()).select_from(Feedback))
    assert feedback == first.reports["feedback"].created
    assert (tmp_path / "sample" / "incoming.csv").read_text().startswith("text,expected_request_id")
