"""Semantic search over requests: a per-process in-memory index kept in step with the database.

Every process (web server, workers, CLI) holds its own :class:`LiveIndex`. Before a search it
reads one counter (``vector_index_state``) that every change to searchable vectors bumps in
its own transaction, logging which requests it changed (``vector_index_changes``). When the
counter moved, the index reloads just those requests; when the log cannot say (pruned, or an
import changed everything) it is rebuilt from the stored vectors. So a request embedded by one
process is found by the others on their next search.

On PostgreSQL with pgvector (``sql_vectors``) the search runs in SQL instead (``sql_search``)
and a process holds only the request texts it read, kept per version the same way.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.vectors import from_bytes
from gtm_feedback.errors import UnavailableError
from gtm_feedback.feature_request import sql_vectors
from gtm_feedback.feature_request.index_state import changes_since, current_version
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feature_request.sql_search import PgVectorSource
from gtm_feedback.feature_request.texts import TextCache
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.integrations.embeddings import Embedder
from gtm_feedback.learning import classifier
from gtm_feedback.learning import service as learning
from gtm_feedback.matching.calibration import Calibration, novelty_for
from gtm_feedback.matching.index import CandidateSource, IndexEntry, LiveIndex, VectorIndex
from gtm_feedback.matching.matcher import MatchConfig, MatchResult, RequestText, match
from gtm_feedback.matching.tiers import Thresholds


@dataclass(frozen=True)
class Built:
    """An index brought up to ``version``, and the request texts read at that version."""

    version: int
    index: LiveIndex
    texts: TextCache


class IndexCache:
    """Indexes by (database, model), each with the version it was brought up to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[tuple[str, str], Built] = {}
        self.loads = 0  # how many times an index was (re)built, for tests and metrics
        self.updates = 0  # how many times changed requests were reloaded instead

    def get(self, session: Session, model_id: str, dimensions: int) -> LiveIndex:
        """The current index; changed requests reloaded, rebuilt when the log cannot say."""
        return self.current(session, model_id, dimensions).index

    def current(self, session: Session, model_id: str, dimensions: int) -> Built:
        """The current index and its texts (changed requests reloaded and forgotten)."""
        key = (str(session.get_bind().engine.url), model_id)
        version = current_version(session)  # read first: a change after this is seen next time
        with self._lock:
            cached = self._built.get(key)
            if cached is not None and cached.version == version:
                return cached
            changed = None if cached is None else changes_since(session, cached.version, version)
            if cached is not None and changed is not None:
                entries = load_entries(session, model_id, dimensions, changed)
                index = cached.index.changed({r: entries.get(r) for r in changed})
                built = Built(version, index, cached.texts.without(changed))
                self.updates += 1
            else:
                loaded = load_index(session=session, model_id=model_id, dimensions=dimensions)
                built = Built(version, LiveIndex(loaded), TextCache())
                self.loads += 1
            self._built[key] = built
            return built

    @contextmanager
    def set_aside(self, *, texts_only: bool = False) -> Iterator[None]:
        """Within the block, as a process without indexes (or without texts read) yet; what
        was held comes back after it (benchmarks: what each costs, without disturbing)."""
        with self._lock:
            held = dict(self._built)
            if texts_only:
                self._built = {k: replace(b, texts=TextCache()) for k, b in held.items()}
            else:
                self._built = {}
        try:
            yield
        finally:
            with self._lock:
                self._built = held

    def clear(self) -> None:
        """Forget every index (tests, or after a restore)."""
        with self._lock:
            self._built.clear()


class TextsCache:
    """Request texts by (database, model) with the version they were read at: what a process
    keeps when pgvector searches for it (no index in memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], tuple[int, TextCache]] = {}

    def current(self, session: Session, model_id: str) -> TextCache:
        """The texts still valid at the current version (changed requests forgotten)."""
        key = (str(session.get_bind().engine.url), model_id)
        version = current_version(session)
        with self._lock:
            held = self._held.get(key)
            if held is not None and held[0] == version:
                return held[1]
            changed = None if held is None else changes_since(session, held[0], version)
            texts = held[1].without(changed) if held and changed is not None else TextCache()
            self._held[key] = (version, texts)
            return texts

    def clear(self) -> None:
        """Forget every text read (tests)."""
        with self._lock:
            self._held.clear()


INDEXES = IndexCache()
TEXTS = TextsCache()


def uses_pgvector(session: Session, embedder: Embedder, choice: str = "auto") -> bool:
    """Whether matches on this database search with pgvector; ``choice`` is
    ``GTMFB_VECTOR_SEARCH`` (auto, numpy or pgvector)."""
    if choice == "numpy":
        return False
    ready = sql_vectors.enabled(session.connection())
    fits = embedder.dimensions == sql_vectors.DIMENSIONS
    if choice == "pgvector" and not (ready and fits):
        why = (
            "the database has no pgvector search tables: install pgvector on the server and "
            "run `gtm-feedback db upgrade` (docs/deploy.md)"
            if not ready
            else f"the embeddings are {embedder.dimensions} wide, the search tables 384"
        )
        raise UnavailableError(f"GTMFB_VECTOR_SEARCH=pgvector, but {why}; or set it to auto")
    return ready and fits


def _source(session: Session, embedder: Embedder, choice: str) -> tuple[CandidateSource, TextCache]:
    if uses_pgvector(session, embedder, choice):
        return PgVectorSource(session, embedder.model_id), TEXTS.current(session, embedder.model_id)
    built = INDEXES.current(session, embedder.model_id, embedder.dimensions)
    return built.index, built.texts


def load_index(*, session: Session, model_id: str, dimensions: int) -> VectorIndex:
    """Build the index from every stored request vector of ``model_id`` and its feedback's."""
    return VectorIndex(list(_entries(session, model_id, dimensions, None).values()), dimensions)


def load_entries(
    session: Session, model_id: str, dimensions: int, request_ids: Collection[str]
) -> dict[str, IndexEntry]:
    """The entries of ``request_ids`` that have a vector of ``model_id`` now."""
    return _entries(session, model_id, dimensions, request_ids)


def _entries(
    session: Session, model_id: str, dimensions: int, only: Collection[str] | None
) -> dict[str, IndexEntry]:
    chosen = select(FeatureRequest.id, FeatureRequest.embedding).where(
        FeatureRequest.embedding_model == model_id
    )
    linked_rows = select(Feedback.request_id, Feedback.id, Feedback.embedding).where(
        Feedback.embedding_model == model_id
    )
    if only is not None:
        chosen = chosen.where(FeatureRequest.id.in_(only))
        linked_rows = linked_rows.where(Feedback.request_id.in_(only))
    requests = session.execute(chosen.order_by(FeatureRequest.id)).all()
    linked: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    rows = session.execute(linked_rows.order_by(Feedback.id))
    for request_id, feedback_id, blob in rows:
        if blob is not None:
            linked[request_id].append((feedback_id, blob))
    entries = {}
    for request_id, blob in requests:
        if blob is None:
            continue
        items = linked.get(request_id, [])
        vectors = (
            np.stack([from_bytes(b) for _, b in items])
            if items
            else np.zeros((0, dimensions), dtype=np.float32)
        )
        entries[request_id] = IndexEntry(
            request_id, from_bytes(blob), vectors, tuple(i for i, _ in items)
        )
    return entries


def match_config(settings: Settings, model_id: str, session: Session) -> MatchConfig:
    """Thresholds, weights and calibration in use: the newest active refit learnt from people's
    decisions, unless the environment pins the calibration or the auto threshold; and the
    newest second-opinion classifier."""
    in_use = learning.current(session, settings, model_id)
    config = offline_config(settings, model_id, in_use.calibration, in_use.auto_threshold)
    return replace(config, second=classifier.in_use(session, settings, model_id))


def offline_config(
    settings: Settings,
    model_id: str,
    calibration: Calibration | None = None,
    auto_threshold: float | None = None,
) -> MatchConfig:
    """The configuration from settings and the shipped models alone (no database)."""
    if calibration is None:
        calibration = learning.configured(settings, model_id)
    novelty = novelty_for(model_id)
    if settings.match_novelty is not None:
        novelty = Calibration(model_id, *settings.match_novelty)
    auto = settings.match_auto_threshold if auto_threshold is None else auto_threshold
    approval = settings.match_approval_threshold
    return MatchConfig(
        thresholds=Thresholds(auto, approval),
        calibration=calibration,
        novelty=novelty,
        lexical_weight=settings.match_lexical_weight,
        search=settings.vector_search,
    )


def find_candidates(
    *, session: Session, embedder: Embedder, pain: str, config: MatchConfig
) -> MatchResult:
    """Rank the requests a customer pain could belong to and decide the tier."""
    source, texts = _source(session, embedder, config.search)
    query = embedder.embed([pain])[0]
    return match(
        query, pain, source, lambda ids, closest: texts.lookup(session, ids, closest), config
    )


def texts_of(
    session: Session, embedder: Embedder, ids: Sequence[str], config: MatchConfig
) -> dict[str, RequestText]:
    """The texts of requests in the index, as the last match read them (or read now)."""
    return _source(session, embedder, config.search)[1].lookup(session, ids, ())
