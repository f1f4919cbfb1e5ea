"""Form writes during a feedback burst, on a real server: every "saved" answer is stored."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from gtm_feedback.db.session import dispose_engines, session_scope
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.user.models import Role, User
from tests.servers import api_headers, server_env, start, stop, wait_ready

SUBMISSIONS = 100
STATUS_CHANGES = 30
FOLLOWS = 60


@dataclass(frozen=True)
class People:
    """The credentials of who writes: one approver, and a member per follow."""

    pm: dict[str, str]
    followers: list[dict[str, str]]


async def _until_answered(send: Any) -> httpx.Response:
    """Send until the answer is not a 503 (which says nothing was written: retry later)."""
    for _ in range(60):
        answer: httpx.Response = await send()
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(float(answer.headers["retry-after"]))
    raise AssertionError("never answered")


async def _all(
    base: str, people: People, feedback: list[dict[str, str]], slugs: list[str]
) -> list[int]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        def submit(n: int) -> Any:
            headers = people.pm | {"Idempotency-Key": f"w{n}"}
            return lambda: client.post("/api/feedback", json=feedback[n], headers=headers)

        def deprioritize(slug: str) -> Any:
            form = {"status": "deprioritized"}
            return lambda: client.post(f"/requests/{slug}/status", data=form, headers=people.pm)

        def follow(n: int) -> Any:
            path = f"/requests/{slugs[n % len(slugs)]}/followers"
            return lambda: client.post(path, data={}, headers=people.followers[n])

        sends = [submit(n) for n in range(SUBMISSIONS)]
        sends += [deprioritize(slug) for slug in slugs[:STATUS_CHANGES]]
        sends += [follow(n) for n in range(FOLLOWS)]
        answers = await asyncio.gather(*(_until_answered(send) for send in sends))
        return [answer.status_code for answer in answers]


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_every_saved_answer_is_stored(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    settings = {"followup_delay": "1h", "intake_rate_limit": "off"}  # one client, many posts
    if database == "postgres":
        settings["database_url"] = request.getfixturevalue("empty_pg_url")
    data_dir = tmp_path / "data"
    env, base = server_env(data_dir, **settings)
    url = settings.get("database_url") or f"sqlite:///{data_dir / 'gtm_feedback.sqlite'}"
    with session_scope(url) as session:
        query = select(FeatureRequest.slug).where(FeatureRequest.status == RequestStatus.OPEN)
        slugs = list(session.scalars(query.order_by(FeatureRequest.slug)))
    assert len(slugs) >= STATUS_CHANGES
    with (data_dir / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    feedback = [
        {key: rows[n % len(rows)][key] for key in ("severity", "account_id", "submitter_email")}
        | {"pain": f"{rows[n % len(rows)]['text']} (write test {n})"}
        for n in range(SUBMISSIONS)
    ]
    people = People(
        pm=api_headers(env, Role.approver, "pm@gtm.example"),
        followers=[
            api_headers(env, Role.member, f"follower{n}@gtm.example") for n in range(FOLLOWS)
        ],
    )
    server = start(env, tmp_path / "server.log")
    try:
        wait_ready(base)
        codes = asyncio.run(_all(base, people, feedback, slugs))
    finally:
        stop(server)
    assert codes[:SUBMISSIONS] == [202] * SUBMISSIONS
    assert codes[SUBMISSIONS:] == [303] * (STATUS_CHANGES + FOLLOWS)  # "saved"
    with session_scope(url) as session:
        changed = session.scalars(
            select(FeatureRequest.status).where(FeatureRequest.slug.in_(slugs[:STATUS_CHANGES]))
        ).all()
        assert set(changed) == {RequestStatus.DEPRIORITIZED}
        for n in range(FOLLOWS):
            user = session.scalars(
                select(User).where(User.email == f"follower{n}@gtm.example")
            ).one()
            slug = slugs[n % len(slugs)]
            request_row = session.scalars(
                select(FeatureRequest).where(FeatureRequest.slug == slug)
            ).one()
            assert user in request_row.followers, (n, slug)
    dispose_engines()
