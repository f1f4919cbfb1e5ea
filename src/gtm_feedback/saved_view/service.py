"""Saved views and subscriptions: create, list, change, delete (who may is checked here)."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.db.upsert import add_in_savepoint
from gtm_feedback.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from gtm_feedback.product_area import service as areas
from gtm_feedback.saved_view import changes  # noqa: F401  (logs what alerts are about)
from gtm_feedback.saved_view.filters import ViewFilters
from gtm_feedback.saved_view.models import Frequency, SavedView, ViewSubscription
from gtm_feedback.user import audit
from gtm_feedback.user.audit import Actor


def _check_area(session: Session, filters: ViewFilters) -> None:
    if filters.area and areas.get_by_slug(session=session, slug=filters.area) is None:
        raise InvalidInputError([("filters.area", f"no product area with slug {filters.area!r}")])


def create_view(
    *, session: Session, owner_id: str, name: str, filters: ViewFilters, actor: Actor
) -> SavedView:
    """Save ``filters`` under ``name`` (a name its owner has not used yet); audited."""
    _check_area(session, filters)
    taken = session.scalar(
        select(SavedView.id).where(
            SavedView.owner_id == owner_id, func.lower(SavedView.name) == name.lower()
        )
    )
    if taken is not None:
        raise ConflictError(f"you already have a view named {name!r}")
    view = SavedView(owner_id=owner_id, name=name, filters=filters.model_dump(mode="json"))
    _insert(session, view, f"you already have a view named {name!r}")
    audit.record(session=session, actor=actor, action="view.create", target=view.name)
    return view


def _insert(session: Session, row: SavedView | ViewSubscription, clash: str) -> None:
    try:
        add_in_savepoint(session, row)  # the same one saved at the same moment: a clear 409
    except IntegrityError as exc:
        raise ConflictError(clash) from exc


def views_query() -> Select[SavedView]:
    """Every saved view, by name, with its owner and subscriptions."""
    return (
        select(SavedView)
        .options(
            selectinload(SavedView.owner),
            selectinload(SavedView.subscriptions).selectinload(ViewSubscription.user),
        )
        .order_by(func.lower(SavedView.name), SavedView.id)
    )


def get_view(*, session: Session, view_id: str) -> SavedView:
    """The view with this id (404 when there is none)."""
    view = session.get(SavedView, view_id)
    if view is None:
        raise NotFoundError(f"no saved view with id {view_id!r}")
    return view


def delete_view(*, session: Session, view: SavedView, actor: Actor, admin: bool) -> None:
    """Delete the view and its subscriptions (its owner or an admin); audited."""
    if view.owner_id != actor.user_id and not admin:
        raise ForbiddenError("only the view's owner or an admin may delete it")
    session.delete(view)
    audit.record(session=session, actor=actor, action="view.delete", target=view.name)


def subscribe(
    *,
    session: Session,
    view: SavedView,
    user_id: str,
    channel: str,
    on_feedback: bool,
    on_status: bool,
    frequency: Frequency,
) -> ViewSubscription:
    """Subscribe the user (to a DM, or for ``channel``); subscribing again changes the settings."""
    if not (on_feedback or on_status):
        raise InvalidInputError([("on_feedback", "choose new feedback, status changes or both")])
    found = session.scalar(
        select(ViewSubscription).where(
            ViewSubscription.view_id == view.id,
            ViewSubscription.user_id == user_id,
            ViewSubscription.channel == channel,
        )
    )
    settings = {"on_feedback": on_feedback, "on_status": on_status, "frequency": frequency}
    if found is None:
        found = ViewSubscription(view_id=view.id, user_id=user_id, channel=channel, **settings)
        _insert(session, found, "this subscription was just made: look again")
        return found
    for name, value in settings.items():
        setattr(found, name, value)
    return found


def unsubscribe(*, session: Session, subscription_id: str, user_id: str, admin: bool) -> None:
    """End a subscription (its subscriber or an admin)."""
    found = session.get(ViewSubscription, subscription_id)
    if found is None:
        raise NotFoundError(f"no subscription with id {subscription_id!r}")
    if found.user_id != user_id and not admin:
        raise ForbiddenError("only the subscriber or an admin may end a subscription")
    session.delete(found)
