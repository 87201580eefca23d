"""Declarative base of every model, and the column types the models share.

The models never import the ``booking`` package (no Flask in them): they
subclass :class:`Base`, and ``booking/extensions.py`` hands its metadata to
Flask-SQLAlchemy (``SQLAlchemy(metadata=Base.metadata)``), whose session the
pages, the API, the CLI and the scheduler use; anything may import the models
without an app (the tests empty tables through ``Base.metadata``). Alembic
compares the migrated database with this metadata when it autogenerates a
revision (``migrations/env.py``), but the revisions themselves never import the
models, so old ones keep working as the models change.

What the models share: the constraint naming convention (stable names that
migrations address on both backends), ``UTCDateTime`` (``Mapped[datetime]``:
aware instants, UTC in the database, naive ones refused), ``String(255)`` for
``Mapped[str]``, ``str_enum`` (an enum as VARCHAR plus a named CHECK) and
``utcnow``.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Enum, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names: migrations can drop or alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, aware, in UTC: the column default (evaluated per row) of
    rows added outside a service, such as scripts and test factories.

    Services set ``created_at`` and ``updated_at`` from the ``now`` they were given,
    and no column has an ``onupdate``: an update never reads the clock, so a frozen
    clock in the tests (or a job's ``now``) is what the row records.
    """
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: aware in Python, UTC in the database.

    PostgreSQL stores ``timestamptz``; SQLite has no such type, so the value is
    stored as naive UTC text and made aware again on the way out. A naive
    datetime is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK listing the values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        str: String(255),
    }
