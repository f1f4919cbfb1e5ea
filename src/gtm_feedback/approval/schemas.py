"""Approval API bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from gtm_feedback.approval.models import ApprovalStatus


class DecisionIn(BaseModel):
    """A person's decision."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"approved": True}]})

    approved: bool


class ApprovalOut(BaseModel):
    """An approval and, once decided, who decided and when."""

    model_config = ConfigDict(from_attributes=True)

    token: str
    kind: str
    workflow_id: str
    status: ApprovalStatus
    payload: dict[str, Any]
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
