"""Industrial teaching projects that companies request."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import ProjectStatus


class Sector(enum.StrEnum):
    """The industry a project serves (the campus's evaluation counts per sector)."""

    COSMETICS = "cosmetics"
    PHARMACEUTICAL = "pharmaceutical"
    OTHER = "other"


if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.establishment import Company
    from models.user import User

project_equipment = Table(
    "project_equipment",
    Base.metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "equipment_id",
        ForeignKey("equipment.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint("learners > 0", name="learners_positive"),
        CheckConstraint("wanted_from <= wanted_to", name="wanted_period"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        Index("ix_project_company_id_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="RESTRICT"))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    title: Mapped[str]
    description: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    learners: Mapped[int]
    wanted_from: Mapped[date]
    wanted_to: Mapped[date]
    contact_name: Mapped[str] = mapped_column(default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[ProjectStatus] = mapped_column(
        str_enum(ProjectStatus, "status"), default=ProjectStatus.REQUESTED
    )
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[Sector] = mapped_column(
        str_enum(Sector, "sector"), default=Sector.OTHER, server_default=Sector.OTHER.value
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by each service with its ``now`` (no onupdate: models do not read the clock).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    company: Mapped[Company] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    equipment: Mapped[list[Equipment]] = relationship(secondary=project_equipment)
