"""The second-opinion classifier: a refit trains it, matching asks it, decisions keep its view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import search
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import classifier, store
from gtm_feedback.learning.models import MatchClassifier, MatchDecision
from gtm_feedback.main import create_app
from tests import factories
from tests.auth import signed_in
from tests.runs import finished, seeded_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "classifier", embed=True)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _model(settings: Settings) -> str:
    return get_embedder(settings).model_id


def test_before_any_training_matching_has_no_second_opinion(
    client: TestClient, settings: Settings
) -> None:
    with session_scope(settings.app_database_url) as session:
        assert search.match_config(settings, _model(settings), session).second is None
    shown = client.get("/api/matching").json()
    assert shown["second_opinion"] is True
    assert shown["classifier"] is None
    assert "not trained yet" in client.get("/admin/matching").text


def test_a_refit_run_trains_it_and_matching_asks_it(client: TestClient, settings: Settings) -> None:
    started = client.post("/api/workflows/refit-matching", json={"trigger": "test"})
    result = finished(client, started.json()["run_id"], timeout=120)
    assert result["status"] == "SUCCESS", result
    trained = result["result"]["classifier_id"]
    assert trained is not None
    with session_scope(settings.app_database_url) as session:
        requests = (
            session.scalar(select(func.count()).where(FeatureRequest.embedding.is_not(None))) or 0
        )
        linked = (
            session.scalar(
                select(func.count()).where(
                    Feedback.request_id.is_not(None), Feedback.embedding.is_not(None)
                )
            )
            or 0
        )
        pain, home = session.execute(
            select(Feedback.description, Feedback.request_id).where(
                Feedback.request_id.is_not(None)
            )
        ).first() or ("", None)
        config = search.match_config(settings, _model(settings), session)
        assert config.second is not None
        found = search.find_candidates(
            session=session, embedder=get_embedder(settings), pain=pain, config=config
        )
    shown = client.get("/api/matching").json()["classifier"]
    assert shown["id"] == trained
    assert (shown["requests"], shown["items"]) == (requests, requests + linked)
    assert found.best is not None
    assert found.best.request_id == home
    assert found.best.opinion is not None
    assert found.best.opinion.lead > 0
    stored = found.best.as_dict()
    assert stored["opinion"] == [
        round(found.best.opinion.belief, 4),
        round(found.best.opinion.lead, 4),
    ]
    features = store.features_of([stored])
    assert features is not None
    assert features.opinion is not None
    assert "trained" in client.get("/admin/matching").text


def test_a_decision_keeps_the_opinion_it_was_made_on(settings: Settings) -> None:
    with session_scope(settings.app_database_url) as session:
        config = search.match_config(settings, _model(settings), session)
        found = search.find_candidates(
            session=session, embedder=get_embedder(settings), pain="SSO with Okta", config=config
        )
    features = store.features_of([c.as_dict() for c in found.candidates])
    assert features is not None
    assert features.opinion is not None
    with session_scope(settings.app_database_url, write=True) as session:
        factories.decision(session, _model(settings), "test:opinion", features, right=True)
    with session_scope(settings.app_database_url) as session:
        row = session.scalars(
            select(MatchDecision).where(MatchDecision.key == "test:opinion")
        ).one()
        assert (row.belief, row.lead) == (features.opinion.belief, features.opinion.lead)
        assert store.decisions(session=session, model_id=_model(settings))[-1].opinion == (
            features.opinion
        )


def test_a_retried_training_is_stored_once_and_old_ones_are_pruned(settings: Settings) -> None:
    model = _model(settings)
    with session_scope(settings.app_database_url) as session:
        index = search.INDEXES.get(session, model, get_embedder(settings).dimensions)
    first = classifier.train(settings, model, index, run_id="test-train-0")
    assert first is not None
    again = classifier.train(settings, model, index, run_id="test-train-0")  # a retried step
    assert again is not None
    assert again.id == first.id
    for n in range(1, classifier.KEEP + 2):
        classifier.train(settings, model, index, run_id=f"test-train-{n}")
    with session_scope(settings.app_database_url) as session:
        kept = list(session.scalars(select(MatchClassifier.run_id).order_by(MatchClassifier.id)))
        newest = classifier.newest(session, model)
        loaded = classifier.CLASSIFIERS.get(session, model)
    assert len(kept) == classifier.KEEP
    assert kept[-1] == f"test-train-{classifier.KEEP + 1}"
    assert newest is not None
    assert loaded is not None
    assert loaded.request_ids == tuple(newest.request_ids)


def test_it_can_be_switched_off(settings: Settings) -> None:
    off = settings.model_copy(update={"match_second_opinion": False})
    with session_scope(settings.app_database_url) as session:
        assert classifier.in_use(session, settings, _model(settings)) is not None
        assert search.match_config(off, _model(settings), session).second is None
