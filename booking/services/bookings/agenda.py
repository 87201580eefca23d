"""What a user sees first: their upcoming bookings and what awaits them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from booking.permissions import is_admin, is_coordinator, is_trainer
from booking.services.bookings.visibility import visible_bookings
from models import Booking, BookingStatus, Equipment, User

ACTIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def upcoming_bookings(session: Session, user: User, *, now: datetime,
                      limit: int = 10) -> list[Booking]:
    """The next bookings that concern the user: theirs as booker or trainer; a
    company's; for a coordinator, those of their establishment."""
    stmt = (
        visible_bookings(user)
        .where(Booking.end_at > now, Booking.status.in_(ACTIVE))
        .order_by(Booking.start_at)
        .limit(limit)
    )
    # A company's own bookings come from visible_bookings; others narrow to theirs.
    if is_coordinator(user):
        stmt = stmt.join(Equipment, Equipment.id == Booking.equipment_id).where(
            or_(
                Equipment.establishment_id == user.establishment_id,
                Booking.booked_by_id == user.id,
            )
        )
    elif is_trainer(user):
        stmt = stmt.where(or_(Booking.trainer_id == user.id, Booking.booked_by_id == user.id))
    return list(session.scalars(stmt).unique())


def pending_approvals_count(session: Session, user: User) -> int:
    """Pending bookings the user may decide on."""
    stmt = select(func.count(Booking.id)).where(Booking.status == BookingStatus.PENDING)
    if is_coordinator(user):
        stmt = stmt.join(Equipment, Equipment.id == Booking.equipment_id).where(
            Equipment.establishment_id == user.establishment_id
        )
    elif not is_admin(user):
        return 0
    return session.scalar(stmt) or 0
