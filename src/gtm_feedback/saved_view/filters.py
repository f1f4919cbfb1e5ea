"""A view's filters: the requests page's URL filters, checked, and the query they make."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gtm_feedback.feature_request import priority
from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feature_request.service import RequestQuery, RequestSort
from gtm_feedback.feedback.models import Severity


class ViewFilters(BaseModel):
    """The filters and order of the requests list, as its URL carries them."""

    model_config = ConfigDict(extra="forbid")

    area: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field(
        default="", description="a product area's slug (empty: every area)"
    )
    status: RequestStatus | None = None
    severity: Severity | None = Field(default=None, description="has feedback of this severity")
    enterprise: bool = Field(default=False, description="has feedback from an enterprise account")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        default="", description="words in the title or description"
    )
    sort: RequestSort = RequestSort.ARR

    def query(
        self, weights: priority.Weights | None = None, *, status: bool = True
    ) -> RequestQuery:
        """The list query of these filters (``status=False``: every status)."""
        return RequestQuery(
            area_slug=self.area or None,
            status=self.status if status else None,
            severity=self.severity,
            enterprise_only=self.enterprise,
            text=self.q,
            sort=self.sort,
            weights=weights or priority.Weights(),
        )

    def url(self) -> str:
        """The requests page showing this view."""
        given = {
            "area": self.area,
            "status": self.status.value if self.status else "",
            "severity": self.severity.value if self.severity else "",
            "enterprise": "true" if self.enterprise else "",
            "q": self.q,
            "sort": self.sort.value if self.sort is not RequestSort.ARR else "",
        }
        kept = {name: value for name, value in given.items() if value}
        return "/requests" + ("?" + urlencode(kept) if kept else "")

    def describe(self) -> str:
        """The filters in words, e.g. ``area reporting · open · dealbreaker``."""
        parts = [
            f"area {self.area}" if self.area else "",
            self.status.value if self.status else "",
            self.severity.label if self.severity else "",
            "enterprise" if self.enterprise else "",
            f"“{self.q}”" if self.q else "",
        ]
        return " · ".join(part for part in parts if part) or "every request"
