"""A problem reported on a machine at check-out (issue 14): the owning
coordinators are told and may put the machine in maintenance from it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

if TYPE_CHECKING:
    from models.booking import Booking
    from models.equipment import Equipment
    from models.user import User


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("length(description) > 0", name="description_not_empty"),
        Index("ix_incident_equipment_id_reported_at", "equipment_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))
    # The booking at whose check-out it was reported (kept when the booking goes).
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    description: Mapped[str] = mapped_column(Text)
    # A coordinator of the owner closes it (with or after maintenance).
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    equipment: Mapped[Equipment] = relationship()
    booking: Mapped[Booking | None] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
