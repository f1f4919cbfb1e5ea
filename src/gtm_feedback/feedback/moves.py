"""A person moves feedback to another request: the fix for a wrong match, and a label for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gtm_feedback.errors import ConflictError, NotFoundError
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feedback import service as feedback
from gtm_feedback.feedback.models import MatchTier
from gtm_feedback.learning import store
from gtm_feedback.user import audit


@dataclass(frozen=True)
class Moved:
    """Where the feedback went, where it came from, and the decision count its label made."""

    feedback_id: str
    from_slug: str
    to_slug: str
    labels: int | None  # None when the match left no candidates to learn from


def move(
    *, session: Session, feedback_id: str, target: str, actor: audit.Actor, model_id: str
) -> Moved:
    """Put the feedback on ``target`` (id or slug), audited, and store the verdict on its match.

    Raises NotFoundError (feedback or request unknown) or ConflictError (already there).
    """
    row = feedback.get(session=session, feedback_id=feedback_id)
    if row is None:
        raise NotFoundError(f"no feedback {feedback_id!r}")
    destination = requests.resolve(session=session, id_or_slug=target)
    if destination is None:
        raise NotFoundError(f"no request with id or slug {target!r}")
    if destination.id == row.request_id:
        raise ConflictError(f"the feedback is already on {destination.slug}")
    origin = row.request.slug
    row.request_id, row.match_tier = destination.id, MatchTier.APPROVED  # a person placed it
    if row.creator_id:
        requests.follow(session=session, request_id=destination.id, user_id=row.creator_id)
    detail = f"from {origin} to {destination.slug}"
    audit.record(session=session, actor=actor, action="feedback.move", target=row.id, detail=detail)
    labels = _label(session, row.id, row.match_candidates, destination.id, actor, model_id)
    session.flush()
    return Moved(row.id, origin, destination.slug, labels)


def _label(
    session: Session,
    feedback_id: str,
    candidates: list[dict[str, object]],
    destination_id: str,
    actor: audit.Actor,
    model_id: str,
) -> int | None:
    # The best candidate was right only if the person moved the feedback onto it.
    features = store.features_of(candidates or [])
    if features is None:
        return None
    best = str(candidates[0].get("request_id", ""))
    return store.record_and_count(
        session=session,
        key=f"move:{feedback_id}:{destination_id}",
        kind="reassign",
        right=best == destination_id,
        model_id=model_id,
        features=features,
        request_id=best or None,
        feedback_id=feedback_id,
        decided_by=actor.label,
    )
