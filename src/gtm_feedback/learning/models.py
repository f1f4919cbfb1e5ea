"""Decisions on matches (labels) and every refit of the calibration (reversible history)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.types import UTCDateTime


class MatchDecision(Base):
    """A person's verdict on the best candidate of one match, with that candidate's features."""

    __tablename__ = "match_decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("md"))
    # "approval:<token>", "undo:<feedback id>": one decision per question, however often told.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # approve | decline | undo
    right: Mapped[bool] = mapped_column(Boolean)
    model_id: Mapped[str] = mapped_column(String(100), index=True)
    request_id: Mapped[str | None] = mapped_column(String(40))
    feedback_id: Mapped[str | None] = mapped_column(String(80))
    score: Mapped[float] = mapped_column(Float)
    margin: Mapped[float] = mapped_column(Float)
    linked: Mapped[int] = mapped_column(Integer, default=0)
    llm: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # the second-opinion classifier's opinion (``matching.calibration.Opinion``); None: it had none
    belief: Mapped[float | None] = mapped_column(Float)
    lead: Mapped[float | None] = mapped_column(Float)
    decided_by: Mapped[str] = mapped_column(String(400), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CalibrationStatus:
    """What became of a refit."""

    ACTIVE = "active"  # in use (the newest active row of a model)
    KEPT = "kept"  # the guard rails kept the earlier threshold; stored for the record
    REVERTED = "reverted"  # an admin went back to the one before


class MatchCalibration(Base):
    """One refit: the coefficients, the threshold and the figures it was chosen on."""

    __tablename__ = "match_calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[str] = mapped_column(String(200), unique=True)  # the refit run that saved it
    model_id: Mapped[str] = mapped_column(String(100), index=True)
    # bias, w_score, w_margin, w_linked, w_llm (refits before the LLM check stored four)
    coefficients: Mapped[list[Any]] = mapped_column(JSON)
    auto_threshold: Mapped[float] = mapped_column(Float)
    decisions: Mapped[int] = mapped_column(Integer)
    held_back: Mapped[int] = mapped_column(Integer)
    held_back_auto: Mapped[int] = mapped_column(Integer, default=0)
    held_back_wrong: Mapped[int] = mapped_column(Integer, default=0)
    estimated_precision: Mapped[float | None] = mapped_column(Float)
    estimated_coverage: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), index=True)
    trigger: Mapped[str] = mapped_column(String(200))  # nightly | after N decisions | who asked
    note: Mapped[str] = mapped_column(Text, default="")


class MatchCheck(Base):
    """One LLM check of an approval-band match, cached by question, with the tokens it cost."""

    __tablename__ = "match_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # sha256 of the prompt version, the model and the question: the same question is asked once.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    llm_model: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(40))  # the model's choice, or none
    confidence: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class MatchClassifier(Base):
    """One training of the second-opinion classifier (``matching/second.py``); newest is used."""

    __tablename__ = "match_classifiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[str] = mapped_column(String(200), unique=True)  # the run that trained it
    model_id: Mapped[str] = mapped_column(String(100), index=True)
    requests: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer)  # request texts and linked feedback trained on
    seconds: Mapped[float] = mapped_column(Float)  # training time
    request_ids: Mapped[list[Any]] = mapped_column(JSON)  # rows of ``weights``, in order
    weights: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # float32, requests × dims
    bias: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # float32, one per request
