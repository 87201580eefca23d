"""The invitation of a booking e-mail, rendered when the outbox sends it.

Building the iCalendar text (events, time zones, serialisation) cost more than
the rest of a booking request. The request now stores only what names the
events: ``ics`` holds a reference (``REFERENCE`` and the bookings' ids, in
order) and ``ics_method`` the method decided at the change (REQUEST or
CANCEL); :func:`render` turns the reference into the calendar just before the
message is handed to the mail server, with the message's ``created_at`` (the
instant of the change) as DTSTAMP, and keeps it in the row, so a sent message
holds what it sent. The bookings are read as they are at that moment: the same
UID, times and SEQUENCE as at the change unless the booking changed again
before the send, in which case the attachment carries the newer state (whose
own message follows), which is what a calendar should hold anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking.services.feeds.ical import calendar_of
from models import Booking, Equipment, OutboxMessage

# Links in texts and invitations are written against SITE and completed with
# the site's address when the message is sent (booking.mail).
SITE = "{site}"
REFERENCE = "x-plateforme-bookings:"
CALENDAR_NAME = "Plateforme"


def reference(bookings: Sequence[Booking]) -> str:
    """What ``ics`` holds until the send: the bookings' ids (flushed), in order."""
    ids = [booking.id for booking in bookings]
    if any(i is None for i in ids):
        raise ValueError("an invitation names flushed bookings")
    return REFERENCE + ",".join(str(i) for i in ids)


def is_reference(ics: str | None) -> bool:
    return ics is not None and ics.startswith(REFERENCE)


def render(session: Session, message: OutboxMessage) -> None:
    """Replace a message's reference by its calendar (nothing to do for a
    message without one, or already rendered)."""
    if not is_reference(message.ics):
        return
    ids = [int(i) for i in message.ics[len(REFERENCE):].split(",") if i]
    found = {b.id: b for b in session.scalars(
        select(Booking).where(Booking.id.in_(ids))
        .options(joinedload(Booking.equipment).joinedload(Equipment.establishment),
                 joinedload(Booking.trainer), joinedload(Booking.project)))}
    bookings = [found[i] for i in ids if i in found]
    if not bookings:  # gone since (a deleted account's bookings): the text alone
        message.ics, message.ics_method = None, None
        return
    cal = calendar_of(bookings, name=CALENDAR_NAME, now=message.created_at, base_url=SITE,
                      method=message.ics_method)
    message.ics = cal.to_ical().decode()
