"""Request texts for the wording re-rank: read from the database, and kept per index version.

A match compares the pain's wording with each shortlisted request's title, description and
recent linked feedback. Reading them costs a windowed query per match; :class:`TextCache`
keeps what was read for one version of the vector index, and the next version starts from a
copy without the requests its change log names (every edit of a title, description or linked
feedback bumps the version: ``index_state``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.matching.matcher import RequestText

#: Linked feedback texts used per request for wording comparison (most recent first).
LEXICAL_FEEDBACK = 50
#: Requests a cache holds at most (each up to LEXICAL_FEEDBACK texts); past it, it starts over.
CACHED_REQUESTS = 4096


def request_texts(
    *, session: Session, ids: Sequence[str], feedback_ids: Sequence[str] = ()
) -> dict[str, RequestText]:
    """Titles, descriptions and linked feedback of the given requests.

    Per request: its most recent linked feedback (for wording comparison), plus the items in
    ``feedback_ids`` (the closest ones, quoted in reasons) however old they are.
    """
    recent = (
        select(
            Feedback.request_id,
            Feedback.id,
            Feedback.description,
            func.row_number()
            .over(partition_by=Feedback.request_id, order_by=Feedback.created_at.desc())
            .label("position"),
        )
        .where(Feedback.request_id.in_(ids))
        .subquery()
    )
    rows = session.execute(
        select(recent.c.request_id, recent.c.id, recent.c.description).where(
            or_(recent.c.position <= LEXICAL_FEEDBACK, recent.c.id.in_(feedback_ids))
        )
    )
    feedback: dict[str, dict[str, str]] = defaultdict(dict)
    for request_id, feedback_id, text in rows:
        feedback[request_id][feedback_id] = text
    found = session.execute(
        select(FeatureRequest.id, FeatureRequest.title, FeatureRequest.description).where(
            FeatureRequest.id.in_(ids)
        )
    )
    return {
        row.id: RequestText(row.title, row.description, feedback.get(row.id, {})) for row in found
    }


class TextCache:
    """The texts of requests as of one index version (those asked for so far).

    A reader that filled an old version's cache after a newer one replaced it changes nothing
    the newer one holds: each version has its own dictionary.
    """

    def __init__(self, held: dict[str, RequestText] | None = None) -> None:
        self._held: dict[str, RequestText] = held or {}
        self.reads = 0  # database reads, for tests

    def without(self, changed: set[str]) -> TextCache:
        """A cache for the next version: this one's texts less the ``changed`` requests'."""
        return TextCache({r: t for r, t in self._held.items() if r not in changed})

    def lookup(
        self, session: Session, ids: Sequence[str], closest: Sequence[str]
    ) -> dict[str, RequestText]:
        """As :func:`request_texts` returns them, reading only the requests not held."""
        missing = [r for r in ids if r not in self._held]
        if missing:
            self.reads += 1
            read = request_texts(session=session, ids=missing)
            if len(self._held) + len(read) > CACHED_REQUESTS:
                self._held = {}
            self._held.update(read)
        found = {r: self._held[r] for r in ids if r in self._held}
        quoted = {f for text in found.values() for f in text.feedback}
        if not set(closest) <= quoted:  # an older item than the recent ones is closest
            self.reads += 1
            return request_texts(session=session, ids=ids, feedback_ids=closest)
        return found
