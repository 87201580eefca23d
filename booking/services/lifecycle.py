"""Time moves bookings on: undecided pending bookings expire, past ones complete.

Both functions are idempotent: they only touch rows still in the old status,
so a job that runs twice (or two schedulers by mistake) changes nothing more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.services import audit, notifications
from models import Booking, BookingStatus


def expire_overdue_pending(session: Session, *, now: datetime) -> list[Booking]:
    """Pending bookings past their decision deadline expire and free their slot."""
    overdue = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.status == BookingStatus.PENDING,
                Booking.decision_deadline.is_not(None),
                Booking.decision_deadline <= now,
            )
            .order_by(Booking.id)
            .with_for_update(skip_locked=True)
        )
    )
    for booking in overdue:
        booking.status = BookingStatus.EXPIRED
        booking.sequence += 1
        booking.updated_at = now
        booking.decided_at = now
        booking.decision_reason = "no decision before the deadline"
        audit.record(session, actor=None, action="booking.expire", object_type="booking",
                     object_id=booking.id, now=now)
        notifications.booking_changed(session, booking, now=now)
    session.flush()
    return overdue


def complete_past_bookings(session: Session, *, now: datetime) -> list[Booking]:
    """Confirmed bookings whose end has passed become completed."""
    done = list(
        session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.CONFIRMED, Booking.end_at <= now)
            .order_by(Booking.id)
            .with_for_update(skip_locked=True)
        )
    )
    for booking in done:
        booking.status = BookingStatus.COMPLETED
        booking.updated_at = now
        audit.record(session, actor=None, action="booking.complete", object_type="booking",
                     object_id=booking.id, now=now)
    session.flush()
    return done
