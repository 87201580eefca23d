"""The waiting list: a user's request for a slot that was taken, offered to
them when it frees (issue 14, part 1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import BookingPurpose

if TYPE_CHECKING:
    from models.booking import Booking
    from models.equipment import Equipment
    from models.project import Project
    from models.user import User


class WaitlistStatus(StrEnum):
    """API.md lists the first four; ``cancelled`` is an entry its owner left."""

    WAITING = "waiting"
    OFFERED = "offered"
    CLAIMED = "claimed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# Entries still in line: the job looks at these, and a user joins a slot once.
OPEN_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistEntry(Base):
    """One request in line for a machine and a period, served in the order
    entries were made (created_at, then id)."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint("status <> 'offered' OR (offered_at IS NOT NULL "
                        "AND offer_expires_at IS NOT NULL)", name="offer_has_times"),
        CheckConstraint("status <> 'claimed' OR claimed_at IS NOT NULL",
                        name="claim_has_time"),
        # The job's question: the open entries of a machine meeting a period, in line.
        Index("ix_waitlist_entry_equipment_status_start", "equipment_id", "status",
              "start_at"),
        Index("ix_waitlist_entry_user_id_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[BookingPurpose] = mapped_column(
        str_enum(BookingPurpose, "waitlist_purpose"))
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"))
    status: Mapped[WaitlistStatus] = mapped_column(str_enum(WaitlistStatus, "waitlist_status"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    # The booking a claim made.
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    equipment: Mapped[Equipment] = relationship()
    project: Mapped[Project | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
