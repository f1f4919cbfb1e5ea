"""Link previews (Slack unfurls) of the app's pages: requests, feedback items, areas, accounts.

In a channel shared with another organisation only the title is shown: figures such as ARR
and account names stay inside the company.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy.orm import Session

from gtm_feedback.account import service as accounts
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feedback import service as feedback_service
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.product_area import service as areas
from gtm_feedback.text.formats import money
from gtm_feedback.text.markup import clip, mrkdwn_escape

Preview = dict[str, Any]
_PAGE = re.compile(r"^/(requests|areas|accounts)/([^/]+)/?$")


def _preview(url: str, title: str, facts: list[str], restricted: bool) -> Preview:
    heading = f"*<{url}|{mrkdwn_escape(clip(title, 150))}>*"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": heading}}
    ]
    if facts and not restricted:
        line = " · ".join(mrkdwn_escape(fact) for fact in facts)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]})
    return {"blocks": blocks}


def _request(
    session: Session, url: str, slug: str, query: str, restricted: bool
) -> dict[str, Any] | None:
    found = requests.get_by_slug(session=session, slug=slug)
    if found is None:
        return None
    eid = parse_qs(query).get("eid", [None])[0]
    item = session.get(Feedback, eid) if eid else None
    if item is not None and item.request_id == found.id:
        facts = [item.severity.label, item.account.name, f"“{clip(item.description, 200)}”"]
        return _preview(url, f"Feedback on {found.title}", facts, restricted)
    figures = requests.figures(session=session, request_id=found.id)
    facts = [
        found.status.value.capitalize(),
        f"{money(float(figures.arr))} ARR",
        f"{figures.account_count} accounts",
        f"{figures.feedback_count} feedback",
    ]
    return _preview(url, found.title, facts, restricted)


def _area(session: Session, url: str, slug: str, restricted: bool) -> Preview | None:
    area = areas.get_by_slug(session=session, slug=slug)
    if area is None:
        return None
    counts = areas.status_counts(session=session, area_id=area.id)
    facts = [f"{counts.open} open", f"{counts.shipped} shipped", f"ship rate {counts.ship_rate} %"]
    return _preview(url, area.name, facts, restricted)


def _account(
    session: Session, url: str, account_id: str, restricted: bool
) -> dict[str, Any] | None:
    account = accounts.get_account(session=session, account_id=account_id)
    if account is None:
        return None
    facts = [
        f"{money(float(account.arr))} ARR",
        "Enterprise" if account.is_enterprise else "Commercial",
    ]
    facts.append(
        f"{len(feedback_service.of_account(session=session, account_id=account.id))} feedback"
    )
    return _preview(url, account.name, facts, restricted)


def preview(
    session: Session, url: str, base_url: str, *, restricted: bool
) -> dict[str, Any] | None:
    """The unfurl of one of the app's page URLs, or None for any other URL."""
    parsed = urlparse(url)
    base = urlparse(base_url)
    if parsed.netloc != base.netloc:
        return None
    match = _PAGE.match(parsed.path[len(base.path.rstrip("/")) :])
    if match is None:
        return None
    kind, key = match.groups()
    if kind == "requests":
        return _request(session, url, key, parsed.query, restricted)
    if kind == "areas":
        return _area(session, url, key, restricted)
    return _account(session, url, key, restricted)
