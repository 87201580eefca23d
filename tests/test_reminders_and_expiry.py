"""Reminders, the approval digest, certification warnings and booking flags:
each once, however often the job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.certifications.watch import flag_uncertified_bookings, warn_expiring
from booking.services.messaging.reminders import send_digests, send_reminders
from models import Booking, BookingPurpose, BookingStatus, OutboxMessage, Role
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def _outbox(db, to=None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        stmt = stmt.where(OutboxMessage.to_addr == to)
    return list(db.scalars(stmt))


def _book(make, machine, trainer, start, status=BookingStatus.CONFIRMED, n=[0]):  # noqa: B006
    n[0] += 1
    booking = Booking(uid=f"w{n[0]}@t", equipment=machine, start_at=start,
                      end_at=start + timedelta(hours=2), title="TP", status=status,
                      purpose=BookingPurpose.TRAINING, booked_by=trainer, trainer=trainer)
    booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


def test_reminder_within_the_users_delay_once(db, make):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est, reminder_hours=24)
    quiet = make.user(Role.TRAINER, establishment=est, reminder_hours=0)
    machine = make.equipment(establishment=est)
    soon = _book(make, machine, trainer, NOW + timedelta(hours=20))
    _book(make, machine, trainer, NOW + timedelta(hours=30))  # beyond 24 h
    _book(make, machine, quiet, NOW + timedelta(hours=3))
    assert send_reminders(db, now=NOW) == 1
    assert send_reminders(db, now=NOW + timedelta(minutes=15)) == 0
    (message,) = _outbox(db)
    assert message.to_addr == trainer.email
    assert f"/bookings/{soon.id}" in message.body_text


def test_moved_booking_is_reminded_again(db, make):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est)
    booking = _book(make, make.equipment(establishment=est), trainer, NOW + timedelta(hours=5))
    send_reminders(db, now=NOW)
    booking.start_at += timedelta(hours=2)
    booking.end_at += timedelta(hours=2)
    assert send_reminders(db, now=NOW) == 1


def test_daily_digest_to_the_coordinators_who_decide(db, make):
    tours, orleans = make.establishment(), make.establishment()
    coordinator = make.user(Role.COORDINATOR, establishment=tours)
    other = make.user(Role.COORDINATOR, establishment=orleans)
    trainer = make.user(Role.TRAINER, establishment=orleans)
    _book(make, make.equipment(establishment=tours), trainer, NOW + timedelta(days=3),
          status=BookingStatus.PENDING)
    six_am = datetime(2027, 1, 12, 5, tzinfo=UTC)  # 06:00 in Paris: too early
    assert send_digests(db, now=six_am) == 0
    eight_am = datetime(2027, 1, 12, 7, tzinfo=UTC)
    assert send_digests(db, now=eight_am) == 1
    assert send_digests(db, now=eight_am + timedelta(hours=3)) == 0
    assert [m.to_addr for m in _outbox(db)] == [coordinator.email]
    assert _outbox(db, other.email) == []


def test_expiry_warnings_at_30_and_7_days_once_each(db, make):
    est = make.establishment()
    make.user(Role.COORDINATOR, establishment=est)
    trainer = make.user(Role.TRAINER, establishment=est)
    ctype = make.certification_type(name="Cobot")
    make.certification(trainer, ctype, valid_from=date(2026, 1, 1), valid_until=date(2027, 2, 5))
    assert warn_expiring(db, now=NOW) == 2  # 24 days left: holder and coordinator
    assert warn_expiring(db, now=NOW + timedelta(days=1)) == 0
    assert warn_expiring(db, now=NOW + timedelta(days=18)) == 2  # 6 days left
    assert warn_expiring(db, now=NOW + timedelta(days=19)) == 0
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 4


def test_future_booking_flagged_when_the_certification_lapses(db, make):
    est = make.establishment()
    make.user(Role.COORDINATOR, establishment=est)
    trainer = make.user(Role.TRAINER, establishment=est)
    ctype = make.certification_type()
    cert = make.certification(trainer, ctype, valid_from=date(2026, 1, 1),
                              valid_until=date(2027, 2, 28))
    machine = make.equipment(establishment=est, required_certification_types=[ctype])
    early = _book(make, machine, trainer, datetime(2027, 2, 2, 8, tzinfo=UTC))
    late = _book(make, machine, trainer, datetime(2027, 3, 2, 8, tzinfo=UTC))
    assert flag_uncertified_bookings(db, now=NOW) == (1, 0)
    assert (early.certification_flag, late.certification_flag) == (False, True)
    assert flag_uncertified_bookings(db, now=NOW) == (0, 0)  # told once
    cert.valid_until = date(2027, 12, 31)  # renewed
    assert flag_uncertified_bookings(db, now=NOW) == (0, 1)
    assert late.certification_flag is False
