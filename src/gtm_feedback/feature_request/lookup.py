"""Search requests by what a customer said, through the matching engine: the requests a pain
would match, best first, each with its confidence and the reason (Slack's ``/feedback search``
and the MCP ``search_requests`` tool)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import search, service
from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.text.markup import clip

#: The longest text searched (longer is cut: the model reads ~256 tokens anyway).
MAX_TEXT = 2000


class Found(BaseModel):
    """One request a text matches."""

    slug: str
    title: str
    status: RequestStatus
    arr: Decimal
    confidence: float
    reason: str
    url: str


def matching_requests(text: str, limit: int = 5) -> list[Found]:
    """The requests ``text`` would match, best first (reads only: nothing is recorded)."""
    settings = adapters.current().settings
    embedder = get_embedder(settings)
    with session_scope(settings.app_database_url) as session:
        config = search.match_config(settings, embedder.model_id, session)
        candidates = search.find_candidates(
            session=session, embedder=embedder, pain=clip(text, MAX_TEXT), config=config
        ).candidates[:limit]
        rows = service.by_ids(session=session, ids=[c.request_id for c in candidates])
        return [
            Found(
                slug=row.slug,
                title=row.title,
                status=row.status,
                arr=service.request_arr(session=session, request_id=row.id),
                confidence=round(candidate.confidence, 4),
                reason=candidate.reason,
                url=f"{settings.base_url}/requests/{row.slug}",
            )
            for candidate in candidates
            if (row := rows.get(candidate.request_id)) is not None
        ]
