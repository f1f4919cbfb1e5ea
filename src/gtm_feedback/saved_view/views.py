"""The saved views API: save the requests list's filters, and subscribe to alerts on them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gtm_feedback.errors import ForbiddenError
from gtm_feedback.saved_view import service
from gtm_feedback.saved_view.schemas import SubscriptionIn, SubscriptionOut, ViewIn, ViewOut
from gtm_feedback.user.access import VIEWER, Principal, Viewer
from gtm_feedback.user.models import Role
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.pagination import Page, PageParams, paged

router = APIRouter(prefix="/api/views", tags=["views"])


def _admin(who: Principal) -> bool:
    return who.may(Role.admin)


@router.get("", response_model=Page[ViewOut], dependencies=[VIEWER])
def list_views(session: DbSession, paging: PageParams) -> Page[ViewOut]:
    """Every saved view, by name, with its subscriptions."""
    return paged(session, service.views_query(), paging, ViewOut.of)


@router.post("", response_model=ViewOut, status_code=201)
def create_view(body: ViewIn, session: DbWrite, who: Viewer) -> ViewOut:
    """Save filters as a named view (a name you have not used; 409 if you have)."""
    view = service.create_view(
        session=session,
        owner_id=who.user_id,
        name=body.name,
        filters=body.filters,
        actor=who.actor,
    )
    session.refresh(view)
    return ViewOut.of(view)


@router.get("/{view_id}", response_model=ViewOut, dependencies=[VIEWER])
def get_view(view_id: str, session: DbSession) -> ViewOut:
    """One saved view."""
    return ViewOut.of(service.get_view(session=session, view_id=view_id))


@router.delete("/{view_id}", status_code=204)
def delete_view(view_id: str, session: DbWrite, who: Viewer) -> Response:
    """Delete a view and its subscriptions (its owner or an admin)."""
    view = service.get_view(session=session, view_id=view_id)
    service.delete_view(session=session, view=view, actor=who.actor, admin=_admin(who))
    return Response(status_code=204)


@router.put("/{view_id}/subscription", response_model=SubscriptionOut)
def subscribe(view_id: str, body: SubscriptionIn, session: DbWrite, who: Viewer) -> SubscriptionOut:
    """Subscribe yourself (or, members and up, a Slack channel) to the view's alerts."""
    if body.channel and not who.may(Role.member):
        raise ForbiddenError("posting alerts to a channel needs the member role")
    view = service.get_view(session=session, view_id=view_id)
    sub = service.subscribe(
        session=session,
        view=view,
        user_id=who.user_id,
        channel=body.channel,
        on_feedback=body.on_feedback,
        on_status=body.on_status,
        frequency=body.frequency,
    )
    session.flush()
    session.refresh(sub)
    return SubscriptionOut.of(sub)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: str, session: DbWrite, who: Viewer) -> Response:
    """End a subscription (its subscriber or an admin)."""
    service.unsubscribe(
        session=session, subscription_id=subscription_id, user_id=who.user_id, admin=_admin(who)
    )
    return Response(status_code=204)
