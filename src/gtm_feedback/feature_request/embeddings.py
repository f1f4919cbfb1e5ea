"""Store embeddings of requests and feedback; find rows whose vector is missing or stale."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gtm_feedback.db.session import session_scope
from gtm_feedback.db.vectors import to_bytes
from gtm_feedback.feature_request.index_state import bump_version
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.integrations.embeddings import Embedder, Precomputed
from gtm_feedback.matching.matcher import request_text

Model = type[FeatureRequest] | type[Feedback]


@dataclass(frozen=True)
class Pending:
    """Rows to (re-)embed, by table."""

    requests: list[str]
    feedback: list[str]

    @property
    def total(self) -> int:
        """How many rows in all."""
        return len(self.requests) + len(self.feedback)


def embedding_key(model_id: str, text: str) -> str:
    """Identifies one text embedded by one model; a changed text or model changes the key."""
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()


def pending(*, session: Session, model_id: str) -> Pending:
    """Rows with no vector, a vector of another model, or text changed since embedding."""
    requests = [
        row.id
        for row in session.execute(
            select(
                FeatureRequest.id,
                FeatureRequest.title,
                FeatureRequest.description,
                FeatureRequest.embedding_key,
            )
            .where(FeatureRequest.merged_into_id.is_(None))  # tombstones are not searched
            .order_by(FeatureRequest.id)
        )
        if row.embedding_key != embedding_key(model_id, request_text(row.title, row.description))
    ]
    feedback = [
        row.id
        for row in session.execute(
            select(Feedback.id, Feedback.description, Feedback.embedding_key).order_by(Feedback.id)
        )
        if row.embedding_key != embedding_key(model_id, row.description)
    ]
    return Pending(requests, feedback)


def embed_requests(*, session: Session, embedder: Embedder, ids: Sequence[str]) -> int:
    """Embed and store the given requests; returns how many were found."""
    found, texts = _request_texts(session, ids)
    return _store(session, embedder, FeatureRequest, found, texts, touched=found)


def embed_feedback(*, session: Session, embedder: Embedder, ids: Sequence[str]) -> int:
    """Embed and store the given feedback items; returns how many were found."""
    found, texts = _feedback_texts(session, ids)
    owners = session.execute(
        select(Feedback.request_id).where(Feedback.id.in_(found)).distinct()
    ).scalars()
    return _store(session, embedder, Feedback, found, texts, touched=[o for o in owners if o])


def embed_batch(url: str, embedder: Embedder, kind: str, ids: Sequence[str]) -> int:
    """Embed one batch of ``kind`` ("requests" or "feedback") and commit it; how many stored.

    The model runs between a read and the write transaction: a batch can take seconds on a
    busy machine, and every other writer would wait that long for SQLite's write lock.
    """
    read = _request_texts if kind == "requests" else _feedback_texts
    store = embed_requests if kind == "requests" else embed_feedback
    with session_scope(url) as session:
        texts = read(session, ids)[1]
    ready = Precomputed(embedder, texts)
    with session_scope(url, write=True) as session:
        return store(session=session, embedder=ready, ids=ids)


def _request_texts(session: Session, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(FeatureRequest.id, FeatureRequest.title, FeatureRequest.description).where(
            FeatureRequest.id.in_(ids)
        )
    ).all()
    return [row.id for row in rows], [request_text(row.title, row.description) for row in rows]


def _feedback_texts(session: Session, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(Feedback.id, Feedback.description).where(Feedback.id.in_(ids))
    ).all()
    return [row.id for row in rows], [row.description for row in rows]


def _store(
    session: Session,
    embedder: Embedder,
    model: Model,
    ids: list[str],
    texts: list[str],
    touched: Sequence[str],
) -> int:
    if not ids:
        return 0
    vectors = embedder.embed(texts)
    session.execute(
        update(model),
        [
            {
                "id": row_id,
                "embedding": to_bytes(vector),
                "embedding_model": embedder.model_id,
                "embedding_key": embedding_key(embedder.model_id, text),
            }
            for row_id, text, vector in zip(ids, texts, vectors, strict=True)
        ],
    )
    bump_version(session, touched)  # bulk UPDATE by primary key skips the flush hook
    return len(ids)


def coverage(*, session: Session, model_id: str) -> tuple[int, int]:
    """(requests with a vector of ``model_id``, all requests)."""
    total = session.execute(select(func.count()).select_from(FeatureRequest)).scalar_one()
    embedded = session.execute(
        select(func.count()).where(FeatureRequest.embedding_model == model_id)
    ).scalar_one()
    return embedded, total
