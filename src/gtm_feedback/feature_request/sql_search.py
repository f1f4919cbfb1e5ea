"""Search requests in SQL with pgvector: approximate neighbours from the HNSW indexes, then the
same fused score as the in-memory index, computed exactly for each candidate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from gtm_feedback.feature_request.sql_vectors import DIMENSIONS
from gtm_feedback.matching.index import CENTROID_WEIGHT, Hit, Matrix

#: Nearest items and nearest centroids taken from each HNSW index before exact rescoring,
#: and how far each index search looks (``hnsw.ef_search``): recall@10 against exact search
#: for these is measured by bench/pgvector.py (docs/benchmarks.md).
CANDIDATES = 100
EF_SEARCH = 200

_SEARCH = text(
    "WITH near AS ("
    " (SELECT request_id FROM search_items WHERE model = :model"
    "  ORDER BY vector <=> :query LIMIT :n)"
    " UNION"
    " (SELECT request_id FROM search_requests WHERE model = :model"
    "  ORDER BY centroid <=> :query LIMIT :n))"
    " SELECT item.request_id, item.feedback_id, 1 - (item.vector <=> :query) AS similarity,"
    " 1 - (own.centroid <=> :query) AS centroid, own.linked"
    " FROM near JOIN search_requests own ON own.request_id = near.request_id"
    " JOIN search_items item ON item.request_id = near.request_id AND item.model = own.model"
).bindparams(bindparam("query", type_=Vector(DIMENSIONS)))


class PgVectorSource:
    """A :class:`~gtm_feedback.matching.index.CandidateSource` over the pgvector tables."""

    def __init__(
        self,
        session: Session,
        model_id: str,
        candidates: int = CANDIDATES,
        ef_search: int = EF_SEARCH,
    ) -> None:
        self._session = session
        self._model_id = model_id
        self._candidates = candidates
        self._ef_search = ef_search

    def search(self, query: Matrix, k: int = 10) -> list[Hit]:
        """The ``k`` best requests for one L2-normalised query vector, best first."""
        if k <= 0:
            return []
        n = max(self._candidates, k)
        connection = self._session.connection()
        # For this transaction: look as far as we take, and keep scanning past other models.
        connection.execute(
            text(
                "SELECT set_config('hnsw.ef_search', :ef, true),"
                " set_config('hnsw.iterative_scan', 'relaxed_order', true)"
            ),
            {"ef": str(max(n, self._ef_search))},
        )
        rows = connection.execute(_SEARCH, {"model": self._model_id, "query": query, "n": n})
        return _ranked(rows, k)


def _ranked(rows: Iterable[Any], k: int) -> list[Hit]:
    items: dict[str, list[tuple[str | None, float]]] = defaultdict(list)
    centroids: dict[str, tuple[float, int]] = {}
    for request_id, feedback_id, similarity, centroid, linked in rows:
        items[request_id].append((feedback_id, float(similarity)))
        centroids[request_id] = (float(centroid), int(linked))
    hits = []
    for request_id, own in items.items():
        centroid, linked = centroids[request_id]
        best = max(similarity for _, similarity in own)
        # Ties (the same text twice) go as in memory: the request's text, then the lowest id.
        best_id = min(
            (f for f, similarity in own if similarity >= best - 1e-6),
            key=lambda f: (f is not None, f or ""),
        )
        text_similarity = next(s for feedback_id, s in own if feedback_id is None)
        hits.append(
            Hit(
                request_id=request_id,
                score=CENTROID_WEIGHT * centroid + (1 - CENTROID_WEIGHT) * best,
                text_similarity=text_similarity,
                best_item_similarity=best,
                best_feedback_id=best_id,
                linked=linked,
            )
        )
    return sorted(hits, key=lambda hit: (-hit.score, hit.request_id))[:k]
