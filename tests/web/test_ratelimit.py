"""Per-client rate limits: over the rate, 429 with Retry-After and nothing written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.errors import RateLimitedError
from gtm_feedback.main import create_app
from gtm_feedback.web.ratelimit import RateLimit
from tests.auth import signed_in
from tests.runs import seeded_settings


def test_each_client_has_its_own_window() -> None:
    limit = RateLimit("2/minute")
    limit.check("10.0.0.1")
    limit.check("10.0.0.1")
    with pytest.raises(RateLimitedError) as refused:
        limit.check("10.0.0.1")
    assert 1 <= refused.value.retry_after_s <= 60
    limit.check("10.0.0.2")  # another client is not affected


def test_off_means_no_limit() -> None:
    limit = RateLimit("off")
    for _ in range(1000):
        limit.check("10.0.0.1")


def test_an_invalid_rate_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Settings(intake_rate_limit="many per minute")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real app with a tiny intake rate."""
    settings = seeded_settings(tmp_path_factory, "ratelimit", intake_rate_limit="3/minute")
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def test_the_intake_answers_429_over_the_rate(client: TestClient) -> None:
    answers = [client.post("/api/workflows/sync-embeddings", json={}) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert "limit" in answers[-1].json()["detail"]
    assert client.get("/api/requests").status_code == 200  # reads are not limited
