"""Approvals: record a question for a person, decide it once, resume the waiting workflow.

The Slack buttons, the web inbox and ``POST /api/approvals/{token}`` all go through
:func:`decide_and_resume`. The decision is committed first and then sent to the workflow with
``DBOS.send``; a workflow whose wait times out re-reads its approval row, so a decision whose
send was lost (a crash between the two) is still honoured.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from dbos import DBOS
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from gtm_feedback.approval.models import Approval, ApprovalStatus
from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import ConflictError, NotFoundError
from gtm_feedback.user import audit
from gtm_feedback.user.audit import Actor
from gtm_feedback.user.models import Role, User


class ApprovalNotFoundError(NotFoundError):
    """No approval has this token."""


class AlreadyDecidedError(ConflictError):
    """The approval was decided before; says by whom and when."""

    def __init__(self, approval: Approval) -> None:
        when = approval.decided_at.isoformat() if approval.decided_at else "earlier"
        super().__init__(f"already {approval.status.value} by {approval.decided_by} at {when}")
        self.status = approval.status


@dataclass(frozen=True)
class DecisionMessage:
    """What a waiting workflow receives."""

    token: str
    approved: bool
    decided_by: str

    def as_dict(self) -> dict[str, Any]:
        """The message body sent with ``DBOS.send``."""
        return {"token": self.token, "approved": self.approved, "decided_by": self.decided_by}


def topic(token: str) -> str:
    """The ``DBOS.recv`` topic a workflow waits on for one approval."""
    return f"approval:{token}"


def request_approval(
    *,
    session: Session,
    workflow_id: str,
    kind: str,
    payload: dict[str, Any],
    requested_from_id: str | None = None,
) -> Approval:
    """A new pending approval with an unguessable token."""
    approval = Approval(
        token=secrets.token_urlsafe(24),
        kind=kind,
        workflow_id=workflow_id,
        payload=payload,
        requested_from_id=requested_from_id,
    )
    session.add(approval)
    session.flush()
    return approval


def decide(*, session: Session, token: str, approved: bool, user: str) -> Approval:
    """Record the decision if still pending (atomic: two deciders cannot both win)."""
    status = ApprovalStatus.APPROVED if approved else ApprovalStatus.DECLINED
    won = session.execute(
        update(Approval)
        .where(Approval.token == token, Approval.status == ApprovalStatus.PENDING)
        .values(status=status, decided_by=user, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    approval = session.scalars(
        select(Approval).where(Approval.token == token).execution_options(populate_existing=True)
    ).first()
    if approval is None:
        raise ApprovalNotFoundError(f"no approval with token {token!r}")
    if getattr(won, "rowcount", 0) != 1:
        raise AlreadyDecidedError(approval)
    return approval


def decide_and_resume(url: str, *, token: str, approved: bool, actor: Actor) -> Approval:
    """Decide (committed with its audit event), then wake the workflow waiting on it."""
    with session_scope(url, write=True) as session:
        approval = decide(session=session, token=token, approved=approved, user=actor.label)
        action = "approval.approve" if approved else "approval.decline"
        target = f"{approval.kind} for {approval.workflow_id}"
        audit.record(session=session, actor=actor, action=action, target=target)
        session.expunge(approval)
    message = DecisionMessage(token=token, approved=approved, decided_by=actor.label)
    DBOS.send(approval.workflow_id, message.as_dict(), topic=topic(token))
    return approval


def pending(*, session: Session, limit: int = 100) -> list[Approval]:
    """Undecided approvals, oldest first (the inbox)."""
    query = select(Approval).where(Approval.status == ApprovalStatus.PENDING)
    return list(session.scalars(query.order_by(Approval.created_at).limit(limit)))


def listing(*, status: ApprovalStatus | None, kind: str | None) -> Select[Approval]:
    """Approvals of one status (or any) and kind (or any): pending ones oldest first (the
    inbox's order), decided ones most recent decision first."""
    stmt = select(Approval)
    if status is not None:
        stmt = stmt.where(Approval.status == status)
    if kind:
        stmt = stmt.where(Approval.kind == kind)
    if status is ApprovalStatus.PENDING:
        return stmt.order_by(Approval.created_at, Approval.token)
    return stmt.order_by(Approval.created_at.desc(), Approval.token)


def decided(*, session: Session, limit: int = 30) -> list[Approval]:
    """Decided approvals, most recent decision first (the inbox's history)."""
    query = select(Approval).where(Approval.status != ApprovalStatus.PENDING)
    return list(session.scalars(query.order_by(Approval.decided_at.desc()).limit(limit)))


def get(*, session: Session, token: str) -> Approval | None:
    """The approval with this token, if any."""
    return session.get(Approval, token)


def may_decide(approval: Approval, user: User | None) -> bool:
    """Whether this person may decide: an approver, or the person it was asked of (the
    submitter of a match). A Slack proposal ("this looks like feedback") anyone in its thread
    may ignore: adding it goes through the form, as the person who clicks."""
    if approval.kind == "slack_proposal":
        return True
    if user is None or user.disabled:
        return False
    return Role(user.role).allows(Role.approver) or user.id == approval.requested_from_id


def for_workflow(*, session: Session, workflow_id: str) -> Approval | None:
    """The approval the workflow ``workflow_id`` waits on (or waited on), if recorded."""
    return session.scalars(select(Approval).where(Approval.workflow_id == workflow_id)).first()


def decision(*, session: Session, token: str) -> bool | None:
    """The stored decision (True approved, False declined), or None while pending or unknown."""
    row = session.get(Approval, token)
    if row is None or row.status is ApprovalStatus.PENDING:
        return None
    return row.status is ApprovalStatus.APPROVED


def note_posted(*, session: Session, token: str, where: dict[str, str]) -> None:
    """Keep where the approval's Slack message was posted (its ts and text) in its payload."""
    row = session.get(Approval, token)
    if row is None:
        raise ApprovalNotFoundError(f"no approval with token {token!r}")
    row.payload = {**row.payload, **where}
