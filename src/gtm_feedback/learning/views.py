"""`GET /api/matching` and reverting a refit; a refit starts as workflow `refit-matching`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import overview, service
from gtm_feedback.user.access import ADMIN, Admin
from gtm_feedback.web.deps import AppSettings, DbSession, DbWrite

router = APIRouter(prefix="/api/matching", tags=["matching"])

#: A refit's number as a path parameter: a 32-bit key (larger is a 422, not a database error).
RefitNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=overview.MatchingOut, dependencies=[ADMIN])
def get_matching(session: DbSession, settings: AppSettings) -> overview.MatchingOut:
    """The calibration and thresholds in use, decisions so far, refit history, recent tiers."""
    return overview.overview(session, settings, get_embedder(settings).model_id)


@router.post(
    "/calibrations/{calibration_id}/revert",
    response_model=overview.CalibrationOut,
    responses={404: {"description": "No such refit"}, 409: {"description": "Not in use"}},
)
def revert_calibration(
    calibration_id: RefitNumber, session: DbWrite, who: Admin
) -> overview.CalibrationOut:
    """Take a refit out of use: the one before it (or the shipped defaults) applies again."""
    return overview.calibration_out(
        service.revert(session=session, calibration_id=calibration_id, actor=who.actor)
    )
