"""Small helpers that build rows for tests through the real models and services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.learning import store
from gtm_feedback.matching.learn import Features
from gtm_feedback.product_area.service import upsert_area

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def account(session: Session, key: str, arr: str, *, enterprise: bool = False) -> Account:
    """An account with the given ARR."""
    row = Account(id=key, name=f"Account {key}", arr=Decimal(arr), is_enterprise=enterprise)
    session.add(row)
    session.flush()
    return row


def request(
    session: Session, slug: str, *, area: str = "Core", status: RequestStatus = RequestStatus.OPEN
) -> FeatureRequest:
    """A request in the named area (created if needed)."""
    from gtm_feedback.product_area.service import get_by_slug
    from gtm_feedback.text.slug import slugify

    found = get_by_slug(session=session, slug=slugify(area))
    product_area = found or upsert_area(session, area_id=None, name=area)[0]
    row = FeatureRequest(slug=slug, title=slug.replace("-", " ").title(), status=status)
    row.areas = [product_area]
    session.add(row)
    session.flush()
    return row


def feedback(
    session: Session, req: FeatureRequest, acct: Account, severity: Severity, *, days: int = 0
) -> Feedback:
    """Feedback from ``acct`` on ``req``, ``days`` after T0."""
    row = Feedback(
        request_id=req.id,
        account_id=acct.id,
        severity=severity,
        description=f"{acct.name} needs {req.title}",
        created_at=T0 + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row


def decision(session: Session, model_id: str, key: str, features: Features, *, right: bool) -> bool:
    """A person's verdict on a best candidate, stored as a label (as the inbox would)."""
    return store.record_decision(
        session=session,
        key=key,
        kind="approve" if right else "decline",
        right=right,
        model_id=model_id,
        features=features,
        request_id=None,
        feedback_id=None,
        decided_by="pm@tests.example",
    )
