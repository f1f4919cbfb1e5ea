"""Validated row models, one per importable kind; cells arrive as strings."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl

from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feedback.models import FeedbackSource, Severity
from gtm_feedback.text.formats import email_address

_LIST_SPLIT = re.compile(r"[;,\s]+")
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}
_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item for item in _LIST_SPLIT.split(value.strip()) if item]
    return value


def _money(value: object) -> object:
    # CRM exports write "$1,250,000.00"; accept that, refuse negatives.
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("$", "").replace("_", "")
        return cleaned or "0"
    return value


def _bool(value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"expected true/false, got {value!r}")
    return value


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("ids are 1-64 letters, digits or . _ : -")
    return value


Id = Annotated[str, BeforeValidator(str.strip), AfterValidator(_check_id)]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]


def _email(value: str | None) -> str | None:
    return None if value is None else email_address(value)


def _web_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


OptionalWebUrl = Annotated[OptionalText, AfterValidator(_web_url)]
OptionalEmail = Annotated[OptionalText, AfterValidator(_email)]
Money = Annotated[Decimal, BeforeValidator(_money), Field(ge=0, max_digits=14, decimal_places=2)]
Flag = Annotated[bool, BeforeValidator(_bool)]
OptionalFlag = Annotated[Flag | None, BeforeValidator(_blank_to_none)]
StrList = Annotated[list[str], BeforeValidator(_split_list)]
UrlList = Annotated[list[HttpUrl], BeforeValidator(_split_list)]
OptionalStamp = Annotated[datetime | None, BeforeValidator(_blank_to_none)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]


class _Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", frozen=True)


class AccountRow(_Row):
    """``id,name,type,region,arr,is_enterprise,website,link,owner_email`` (a blank owner
    clears it; a file without the column leaves owners as they are)."""

    id: Id
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(default="customer", max_length=40)
    region: OptionalText = Field(default=None, max_length=40)
    arr: Money = Decimal("0")
    is_enterprise: Flag = False
    website: OptionalWebUrl = Field(default=None, max_length=300)
    link: OptionalWebUrl = Field(default=None, max_length=500)
    owner_email: OptionalEmail = Field(default=None, max_length=320)


class OpportunityRow(_Row):
    """``id,account_id,name,arr,stage,close_date``."""

    id: Id
    account_id: Id
    name: str = Field(min_length=1, max_length=200)
    arr: Money = Decimal("0")
    stage: str = Field(min_length=1, max_length=40)
    close_date: OptionalDate = None


class AreaRow(_Row):
    """``id,name,slug,description,firehose_channel`` (slug optional: made from the name)."""

    id: Id
    name: str = Field(min_length=1, max_length=100)
    slug: OptionalText = Field(default=None, max_length=120)
    description: str = Field(default="", max_length=500)
    firehose_channel: OptionalText = Field(default=None, max_length=80)


class RequestRow(_Row):
    """``id,title,description,status,areas,slug,tracker_url,creator_email,created_at``."""

    id: Id
    title: str = Field(min_length=10, max_length=200)
    description: str = Field(default="", max_length=5000)
    status: RequestStatus = RequestStatus.OPEN
    areas: StrList = Field(min_length=1)
    slug: OptionalText = Field(default=None, max_length=120)
    tracker_url: OptionalText = Field(default=None, max_length=500)
    creator_email: OptionalText = Field(default=None, max_length=320)
    created_at: OptionalStamp = None


class FeedbackRow(_Row):
    """``id,request_id,account_id,opportunity_id,severity,description,links,creator_email,source,created_at``
    and optionally ``blocks_deal`` (true when the named open opportunity will not close
    without it; a blank cell or no column leaves the flag as it is)."""

    id: Id
    request_id: Id
    account_id: Id
    opportunity_id: OptionalId = None
    blocks_deal: OptionalFlag = None
    severity: Severity
    description: str = Field(min_length=1, max_length=10_000)
    links: UrlList = Field(default_factory=list)
    creator_email: OptionalText = Field(default=None, max_length=320)
    source: FeedbackSource = FeedbackSource.IMPORT
    created_at: OptionalStamp = None
