"""Establishments of the campus and the companies that come to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow
from models.enums import EstablishmentKind


class Establishment(Base):
    __tablename__ = "establishment"
    __table_args__ = (
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint("length(department) BETWEEN 2 AND 3", name="department_format"),
    )

    # Server defaults are read back on access, not by RETURNING: the migration
    # tests write establishments with this model into older revisions' schemas.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    city: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(3))
    kind: Mapped[EstablishmentKind] = mapped_column(str_enum(EstablishmentKind, "kind"))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # Off: its trainers and coordinators sign in only through its identity
    # providers (companies and admins always keep their passwords).
    # Deferred: read only at a password sign-in, and absent from the schemas
    # older revisions' tests write establishments into.
    local_passwords: Mapped[bool] = mapped_column(server_default=true(), deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Establishment {self.code}>"


class Company(Base):
    __tablename__ = "company"
    __table_args__ = (CheckConstraint("length(name) > 0", name="name_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Company {self.name}>"
