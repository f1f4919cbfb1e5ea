"""Helper for storing ``StrEnum`` values as portable VARCHAR + CHECK columns."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def enum_column_type(enum_cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR column holding the enum's values, guarded by a named CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls) + 4,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )
