"""Preferences (issue 12, part 5): reminder delay, which e-mails, language, and
the coordinators' digest hour; the mail code honours them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.messaging.reminders import send_digests
from booking.services.policy import Policy
from models import BookingPurpose, OutboxMessage, Role
from tests.conftest import NOW, csrf_token_of

URL = "/account/preferences"


def _mails(db, address):
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == address)))


def _post(client, data):
    token = csrf_token_of(client.get(URL).get_data(as_text=True))
    return client.post(URL, data={**data, "csrf_token": token})


def test_preferences_are_saved(make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    client = login(trainer)
    assert client.get(URL).status_code == 200
    answer = _post(client, {"reminder_hours": "48", "locale": "en", "notify_bookings": ""})
    assert answer.status_code == 302
    db.expire_all()
    assert (trainer.reminder_hours, trainer.locale, trainer.notify_bookings) == (48, "en", False)
    assert "Preferences" in client.get(URL).get_data(as_text=True)  # now in English


@pytest.mark.parametrize("data", [{"reminder_hours": "5", "locale": "fr"},
                                  {"reminder_hours": "24", "locale": "de"},
                                  {"reminder_hours": "24", "locale": "fr", "digest_hour": "24"}])
def test_bad_preferences_write_nothing(make, login, db, now, data) -> None:
    coordinator = make.user(Role.COORDINATOR)
    answer = _post(login(coordinator), data)
    assert answer.status_code == 200
    db.expire_all()
    kept = (coordinator.reminder_hours, coordinator.locale, coordinator.digest_hour)
    assert kept == (24, "fr", 7)


def test_only_coordinators_choose_a_digest_hour(make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    client = login(trainer)
    assert 'name="digest_hour"' not in client.get(URL).get_data(as_text=True)
    assert _post(client, {"reminder_hours": "24", "locale": "fr",
                          "digest_hour": "9"}).status_code == 302
    db.expire_all()
    assert trainer.digest_hour == 7


def _pending(app, db, make, coordinator, trainer):
    machine = make.equipment(establishment=coordinator.establishment, requires_approval=True)
    start = datetime(2027, 1, 14, 9, tzinfo=ZoneInfo("Europe/Paris"))
    with app.app_context():
        return create_booking(db, actor=trainer, now=NOW, policy=Policy(),
                              request=BookingRequest(machine.id, start,
                                                     start + timedelta(hours=1), "Essai",
                                                     BookingPurpose.TRAINING))


def test_a_booking_mail_turned_off_is_not_queued(app, make, db) -> None:
    coordinator = make.user(Role.COORDINATOR)
    quiet = make.user(Role.TRAINER, establishment=coordinator.establishment,
                      notify_bookings=False)
    loud = make.user(Role.TRAINER, establishment=coordinator.establishment)
    _pending(app, db, make, coordinator, quiet)
    _pending(app, db, make, coordinator, loud)
    assert _mails(db, quiet.email) == []
    assert len(_mails(db, loud.email)) == 1
    assert len(_mails(db, coordinator.email)) == 2  # the coordinators still decide


def test_the_digest_waits_for_each_coordinators_hour_once_a_day(app, make, db) -> None:
    early = make.user(Role.COORDINATOR)
    late = make.user(Role.COORDINATOR, establishment=early.establishment, digest_hour=10)
    off = make.user(Role.COORDINATOR, establishment=early.establishment, notify_digest=False)
    trainer = make.user(Role.TRAINER, establishment=early.establishment)
    _pending(app, db, make, early, trainer)
    before = {c.email: len(_mails(db, c.email)) for c in (early, late, off)}

    def digests(who):
        return len(_mails(db, who.email)) - before[who.email]

    with app.app_context():
        assert send_digests(db, now=datetime(2027, 1, 12, 5, 30, tzinfo=UTC)) == 0  # 06:30
        assert send_digests(db, now=datetime(2027, 1, 12, 6, 0, tzinfo=UTC)) == 1  # 07:00
        assert (digests(early), digests(late)) == (1, 0)
        assert send_digests(db, now=datetime(2027, 1, 12, 8, 30, tzinfo=UTC)) == 0  # 09:30
        assert send_digests(db, now=datetime(2027, 1, 12, 9, 0, tzinfo=UTC)) == 1  # 10:00
        assert send_digests(db, now=datetime(2027, 1, 12, 15, 0, tzinfo=UTC)) == 0  # once
    assert (digests(early), digests(late), digests(off)) == (1, 1, 0)
