"""Every route of the API under generated hostile input: never a 5xx, on both databases.

Schemathesis reads the app's OpenAPI schema and Hypothesis generates, for every operation,
valid and invalid bodies, paths and query strings: NUL bytes, lone surrogates (no codec),
huge and negative numbers, wrong types, missing and extra fields. The cases are sent to the
real app with DBOS launched, on a seeded SQLite file and on a fresh PostgreSQL database.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from gtm_feedback.config import Settings
from gtm_feedback.main import create_app
from gtm_feedback.migrations import upgrade
from gtm_feedback.sample.loader import seed
from tests.auth import signed_in
from tests.runs import SAMPLE_NOW

# Schemathesis's own strategies use the random module, which Hypothesis warns about: not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)

#: Cases per operation and database (Hypothesis stops earlier on a small input space).
EXAMPLES = 150

# The schema only: the app built without DBOS, never started (its /openapi.json needs a
# signed-in viewer; the schema itself is the same).
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings(data_dir=Path("/nonexistent"), session_secret=secrets.token_urlsafe(32)),
        launch_dbos=False,
    ).openapi()
)
schema.config.generation.update(codec=None, allow_x00=True, max_examples=EXAMPLES)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The real app (DBOS launched) on a seeded database."""
    data_dir = tmp_path_factory.mktemp(f"hostile-{request.param}")
    url = request.getfixturevalue("module_pg_url") if request.param == "postgres" else None
    app_settings = Settings(data_dir=data_dir, database_url=url, followup_delay=3600.0)
    upgrade(app_settings.app_database_url)
    seed(app_settings.app_database_url, data_dir, seed_value=7, now=SAMPLE_NOW)
    with signed_in(create_app(app_settings), app_settings) as test_client:
        yield test_client


def _send(client: TestClient, case: schemathesis.Case[Any]) -> Any:
    sent = case.as_transport_kwargs(base_url="http://testserver")
    body = sent.pop("json", None)
    content = json.dumps(body).encode("utf-8", "surrogatepass") if body is not None else None
    data = sent.pop("data", None)
    # The schema declares the bearer scheme, so the case carries a made-up Authorization
    # header: the client's real token is sent instead, so the input reaches the route.
    headers = {
        name: value
        for name, value in sent.get("headers", {}).items()
        if name.lower() != "authorization"
    }
    if content is not None:
        headers["content-type"] = "application/json"
    return client.request(
        sent.pop("method"),
        sent.pop("url"),
        params=sent.get("params"),
        headers=headers,
        content=content if content is not None else data,
    )


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES)
def test_no_input_makes_a_route_answer_5xx(
    client: TestClient, case: schemathesis.Case[Any]
) -> None:
    response = _send(client, case)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
