"""Equipment, its components, weekly opening hours and booking rules."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    FetchedValue,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.certification import CertificationType
from models.enums import EquipmentCategory, EquipmentStatus

if TYPE_CHECKING:
    from models.establishment import Establishment

equipment_certification_type = Table(
    "equipment_certification_type",
    Base.metadata,
    Column(
        "equipment_id",
        ForeignKey("equipment.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "certification_type_id",
        ForeignKey("certification_type.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Equipment(Base):
    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_positive"),
        CheckConstraint("slot_minutes > 0", name="slot_positive"),
        CheckConstraint("min_minutes > 0", name="min_positive"),
        CheckConstraint("max_minutes >= min_minutes", name="max_not_below_min"),
        CheckConstraint("min_minutes % NULLIF(slot_minutes, 0) = 0", name="min_on_grid"),
        CheckConstraint("changeover_minutes >= 0", name="changeover_not_negative"),
        # Bounds the span of one occupancy row (booking.services.bookings.occupancy.MAX_SPAN),
        # which lets overlap queries read only recent rows of the index.
        CheckConstraint("max_minutes <= 10080", name="max_within_a_week"),
        CheckConstraint("changeover_minutes <= 1440", name="changeover_within_a_day"),
        CheckConstraint("approval_deadline_hours > 0", name="deadline_positive"),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        Index("ix_equipment_establishment_id_category", "establishment_id", "category"),
        CheckConstraint("notice_minutes BETWEEN 0 AND 129600", name="notice_within_90_days"),
        CheckConstraint("max_advance_days IS NULL OR max_advance_days BETWEEN 1 AND 3650",
                        name="max_advance_positive"),
        CheckConstraint("cancel_deadline_hours BETWEEN 0 AND 8760",
                        name="cancel_deadline_within_a_year"),
        CheckConstraint("others_open_days IS NULL OR others_open_days BETWEEN 0 AND 3650",
                        name="others_open_days_positive"),
        CheckConstraint("check_in_grace_minutes BETWEEN 0 AND 240", name="check_in_grace_bounded"),
    )
    # Server defaults are read back on access, not by RETURNING: the migration
    # tests write equipment with this model into the schemas of older revisions.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(default="")
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="RESTRICT")
    )
    category: Mapped[EquipmentCategory] = mapped_column(
        str_enum(EquipmentCategory, "category")
    )
    status: Mapped[EquipmentStatus] = mapped_column(
        str_enum(EquipmentStatus, "status"), default=EquipmentStatus.ACTIVE
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # A component belongs to one pilot line; deleting a line with components is refused.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="RESTRICT"), index=True
    )
    capacity: Mapped[int | None]
    slot_minutes: Mapped[int] = mapped_column(default=30)
    min_minutes: Mapped[int] = mapped_column(default=30)
    max_minutes: Mapped[int] = mapped_column(default=480)
    changeover_minutes: Mapped[int] = mapped_column(default=0)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    open_on_holidays: Mapped[bool] = mapped_column(default=False)
    # Hours a pending booking waits for a decision before it expires.
    approval_deadline_hours: Mapped[int] = mapped_column(default=72)
    # Booking windows (issue 13), server defaults only (see __mapper_args__;
    # FetchedValue: NULL by default, left out of the INSERT when unset).
    # A booking starts at least notice_minutes after it is made, at most
    # max_advance_days ahead (None: the campus horizon); its booker may cancel
    # until cancel_deadline_hours before its start (0: until it starts).
    notice_minutes: Mapped[int] = mapped_column(server_default=text("0"))
    max_advance_days: Mapped[int | None] = mapped_column(server_default=FetchedValue())
    cancel_deadline_hours: Mapped[int] = mapped_column(server_default=text("0"))
    # The owner's priority window: other establishments (and companies) book a
    # slot only from this many days before it; None: as the owner does.
    others_open_days: Mapped[int | None] = mapped_column(server_default=FetchedValue())
    # Check-in at the machine (issue 14): a booking of a machine that requires
    # it is checked in by its trainer from CHECK_IN_OPENS_MINUTES before its
    # start to check_in_grace_minutes after it, or released as a no-show.
    check_in_required: Mapped[bool] = mapped_column(server_default=false())
    check_in_grace_minutes: Mapped[int] = mapped_column(server_default=text("15"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by each service with its ``now`` (no onupdate: models do not read the clock).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment: Mapped[Establishment] = relationship()
    parent: Mapped[Equipment | None] = relationship(
        remote_side=[id], back_populates="components"
    )
    components: Mapped[list[Equipment]] = relationship(
        back_populates="parent", order_by="Equipment.code"
    )
    required_certification_types: Mapped[list[CertificationType]] = relationship(
        secondary=equipment_certification_type, order_by=CertificationType.code
    )
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="equipment",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
    )

    def __repr__(self) -> str:
        return f"<Equipment {self.code}>"


class OpeningHours(Base):
    """One opening interval of a weekday (0 is Monday), in the equipment's local time."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    opens: Mapped[time]
    closes: Mapped[time]

    equipment: Mapped[Equipment] = relationship(back_populates="opening_hours")
