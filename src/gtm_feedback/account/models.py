"""Account and Opportunity ORM models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ColumnElement, Date, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gtm_feedback.db.base import Base, utcnow
from gtm_feedback.db.types import Money, UTCDateTime
from gtm_feedback.user.models import User

#: CRMs name their closed stages "Closed Won"/"Closed Lost" (Salesforce) or "closedwon" (HubSpot).
CLOSED_STAGE_PREFIX = "closed"


class Account(Base):
    """A customer or prospect as the CRM knows it; ``id`` is the CRM's id."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(40), default="customer")
    region: Mapped[str | None] = mapped_column(String(40))
    arr: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    is_enterprise: Mapped[bool] = mapped_column(Boolean, default=False)
    website: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(500))
    #: The account's owner in the CRM (AE or CSM): told when a request it asked for ships.
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    opportunities: Mapped[list[Opportunity]] = relationship(
        back_populates="account", order_by="Opportunity.close_date"
    )
    owner: Mapped[User | None] = relationship()

    @property
    def owner_email(self) -> str | None:
        """The owner's email, if the account has an owner."""
        return self.owner.email if self.owner else None


class Opportunity(Base):
    """An open or closed deal on an account; feedback may name the deal it came from."""

    __tablename__ = "opportunities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    arr: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    stage: Mapped[str] = mapped_column(String(40))
    close_date: Mapped[date | None] = mapped_column(Date)

    account: Mapped[Account] = relationship(back_populates="opportunities")

    @property
    def is_open(self) -> bool:
        """True while the deal is in pipeline (its stage does not start with "closed")."""
        return is_open_stage(self.stage)


def is_open_stage(stage: str) -> bool:
    """True for a stage still in pipeline (not "Closed Won", "Closed Lost", "closedwon"…)."""
    return not stage.strip().lower().startswith(CLOSED_STAGE_PREFIX)


def open_stage() -> ColumnElement[bool]:
    """SQL: the opportunity's stage is still in pipeline (the rule of ``is_open_stage``)."""
    return func.lower(func.trim(Opportunity.stage)).not_like(f"{CLOSED_STAGE_PREFIX}%")
