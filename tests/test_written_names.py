"""Names and titles are made safe where they are written (issue 10, finding 3):
a line break or a control character stored before the input boundary existed
(inserted here straight into the rows) must not break the iCalendar feeds, the
.ics downloads, the export job, or the delivery of a mail."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from booking.mail import build_email
from booking.services.feeds.exports import write_exports
from booking.services.inputs import ascii_file_name, single_line
from booking.services.messaging import invitations
from booking.services.messaging.outbox import Mail, enqueue
from models import (
    Booking,
    Company,
    Equipment,
    Establishment,
    OutboxMessage,
    OutboxStatus,
    Project,
    User,
)
from tests.conftest import NOW
from tests.world import World, build_world, logged_in

BROKEN = "Ligne\r\nX-INJECTED:oui\x07\x1b fin"
CLEAN = "Ligne X-INJECTED:oui fin"


@pytest.fixture
def world(app: Any, make: Any, db: Any, now: Any) -> World:
    """Every name a calendar or a mail writes, broken in the database itself."""
    world = build_world(app, make, db)
    ids = world.ids
    for model, key, column in ((Establishment, "establishment_id", "name"),
                               (Equipment, "equipment_id", "name"),
                               (Project, "project_id", "title"),
                               (Company, "company_id", "name"),
                               (Booking, "booking_id", "title"),
                               (User, "user_id", "name")):
        db.execute(update(model).where(model.id == ids[key]).values({column: BROKEN}))
    db.flush()
    db.expire_all()
    return world


def _parsed(body: bytes) -> Calendar:
    """Parsed back; and no control character left but the CRLF ending the lines."""
    assert not set(body.replace(b"\r\n", b"")) & set(range(32)) - {9}
    return Calendar.from_ical(body)


def test_a_feed_of_a_broken_name_is_served(app: Any, db: Any, world: World) -> None:
    answer = app.test_client().get(f"/ical/{world.feed_token}.ics")  # "Agenda — <trainer>"
    assert answer.status_code == 200
    calendar = _parsed(answer.data)
    assert str(calendar["X-WR-CALNAME"]) == f"Plateforme — Agenda — {CLEAN}"
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == CLEAN
    assert CLEAN in str(event["LOCATION"])
    assert f"Projet / Project: {CLEAN}" in str(event["DESCRIPTION"])


def test_the_ics_download_of_a_broken_title(app: Any, db: Any, world: World) -> None:
    client = logged_in(app, world["trainer"])
    answer = client.get(f"/bookings/{world.ids['booking_id']}.ics")
    assert answer.status_code == 200
    assert str(_parsed(answer.data)["X-WR-CALNAME"]) == CLEAN
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="booking-{world.ids["booking_id"]}.ics"')


def test_the_export_job_writes_every_file(db: Any, world: World, tmp_path: Any) -> None:
    summary = write_exports(db, now=NOW, export_dir=tmp_path, base_url="https://p.test")
    assert summary.written > 0
    names = {str(_parsed(path.read_bytes())["X-WR-CALNAME"])
             for path in tmp_path.glob("*.ics")}
    assert f"Plateforme — {CLEAN}" in names


def test_a_mail_with_a_broken_subject_is_delivered(db: Any, world: World) -> None:
    """Queued before the fix (the row as it is), then built for delivery: the
    header stays one line and no header is injected."""
    message = OutboxMessage(to_addr="someone@example.org", subject=f"Réservation : {BROKEN}",
                            body_text="Bonjour", status=OutboxStatus.PENDING, attempts=0,
                            next_attempt_at=NOW, created_at=NOW)
    db.add(message)
    db.flush()
    email = build_email(message, "plateforme@example.org", "https://p.test")
    parsed = message_from_bytes(email.as_bytes(), policy=default_policy)
    assert parsed["Subject"] == f"Réservation : {CLEAN}"
    assert parsed["X-INJECTED"] is None


def test_a_mail_is_queued_with_a_one_line_subject(db: Any, world: World) -> None:
    message = enqueue(db, Mail("someone@example.org", f"Réservation : {BROKEN}", "Bonjour"),
                      now=NOW)
    assert message is not None
    assert message.subject == f"Réservation : {CLEAN}"


def test_a_notification_of_a_broken_title_is_sent(app: Any, db: Any, world: World) -> None:
    """The whole path: a booking's change queues mails whose title and invitation
    both survive the name."""
    from booking.services.bookings.operations import decide_booking

    booking = db.get(Booking, world.ids["booking_id"])
    with app.app_context():
        decide_booking(db, actor=world["coordinator"], booking=booking, approve=True,
                       now=NOW + timedelta(minutes=1))
    db.flush()
    messages = list(db.scalars(select(OutboxMessage)))
    assert messages
    for message in messages:
        assert single_line(message.subject) == message.subject
        invitations.render(db, message)  # as the outbox does when it sends
        email = build_email(message, "plateforme@example.org", "https://p.test")
        email.as_bytes()
        if message.ics:
            _parsed(message.ics.encode())


@pytest.mark.parametrize(("name", "expected"), [
    (BROKEN, "Ligne_X-INJECTED_oui_fin"),
    ('a"b;c\\d/é..', "a_b_c_d_e"),
    ("\x00\r\n", "download"),
    ("../../etc/passwd", "etc_passwd"),
])
def test_file_names_are_plain_ascii(name: str, expected: str) -> None:
    assert ascii_file_name(name) == expected


def test_single_line_keeps_the_text_and_drops_the_breaks() -> None:
    assert single_line("  Émulsion\u2028Crème\r\n\x00") == "Émulsion Crème"
    assert single_line(None) == ""
