"""pgvector on PostgreSQL: the migration installs it, the mirror follows every change in the
same transaction, and the SQL search ranks exactly as the in-memory index does."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gtm_feedback.cli import app
from gtm_feedback.config import Settings, get_settings
from gtm_feedback.db.session import get_engine, session_scope
from gtm_feedback.errors import UnavailableError
from gtm_feedback.feature_request import embeddings, search, sql_vectors
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feature_request.sql_search import PgVectorSource
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.main import create_app
from gtm_feedback.matching.index import Hit
from gtm_feedback.sample.loader import seed
from tests.auth import signed_in
from tests.runs import SAMPLE_NOW, finished

pytestmark = pytest.mark.postgres

SSO = "saml-single-sign-on-with-okta-and-azure-ad"


def _seed(url: str, embedder: OnnxEmbedder, folder: Path) -> None:
    """The sample data, embedded by the real model through the product's own path."""
    seed(url, folder, seed_value=7, now=SAMPLE_NOW)
    with session_scope(url, write=True) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)


def _queries(embedder: OnnxEmbedder, folder: Path, n: int = 40) -> np.ndarray:
    """The sample's incoming feedback (new wording, not stored): what matches will see."""
    with (folder / "sample" / "incoming.csv").open(newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][:n]
    return embedder.embed(texts)


def _stored(session: Session) -> tuple[int, int]:
    """(items with a vector, requests with one): what the mirror must hold."""
    requests = session.execute(
        text("SELECT count(*) FROM feature_requests WHERE embedding IS NOT NULL")
    ).scalar_one()
    feedback = session.execute(
        text("SELECT count(*) FROM feedback WHERE embedding IS NOT NULL")
    ).scalar_one()
    return requests + feedback, requests


def _exact(session: Session, embedder: OnnxEmbedder, query: np.ndarray) -> list[Hit]:
    index = search.load_index(
        session=session, model_id=embedder.model_id, dimensions=embedder.dimensions
    )
    return index.search(query, 10)


def _assert_same(session: Session, embedder: OnnxEmbedder, queries: np.ndarray) -> None:
    sql = PgVectorSource(session, embedder.model_id)
    for query in queries:
        want, got = _exact(session, embedder, query), sql.search(query, 10)
        assert [h.request_id for h in got] == [h.request_id for h in want]
        for a, b in zip(got, want, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-5)
            assert a.text_similarity == pytest.approx(b.text_similarity, abs=1e-5)
            assert a.best_item_similarity == pytest.approx(b.best_item_similarity, abs=1e-5)
            assert (a.best_feedback_id, a.linked) == (b.best_feedback_id, b.linked)


def _mirror_counts(session: Session) -> tuple[int, int]:
    items = session.execute(text("SELECT count(*) FROM search_items")).scalar_one()
    requests = session.execute(text("SELECT count(*) FROM search_requests")).scalar_one()
    return items, requests


@pytest.fixture
def seeded(pgvector_url: str, embedder: OnnxEmbedder, tmp_path: Path) -> str:
    _seed(pgvector_url, embedder, tmp_path)
    return pgvector_url


def test_the_migration_installs_pgvector_and_its_tables(pgvector_url: str) -> None:
    with get_engine(pgvector_url).connect() as connection:
        version = connection.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar_one()
        assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 7)  # l2_normalize
        indexes = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%hnsw%'")
        ).all()
        assert {name for name, _ in indexes} == {
            "ix_search_items_vector",
            "ix_search_requests_centroid",
        }
        assert all("vector_cosine_ops" in definition for _, definition in indexes)
        assert sql_vectors.enabled(connection)  # the models' comparison: test_migrations


def test_without_the_extension_matching_stays_in_memory(
    postgres_url: str, embedder: OnnxEmbedder
) -> None:
    with session_scope(postgres_url) as session:
        assert not sql_vectors.enabled(session.connection())
        assert not search.uses_pgvector(session, embedder)
        with pytest.raises(UnavailableError, match="no pgvector search tables"):
            search.uses_pgvector(session, embedder, "pgvector")


def test_sql_search_ranks_as_the_exact_index(
    seeded: str, embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    queries = _queries(embedder, tmp_path)
    with session_scope(seeded) as session:
        assert _mirror_counts(session) == _stored(session)
        assert _stored(session)[1] == 43  # every sample request is mirrored
        _assert_same(session, embedder, queries)


def test_the_mirror_follows_moves_edits_and_deletes(
    seeded: str, embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    queries = _queries(embedder, tmp_path, 20)
    with session_scope(seeded, write=True) as session:
        items = session.scalars(select(Feedback).order_by(Feedback.id)).all()
        requests = session.scalars(select(FeatureRequest).order_by(FeatureRequest.id)).all()
        for moved, target in zip(items[:5], requests[-5:], strict=True):
            moved.request_id = target.id  # a person moved the feedback
        for gone in items[10:13]:
            session.delete(gone)
        session.delete(requests[0])
        requests[1].description = "Customers want to pay in instalments over three months."
        session.flush()
        embeddings.embed_requests(session=session, embedder=embedder, ids=[requests[1].id])
    with session_scope(seeded) as session:
        assert _stored(session)[1] == 42  # one request deleted
        assert _mirror_counts(session) == _stored(session)
        _assert_same(session, embedder, queries)


def test_a_lost_mirror_is_rebuilt_from_the_stored_vectors(
    seeded: str, embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    queries = _queries(embedder, tmp_path, 10)
    with get_engine(seeded).begin() as connection:
        sql_vectors.drop(connection)
        assert not sql_vectors.enabled(connection)
        assert sql_vectors.ensure(connection)  # as `gtm-feedback init` does on every start
    with get_engine(seeded).begin() as connection:
        sql_vectors.backfill(connection)
    with session_scope(seeded) as session:
        assert _mirror_counts(session) == _stored(session)
        _assert_same(session, embedder, queries)


def _account(url: str) -> str:
    with session_scope(url) as session:
        found = session.scalars(select(Feedback.account_id)).first()
        assert found is not None
        return found


def _request_id(url: str, slug: str) -> str:
    with session_scope(url) as session:
        found = session.scalars(select(FeatureRequest.id).where(FeatureRequest.slug == slug))
        return found.one()


def _linked(url: str, request_id: str) -> int:
    with session_scope(url) as session:
        found = select(func.count()).where(Feedback.request_id == request_id)
        return int(session.execute(found).scalar_one())


def _waiting_on_a_lock(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        with get_engine(url).connect() as connection:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the second attach never waited for the first")


def _attach(url: str, request_id: str, description: str, embedder: OnnxEmbedder) -> str:
    vector = embedder.embed([description])[0]
    with session_scope(url, write=True) as session:
        feedback = Feedback(
            request_id=request_id,
            account_id=_account(url),
            severity=Severity.HIGH,
            description=description,
            embedding=vector.astype("<f4").tobytes(),
            embedding_model=embedder.model_id,
            embedding_key=embeddings.embedding_key(embedder.model_id, description),
        )
        session.add(feedback)
        session.flush()
        return feedback.id


def test_concurrent_attaches_to_one_request_both_reach_its_centroid(
    seeded: str, embedder: OnnxEmbedder
) -> None:
    request_id = _request_id(seeded, SSO)
    before = _linked(seeded, request_id)
    account = _account(seeded)
    first = session_scope(seeded, write=True)
    session = first.__enter__()
    vector = embedder.embed(["We cannot roll out without Okta sign-in"])[0]
    session.add(
        Feedback(
            request_id=request_id,
            account_id=account,
            severity=Severity.HIGH,
            description="We cannot roll out without Okta sign-in",
            embedding=vector.astype("<f4").tobytes(),
            embedding_model=embedder.model_id,
            embedding_key=embeddings.embedding_key(embedder.model_id, "x"),
        )
    )
    session.flush()  # mirrored, the request's row locked until this transaction ends
    second: list[str] = []
    worker = threading.Thread(
        target=lambda: second.append(
            _attach(seeded, request_id, "Azure AD single sign-on, please", embedder)
        )
    )
    worker.start()
    try:
        _waiting_on_a_lock(seeded, time.monotonic() + 30)
    finally:
        first.__exit__(None, None, None)
        worker.join(timeout=60)
    assert second, "the second attach did not finish"
    with session_scope(seeded) as session:
        stored = session.execute(
            text("SELECT linked, centroid FROM search_requests WHERE request_id = :r"),
            {"r": request_id},
        ).one()
        entry = search.load_entries(session, embedder.model_id, embedder.dimensions, [request_id])[
            request_id
        ]
    total = entry.text_vector + entry.feedback_vectors.sum(axis=0)
    assert stored.linked == before + 2
    centroid = np.array(json.loads(stored.centroid))  # pgvector's text form is a JSON array
    assert np.allclose(centroid, total / np.linalg.norm(total), atol=1e-5)


def test_matches_on_pgvector_decide_as_in_memory(
    seeded: str, embedder: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with (tmp_path / "sample" / "incoming.csv").open(newline="") as handle:
        pains = [row["text"] for row in csv.DictReader(handle)][:15]
    results = {}
    for choice in ("pgvector", "numpy"):
        monkeypatch.setenv("GTMFB_VECTOR_SEARCH", choice)  # as a deployment sets it
        config = search.offline_config(Settings(), embedder.model_id)
        assert config.search == choice
        loads = search.INDEXES.loads
        with session_scope(seeded) as session:
            assert search.uses_pgvector(session, embedder, config.search) is (choice == "pgvector")
            results[choice] = [
                search.find_candidates(session=session, embedder=embedder, pain=p, config=config)
                for p in pains
            ]
        assert (search.INDEXES.loads > loads) is (choice == "numpy")  # no index in memory
    for sql, memory in zip(results["pgvector"], results["numpy"], strict=True):
        assert sql.tier is memory.tier
        assert [c.request_id for c in sql.candidates] == [c.request_id for c in memory.candidates]
        for a, b in zip(sql.candidates, memory.candidates, strict=True):
            assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
            assert a.reason == b.reason


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    search.INDEXES.clear()
    search.TEXTS.clear()
    yield
    search.INDEXES.clear()
    search.TEXTS.clear()


def test_feedback_is_matched_and_attached_through_pgvector(
    pgvector_url: str, tmp_path: Path
) -> None:
    """The whole pipeline (app, DBOS, workflow) on a pgvector database: the match searches in
    SQL (no index built in memory) and the attached item joins the mirror in its transaction."""
    settings = Settings(
        data_dir=tmp_path, database_url=pgvector_url, port=8151, approval_timeout=1.0
    )
    seed(pgvector_url, tmp_path, seed_value=7, now=SAMPLE_NOW)
    embedder = get_embedder(settings)
    with session_scope(pgvector_url) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        sso = session.scalars(select(FeatureRequest).where(FeatureRequest.slug == SSO)).one()
        pain = session.scalars(select(Feedback.description).where(Feedback.request_id == sso.id))
        pain_text = pain.first()
        account = session.scalars(select(Feedback.account_id)).first()
    for kind, ids in (("requests", todo.requests), ("feedback", todo.feedback)):
        embeddings.embed_batch(pgvector_url, embedder, kind, ids)
    loads = search.INDEXES.loads
    with signed_in(create_app(settings), settings) as client:
        answer = client.post(
            "/api/feedback",
            json={
                "pain": pain_text,
                "severity": "high",
                "account_id": account,
                "submitter_email": "seller@gtm.example",
            },
        )
        assert answer.status_code == 202, answer.text
        result = finished(client, answer.json()["run_id"], timeout=120)["result"]
    assert (result["tier"], result["request_id"]) == ("auto", sso.id)
    assert search.INDEXES.loads == loads
    with session_scope(pgvector_url) as session:
        mirrored = session.execute(
            text("SELECT request_id FROM search_items WHERE item_id = :f"),
            {"f": result["feedback_id"]},
        ).scalar_one()
        assert mirrored == sso.id


def test_db_upgrade_reports_pgvector(
    empty_pgvector_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATABASE_URL", empty_pgvector_url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Vector search: pgvector (HNSW indexes in the database)" in result.output
