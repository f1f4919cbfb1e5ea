"""Imports every domain's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from typing import Any

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.ai_usage.models import AgentCall
from gtm_feedback.approval.models import Approval
from gtm_feedback.db.base import Base
from gtm_feedback.durable.executors import Executor
from gtm_feedback.feature_request import index_state  # noqa: F401  (registers the listener)
from gtm_feedback.feature_request.models import (
    DuplicateSuggestion,
    FeatureRequest,
    RequestMerge,
    VectorIndexChange,
    VectorIndexState,
)
from gtm_feedback.feature_request.priority import PriorityWeights
from gtm_feedback.feature_request.sql_vectors import TABLES as PGVECTOR_TABLES
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.importing.models import ImportChunk, ImportFile, ImportSeenId
from gtm_feedback.insight.models import InsightReport
from gtm_feedback.learning.models import MatchCalibration, MatchDecision
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.saved_view import changes  # noqa: F401  (registers the listener)
from gtm_feedback.saved_view.models import RequestChange, SavedView, ViewAlert, ViewSubscription
from gtm_feedback.user.models import ApiToken, AuditEvent, User

metadata = Base.metadata


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, _to: Any) -> bool:
    """Whether Alembic compares ``obj``: not pgvector's tables, which exist only where the
    server has the extension (``sql_vectors``), so the models do not declare them."""
    table = obj if kind == "table" else getattr(obj, "table", None)
    return getattr(table, "name", name) not in PGVECTOR_TABLES


__all__ = [
    "Account",
    "AgentCall",
    "ApiToken",
    "Approval",
    "AuditEvent",
    "DuplicateSuggestion",
    "Executor",
    "FeatureRequest",
    "Feedback",
    "ImportChunk",
    "ImportFile",
    "ImportSeenId",
    "InsightReport",
    "MatchCalibration",
    "MatchDecision",
    "Opportunity",
    "OutboxMessage",
    "PriorityWeights",
    "ProductArea",
    "RequestChange",
    "RequestMerge",
    "SavedView",
    "User",
    "VectorIndexChange",
    "VectorIndexState",
    "ViewAlert",
    "ViewSubscription",
    "include_object",
    "metadata",
]
