"""E-mails: queued with the change, in the recipient's language, with an
invitation; delivered once, retried with backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from booking.mail import build_email
from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.messaging.outbox import MAX_ATTEMPTS, Mail, deliver_one, enqueue
from booking.services.policy import Policy
from models import OutboxMessage, OutboxStatus, Role
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def _messages(db) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _sent(db) -> list[OutboxMessage]:
    """Deliver what is due, as the scheduler does: the invitation is rendered
    then (the request stored a reference to its bookings)."""
    sent: list[OutboxMessage] = []
    while deliver_one(db, sent.append, now=NOW) is not None:
        pass
    return sent


def test_booking_confirmation_carries_an_invitation_in_the_users_language(db, make):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est, locale="en")
    machine = make.equipment(establishment=est, name="Cobot cell")
    booking = create_booking(db, actor=trainer, now=NOW, policy=Policy(), request=BookingRequest(
        machine.id, datetime(2027, 1, 19, 8, tzinfo=UTC), datetime(2027, 1, 19, 10, tzinfo=UTC),
        "Cobot class"))
    (message,) = _sent(db)
    assert message.to_addr == trainer.email
    assert message.subject == "Booking confirmed: Cobot class"
    assert message.ics_method == "REQUEST"
    (event,) = Calendar.from_ical(message.ics).walk("VEVENT")
    assert str(event["UID"]) == booking.uid
    assert event["SEQUENCE"] == 0

    cancel_booking(db, actor=trainer, booking=booking, now=NOW, reason="class moved")
    (cancelled,) = _sent(db)
    assert cancelled.ics_method == "CANCEL"
    (event,) = Calendar.from_ical(cancelled.ics).walk("VEVENT")
    assert (str(event["UID"]), event["SEQUENCE"], event["STATUS"]) == (booking.uid, 1, "CANCELLED")
    assert "class moved" in cancelled.body_text


def test_pending_booking_is_announced_to_the_deciding_coordinators_in_french(db, make):
    est = make.establishment()
    coordinator = make.user(Role.COORDINATOR, establishment=est)
    outsider = make.user(Role.TRAINER, establishment=make.establishment())
    machine = make.equipment(establishment=est, name="Réacteur")
    create_booking(db, actor=outsider, now=NOW, policy=Policy(), request=BookingRequest(
        machine.id, datetime(2027, 1, 19, 8, tzinfo=UTC), datetime(2027, 1, 19, 10, tzinfo=UTC),
        "Émulsions"))
    to_coordinator = [m for m in _messages(db) if m.to_addr == coordinator.email]
    assert len(to_coordinator) == 1
    assert to_coordinator[0].subject.startswith("À approuver")
    assert to_coordinator[0].ics is None


def test_dedupe_key_queues_one_message(db):
    mail = Mail("a@example.org", "Rappel", "Demain")
    assert enqueue(db, mail, now=NOW, dedupe_key="reminder:1") is not None
    assert enqueue(db, mail, now=NOW, dedupe_key="reminder:1") is None
    assert len(_messages(db)) == 1


def test_delivery_marks_sent_once_and_retries_failures_with_backoff(db):
    enqueue(db, Mail("ok@example.org", "A", "a"), now=NOW)
    enqueue(db, Mail("ko@example.org", "B", "b"), now=NOW)
    sent: list[str] = []

    def send(message: OutboxMessage) -> None:
        if message.to_addr.startswith("ko"):
            raise ConnectionError("mail server down")
        sent.append(message.to_addr)

    first = deliver_one(db, send, now=NOW)
    second = deliver_one(db, send, now=NOW)
    assert deliver_one(db, send, now=NOW) is None  # the failed one waits for its retry
    assert sent == ["ok@example.org"]
    assert first.status is OutboxStatus.SENT
    assert second.status is OutboxStatus.PENDING
    assert second.next_attempt_at == NOW + timedelta(minutes=2)
    assert "mail server down" in second.last_error
    later = NOW
    for _ in range(MAX_ATTEMPTS - 1):
        later += timedelta(hours=7)
        deliver_one(db, send, now=later)
    assert second.status is OutboxStatus.FAILED
    assert sent == ["ok@example.org"]


def test_email_gets_the_site_address_and_a_calendar_part(db, make):
    message = enqueue(db, Mail("x@example.org", "S", "See {site}/bookings/1",
                               "BEGIN:VCALENDAR\r\nURL:{site}/bookings/1\r\nEND:VCALENDAR\r\n",
                               "REQUEST"), now=NOW)
    email = build_email(message, "plateforme@example.org", "https://plateforme.example")
    assert "https://plateforme.example/bookings/1" in email.get_body().get_content()
    (part,) = [p for p in email.iter_attachments()]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert b"https://plateforme.example/bookings/1" in part.get_payload(decode=True)
