"""One pagination shape for every API list: ``items``, ``total``, ``limit``, ``offset`` and
``next_offset`` (null on the last page), from ``?limit=&offset=``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gtm_feedback.web.deps import MAX_OFFSET

T = TypeVar("T")
R = TypeVar("R")

#: The largest page any list answers.
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int | None = Field(
        description="Items in the whole list; null where counting them would cost too much "
        "(runs): follow `next_offset` instead."
    )
    limit: int
    offset: int
    next_offset: int | None = Field(description="The `offset` of the next page; null on the last.")


@dataclass(frozen=True)
class Paging:
    """Which page a caller asked for."""

    limit: int
    offset: int


def _paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)


PageParams = Annotated[Paging, Depends(_paging)]


def page_of(items: Sequence[T], total: int | None, paging: Paging, more: bool = False) -> Page[T]:
    """A page of ``items``; ``more`` says there are further items when ``total`` is unknown."""
    if total is not None:
        more = paging.offset + len(items) < total
    following = paging.offset + len(items) if more and items else None
    return Page[T](
        items=list(items),
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_offset=following,
    )


def paged(
    session: Session, stmt: Select[Any], paging: Paging, shape: Callable[[Any], R]
) -> Page[R]:
    """Run ``stmt`` (ordered, one entity per row) for one page, counted, each row shaped."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.limit(paging.limit).offset(paging.offset)).all()
    return page_of([shape(row) for row in rows], total or 0, paging)
