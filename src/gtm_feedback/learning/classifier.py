"""The second-opinion classifier: trained by the refit runs on the index items, cached per process.

Training takes the items of the process's search index (every request's vector and its linked
feedback's), fits ``matching.second`` outside any write transaction (it takes seconds to
minutes), then stores the weights. Matching uses the newest training of its embedding model;
each process loads it once per training.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.learning.models import MatchClassifier
from gtm_feedback.matching import second
from gtm_feedback.matching.index import LiveIndex, VectorIndex

#: Trainings kept per model: the newest is used, the ones before it are the record.
KEEP = 3


def train(
    settings: Settings, model_id: str, index: VectorIndex | LiveIndex, *, run_id: str
) -> MatchClassifier | None:
    """Train on the items of ``index`` (the process's current one) and store the result once per
    ``run_id``; None with fewer than two requests (nothing to choose between)."""
    url = settings.app_database_url
    with session_scope(url) as session:
        done = session.scalars(select(MatchClassifier).where(MatchClassifier.run_id == run_id))
        found = done.first()
        if found is not None:
            session.expunge(found)
            return found
    vectors, labels = index.labelled_items()
    if len(index) < 2:
        return None
    started = time.perf_counter()
    fitted = second.train(vectors, labels)
    row = MatchClassifier(
        run_id=run_id,
        model_id=model_id,
        requests=fitted.size,
        items=len(labels),
        seconds=round(time.perf_counter() - started, 3),
        request_ids=list(fitted.request_ids),
        weights=np.asarray(fitted.weights, "<f4").tobytes(),
        bias=np.asarray(fitted.bias, "<f4").tobytes(),
    )
    with session_scope(url, write=True) as session:
        session.add(row)
        session.flush()
        _prune(session, model_id)
        session.expunge(row)
    return row


def _prune(session: Session, model_id: str) -> None:
    kept = select(MatchClassifier.id).where(MatchClassifier.model_id == model_id)
    newest = list(session.scalars(kept.order_by(MatchClassifier.id.desc()).limit(KEEP)))
    session.execute(
        delete(MatchClassifier).where(
            MatchClassifier.model_id == model_id, MatchClassifier.id.not_in(newest)
        )
    )


def newest(session: Session, model_id: str) -> MatchClassifier | None:
    """The training matching uses for ``model_id`` (weights not loaded), if any."""
    return session.scalars(_newest(MatchClassifier, model_id)).first()


def _newest(what: Any, model_id: str) -> Select[Any]:
    query = select(what).where(MatchClassifier.model_id == model_id)
    return query.order_by(MatchClassifier.id.desc()).limit(1)


def as_opinion(row: MatchClassifier) -> second.SecondOpinion:
    """The stored weights as a classifier."""
    bias = np.frombuffer(row.bias, "<f4").astype(np.float32)
    weights = np.frombuffer(row.weights, "<f4").astype(np.float32).reshape(len(bias), -1)
    return second.SecondOpinion(tuple(row.request_ids), weights, bias)


class ClassifierCache:
    """The newest classifier per (database, model), loaded once per training."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], tuple[int, second.SecondOpinion]] = {}

    def get(self, session: Session, model_id: str) -> second.SecondOpinion | None:
        """The classifier to ask, or None before the first training."""
        key = (str(session.get_bind().engine.url), model_id)
        latest = session.scalars(_newest(MatchClassifier.id, model_id)).first()
        if latest is None:
            return None
        with self._lock:
            cached = self._loaded.get(key)
            if cached is not None and cached[0] == latest:
                return cached[1]
        row = session.get(MatchClassifier, latest)
        if row is None:  # pruned between the two reads: the next match loads the newer one
            return cached[1] if cached is not None else None
        loaded = as_opinion(row)
        with self._lock:
            self._loaded[key] = (latest, loaded)
        return loaded

    def clear(self) -> None:
        """Forget every classifier (tests, or after a restore)."""
        with self._lock:
            self._loaded.clear()


CLASSIFIERS = ClassifierCache()


def in_use(session: Session, settings: Settings, model_id: str) -> second.SecondOpinion | None:
    """The classifier matching asks, unless ``GTMFB_MATCH_SECOND_OPINION`` is off."""
    return CLASSIFIERS.get(session, model_id) if settings.match_second_opinion else None
