"""Bookings, recurring series, and the occupancy rows the database checks.

A booking holds one occupancy row per physical piece of equipment it takes
(a pilot line and each of its components, or a component and its line), each
covering start to end plus the changeover. The row carries the booking's status
through a composite foreign key with ON UPDATE CASCADE, so the database keeps it
in step and the exclusion constraint (PostgreSQL) or trigger (SQLite) only
counts bookings that hold their slot.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import SLOT_HOLDING_STATUSES, BookingPurpose, BookingStatus

if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.project import Project
    from models.user import User

HOLDING_SQL = "booking_status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in SLOT_HOLDING_STATUSES)
)


class BookingSeries(Base):
    """A recurring series: the rule is expanded in ``timezone`` from ``first_start``."""

    __tablename__ = "booking_series"
    __table_args__ = (CheckConstraint("duration_minutes > 0", name="duration_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(
        ForeignKey("equipment.id", ondelete="RESTRICT"), index=True
    )
    rrule: Mapped[str] = mapped_column(Text)
    first_start: Mapped[datetime]
    duration_minutes: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bookings: Mapped[list[Booking]] = relationship(
        back_populates="series", order_by="Booking.start_at"
    )


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint(
            "participants IS NULL OR participants >= 0", name="participants_not_negative"
        ),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancel_dated"
        ),
        # Target of occupancy's composite foreign key.
        UniqueConstraint("id", "status", name="uq_booking_id_status"),
        Index("ix_booking_equipment_id_start_at", "equipment_id", "start_at"),
        Index("ix_booking_trainer_id_start_at", "trainer_id", "start_at"),
        Index("ix_booking_booked_by_id_start_at", "booked_by_id", "start_at"),
        Index("ix_booking_status_decision_deadline", "status", "decision_deadline"),
        Index("ix_booking_start_at", "start_at"),
        Index("ix_booking_group_id", "group_id"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL",
                        name="check_out_after_in"),
    )
    # Server defaults are read back on access, not by RETURNING: the migration
    # tests may write bookings with this model into older revisions' schemas.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(128), unique=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="RESTRICT"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    title: Mapped[str]
    purpose: Mapped[BookingPurpose] = mapped_column(str_enum(BookingPurpose, "purpose"))
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "status"))
    booked_by_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("project.id", ondelete="RESTRICT"), index=True
    )
    participants: Mapped[int | None]
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_series.id", ondelete="SET NULL"), index=True
    )
    sequence: Mapped[int] = mapped_column(default=0)
    # One request naming several machines makes one booking per machine with
    # one group_id: moved and cancelled together, and its trainer may hold
    # them all at once (the trainer guard excludes bookings of one group).
    group_id: Mapped[str | None] = mapped_column(String(36))
    override_reason: Mapped[str | None] = mapped_column(Text)
    decision_deadline: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Cancelled after its machine's cancellation deadline (by a coordinator):
    # counted in the reports. Kept, since the machine's deadline may change.
    cancelled_late: Mapped[bool] = mapped_column(server_default=false())
    # Set by the certification job when the trainer will not be certified on the day.
    certification_flag: Mapped[bool] = mapped_column(default=False)
    # Set by migration 0010 on bookings whose trainer was already booked at the
    # same time before the trainer guard existed: shown to coordinators, left
    # out of the guard until the booking changes (then checked like any other).
    trainer_clash: Mapped[bool] = mapped_column(server_default=false())
    # Check-in at the machine (issue 14): when the trainer (or a coordinator)
    # checked in and out; who did is in the audit trail.
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by each service with its ``now`` (no onupdate: feeds and ETags
    # follow the clock the change was made with).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    equipment: Mapped[Equipment] = relationship()
    booked_by: Mapped[User] = relationship(foreign_keys=[booked_by_id])
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    project: Mapped[Project | None] = relationship()
    series: Mapped[BookingSeries | None] = relationship(back_populates="bookings")
    occupancies: Mapped[list[Occupancy]] = relationship(
        back_populates="booking",
        cascade="all, delete-orphan",
        passive_deletes=True,
        foreign_keys="[Occupancy.booking_id, Occupancy.booking_status]",
    )

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status} {self.start_at:%Y-%m-%d %H:%M}>"


class Occupancy(Base):
    __tablename__ = "occupancy"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        ForeignKeyConstraint(
            ["booking_id", "booking_status"],
            ["booking.id", "booking.status"],
            ondelete="CASCADE",
            onupdate="CASCADE",
            name="fk_occupancy_booking_id_status_booking",
        ),
        UniqueConstraint("booking_id", "equipment_id"),
        Index("ix_occupancy_equipment_id_starts_at", "equipment_id", "starts_at"),
        # The database, not a check before the insert, forbids double bookings.
        ExcludeConstraint(
            (literal_column("equipment_id"), "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at"), "[)"), "&&"),
            name="xcl_occupancy_no_overlap",
            using="gist",
            where=HOLDING_SQL,
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column()
    booking_status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus, "booking_status")
    )
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]

    booking: Mapped[Booking] = relationship(
        back_populates="occupancies",
        foreign_keys=[booking_id, booking_status],
    )
