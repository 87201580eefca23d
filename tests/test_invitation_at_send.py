"""The invitation is rendered when the outbox sends (issue 16), and it is the
calendar the request used to build: same method, UID, times, SEQUENCE and
DTSTAMP, for a booking created, moved and cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from booking.mail import build_email
from booking.services.bookings.operations import (
    BookingRequest,
    cancel_booking,
    create_booking,
    move_booking,
)
from booking.services.feeds.ical import calendar_of
from booking.services.messaging import invitations
from booking.services.messaging.notifications import SITE
from booking.services.messaging.outbox import deliver_one
from booking.services.policy import Policy
from models import Booking, OutboxMessage, Role
from tests.conftest import NOW

FIELDS = ("UID", "SEQUENCE", "DTSTART", "DTEND", "DTSTAMP", "STATUS", "SUMMARY", "LOCATION")


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def _as_built_in_the_request(booking: Booking, method: str) -> Calendar:
    """What the request built before issue 16, at the moment of the change."""
    return calendar_of([booking], name="Plateforme", now=NOW, base_url=SITE, method=method)


def _sent(db) -> list[tuple[OutboxMessage, bytes]]:
    """Deliver what is due as the scheduler does; each message and its e-mail."""
    sent: list[tuple[OutboxMessage, bytes]] = []

    def send(message: OutboxMessage) -> None:
        sent.append((message, build_email(message, "p@example.org", "https://p.test")
                     .as_bytes()))

    while deliver_one(db, send, now=NOW) is not None:
        pass
    return sent


def _attached(email: bytes) -> tuple[str, Calendar]:
    from email import message_from_bytes

    (part,) = [p for p in message_from_bytes(email).walk()
               if p.get_content_type() == "text/calendar"]
    return part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))


def _events(cal: Calendar) -> list[dict[str, str]]:
    return [{f: event[f].to_ical().decode() if hasattr(event[f], "to_ical") else str(event[f])
             for f in FIELDS} for event in cal.walk("VEVENT")]


def test_the_request_stores_a_reference_not_a_calendar(db, make):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est)
    machine = make.equipment(establishment=est)
    booking = create_booking(db, actor=trainer, now=NOW, policy=Policy(), request=BookingRequest(
        machine.id, datetime(2027, 1, 19, 8, tzinfo=UTC), datetime(2027, 1, 19, 10, tzinfo=UTC),
        "TP"))
    (queued,) = db.scalars(select(OutboxMessage))
    assert (queued.ics, queued.ics_method) == (f"{invitations.REFERENCE}{booking.id}", "REQUEST")
    ((sent, _email),) = _sent(db)
    assert sent.ics.startswith("BEGIN:VCALENDAR")  # the row keeps what was sent
    assert "{site}" in sent.ics  # links completed at delivery, as before


def test_created_moved_cancelled_send_the_same_calendar_as_before(db, make):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est, locale="en")
    machine = make.equipment(establishment=est, name="Cobot cell")
    start = datetime(2027, 1, 19, 8, tzinfo=UTC)
    booking = create_booking(db, actor=trainer, now=NOW, policy=Policy(), request=BookingRequest(
        machine.id, start, start + timedelta(hours=2), "Cobot class"))
    expected = [("REQUEST", _as_built_in_the_request(booking, "REQUEST"))]
    expected_events = [_events(expected[0][1])]
    ((_m, created),) = _sent(db)

    move_booking(db, actor=trainer, booking=booking, now=NOW, policy=Policy(),
                 start=start + timedelta(hours=1), end=start + timedelta(hours=3))
    expected_events.append(_events(_as_built_in_the_request(booking, "REQUEST")))
    ((_m, moved),) = _sent(db)

    cancel_booking(db, actor=trainer, booking=booking, now=NOW, reason="class moved")
    expected_events.append(_events(_as_built_in_the_request(booking, "CANCEL")))
    ((_m, cancelled),) = _sent(db)

    got = [_attached(email) for email in (created, moved, cancelled)]
    assert [method for method, _cal in got] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [_events(cal) for _method, cal in got] == expected_events
    sequences = [events[0]["SEQUENCE"] for events in expected_events]
    assert sequences == ["0", "1", "2"]
    assert {events[0]["UID"] for events in expected_events} == {booking.uid}
    # The whole calendar too, links completed as the request's text was.
    (_method, first) = got[0]
    assert first.to_ical() == Calendar.from_ical(
        expected[0][1].to_ical().decode().replace(SITE, "https://p.test")).to_ical()
