"""Reminders before bookings start and before they end (the coordinators'
daily digest is in digest.py).

Idempotent through the outbox's dedupe key: a job that runs twice,
or two schedulers by mistake, queue each message once. A moved booking gets
a new reminder (the key holds its start, or its end).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking.services.accounts.preferences import END_REMINDER_CHOICES
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_
from booking.services.messaging.digest import send_digests as send_digests  # its old home
from booking.services.messaging.notifications import SITE, render
from booking.services.messaging.outbox import Mail, enqueue
from models import Booking, BookingStatus, Equipment

LONGEST_REMINDER = timedelta(hours=168)
# The longest delay a user may choose before the end (END_REMINDER_CHOICES).
LONGEST_END_REMINDER = timedelta(minutes=max(END_REMINDER_CHOICES))


def _local(value: datetime, booking: Booking) -> datetime:
    """In the equipment's zone; a message writes it in its reader's language."""
    return value.astimezone(zone_of(booking.equipment))


def send_reminders(session: Session, *, now: datetime) -> int:
    """Remind the trainer (or the booker) of each booking starting within their
    reminder delay (24 h by default, 0 for none)."""
    bookings = session.scalars(
        select(Booking)
        .where(Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.PENDING)),
               Booking.start_at > now, Booking.start_at <= now + LONGEST_REMINDER)
        .options(joinedload(Booking.equipment).joinedload(Equipment.establishment),
                 joinedload(Booking.trainer), joinedload(Booking.booked_by))
        .order_by(Booking.start_at))
    queued = 0
    for booking in bookings:
        person = booking.trainer or booking.booked_by
        if not person.active or person.reminder_hours <= 0:
            continue
        if booking.start_at > now + timedelta(hours=person.reminder_hours):
            continue
        params = {"title": booking.title, "equipment": booking.equipment.name,
                  "when": _local(booking.start_at, booking),
                  "place": booking.equipment.location or booking.equipment.establishment.name}
        mail = Mail(person.email,
                    render(person, N_("Reminder: %(title)s on %(when)s"), **params),
                    render(person, N_("%(equipment)s is booked for you on %(when)s (%(place)s)."),
                           **params) + f"\n\n{SITE}/bookings/{booking.id}")
        key = f"reminder:{booking.id}:{person.id}:{booking.start_at.isoformat()}"
        if enqueue(session, mail, now=now, dedupe_key=key) is not None:
            queued += 1
    return queued


def send_end_reminders(session: Session, *, now: datetime) -> int:
    """Remind the trainer (or the booker) that a booking in progress ends
    soon, within their delay before the end (none by default)."""
    bookings = session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.CONFIRMED, Booking.start_at <= now,
               Booking.end_at > now, Booking.end_at <= now + LONGEST_END_REMINDER)
        .options(joinedload(Booking.equipment).joinedload(Equipment.establishment),
                 joinedload(Booking.trainer), joinedload(Booking.booked_by))
        .order_by(Booking.end_at, Booking.id))
    queued = 0
    for booking in bookings:
        person = booking.trainer or booking.booked_by
        if not person.active or person.end_reminder_minutes <= 0:
            continue
        if booking.end_at > now + timedelta(minutes=person.end_reminder_minutes):
            continue
        # The clock alone: the booking ends within the hour, the reader knows the day.
        params = {"title": booking.title, "equipment": booking.equipment.name,
                  "time": _local(booking.end_at, booking).time()}
        mail = Mail(person.email,
                    render(person, N_("End of booking: %(title)s at %(time)s"), **params),
                    render(person, N_("Your booking of %(equipment)s ends at %(time)s."),
                           **params)
                    + f"\n\n{SITE}/bookings/{booking.id}")
        key = f"end-reminder:{booking.id}:{person.id}:{booking.end_at.isoformat()}"
        if enqueue(session, mail, now=now, dedupe_key=key) is not None:
            queued += 1
    return queued
