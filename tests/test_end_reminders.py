"""Reminders before the end of a booking (issue 13, part 7): each person's
delay (none by default, 15, 30 or 60 minutes) chosen on the preferences page;
one e-mail per booking in progress, however often the job runs, a new one
when the booking's end moves; in the reader's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from booking.jobs import labels
from booking.services.bookings.occupancy import occupancy_rows
from booking.services.messaging.reminders import send_end_reminders
from models import Booking, BookingPurpose, BookingStatus, OutboxMessage, Role
from scheduler.jobs import job_by_id
from tests.conftest import NOW, csrf_token_of

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _app_context(app, request):
    """The services' tests in an app context (mails in the reader's language);
    the pages' tests have their requests' own."""
    if "client" in request.fixturenames:
        yield
        return
    with app.app_context():
        yield


def _outbox(db: Any) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _book(make: Any, machine: Any, booker: Any, start: Any, *, minutes: int = 120,
          trainer: Any = "booker", status: BookingStatus = BookingStatus.CONFIRMED,
          title: str = "TP émulsion") -> Booking:
    booking = Booking(uid=f"end-{make._n()}@t", equipment=machine, start_at=start,
                      end_at=start + timedelta(minutes=minutes), title=title, status=status,
                      purpose=BookingPurpose.TRAINING, booked_by=booker,
                      trainer=booker if trainer == "booker" else trainer,
                      cancelled_at=NOW if status is BookingStatus.CANCELLED else None)
    booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


@pytest.fixture
def site(make: Any) -> Any:
    est = make.establishment()
    return est, make.equipment(establishment=est, name="Mélangeur")


def test_one_reminder_however_often_the_job_runs(db, make, site) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=30)
    # Started an hour ago, ends in 20 minutes: within the trainer's 30 minutes.
    booking = _book(make, machine, trainer, NOW - timedelta(hours=1), minutes=80)
    assert send_end_reminders(db, now=NOW) == 1
    assert send_end_reminders(db, now=NOW + timedelta(minutes=5)) == 0
    (message,) = _outbox(db)
    assert message.to_addr == trainer.email
    assert f"/bookings/{booking.id}" in message.body_text


def test_not_before_the_delay_nor_after_the_end(db, make, site) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=15)
    booking = _book(make, machine, trainer, NOW - timedelta(hours=1))  # ends in an hour
    assert send_end_reminders(db, now=NOW) == 0
    assert send_end_reminders(db, now=booking.end_at - timedelta(minutes=15)) == 1
    later = _book(make, machine, trainer, NOW + timedelta(hours=3), minutes=60)
    assert send_end_reminders(db, now=later.end_at) == 0  # it has ended
    assert len(_outbox(db)) == 1


def test_not_for_a_booking_that_has_not_started(db, make, site) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=60)
    # 30 minutes long, starting in 10 minutes: its end is within the hour, but it
    # is not in progress yet.
    _book(make, machine, trainer, NOW + timedelta(minutes=10), minutes=30)
    assert send_end_reminders(db, now=NOW) == 0


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.PENDING,
                                    BookingStatus.REJECTED, BookingStatus.COMPLETED])
def test_not_for_a_booking_that_is_not_confirmed(db, make, site, status) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=60)
    _book(make, machine, trainer, NOW - timedelta(hours=1), status=status)
    assert send_end_reminders(db, now=NOW + timedelta(minutes=30)) == 0
    assert _outbox(db) == []


def test_not_when_the_preference_is_none(db, make, site) -> None:
    est, machine = site
    quiet = make.user(Role.TRAINER, establishment=est)  # end_reminder_minutes: 0
    gone = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=60, active=False)
    _book(make, machine, quiet, NOW - timedelta(hours=1))
    _book(make, make.equipment(establishment=est), gone, NOW - timedelta(hours=1))
    assert send_end_reminders(db, now=NOW + timedelta(minutes=50)) == 0


def test_the_trainer_is_reminded_else_the_booker(db, make, site) -> None:
    est, machine = site
    coordinator = make.user(Role.COORDINATOR, establishment=est, end_reminder_minutes=60)
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=60)
    _book(make, machine, coordinator, NOW - timedelta(hours=1), trainer=trainer)
    _book(make, make.equipment(establishment=est), coordinator, NOW - timedelta(hours=1),
          trainer=None, title="Maintenance")
    assert send_end_reminders(db, now=NOW + timedelta(minutes=30)) == 2
    assert sorted(m.to_addr for m in _outbox(db)) == sorted([trainer.email, coordinator.email])


def test_a_moved_end_is_reminded_again(db, make, site) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=30)
    booking = _book(make, machine, trainer, NOW - timedelta(hours=1))
    at = booking.end_at - timedelta(minutes=20)
    assert send_end_reminders(db, now=at) == 1
    booking.end_at += timedelta(minutes=10)  # extended: ends 30 minutes from ``at``
    db.flush()
    assert send_end_reminders(db, now=at) == 1
    assert send_end_reminders(db, now=at) == 0
    keys = [m.dedupe_key for m in _outbox(db)]
    assert len(set(keys)) == 2
    assert all(key.startswith(f"end-reminder:{booking.id}:") for key in keys)


def test_the_reminder_speaks_french_with_the_local_time(db, make, site) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=60, locale="fr")
    english = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=60, locale="en")
    # NOW is 09:00 in Paris: both end at 10:00 Paris (09:00 UTC).
    _book(make, machine, trainer, NOW - timedelta(hours=1), title="TP émulsion")
    _book(make, make.equipment(establishment=est, name="Étuve"), english,
          NOW - timedelta(hours=1), title="Drying")
    assert send_end_reminders(db, now=NOW + timedelta(minutes=30)) == 2
    by_reader = {m.to_addr: m for m in _outbox(db)}
    french = by_reader[trainer.email]
    assert french.subject == f"Fin de réservation{NBSP}: TP émulsion à 10:00"
    assert "Votre réservation de Mélangeur se termine à 10:00." in french.body_text
    assert by_reader[english.email].subject == "End of booking: Drying at 10:00"


def test_the_scheduler_job_and_its_labels(app, db, make, site) -> None:
    est, machine = site
    trainer = make.user(Role.TRAINER, establishment=est, end_reminder_minutes=15)
    _book(make, machine, trainer, NOW - timedelta(hours=1), minutes=60)  # ends at NOW
    spec = job_by_id("end_reminders")
    assert spec.trigger_args == {"minutes": 5}
    summary = spec.run(db, NOW - timedelta(minutes=10))
    assert summary == "1 reminder(s) queued"
    assert spec.run(db, NOW - timedelta(minutes=5)) == "0 reminder(s) queued"
    with app.test_request_context(), force_locale("fr"):
        assert labels.title("end_reminders") == "Rappels avant la fin"
        assert labels.summary("end_reminders", summary) == "1 rappel de fin mis en file d’envoi"
        assert labels.summary("end_reminders", "3 reminder(s) queued") == \
            "3 rappels de fin mis en file d’envoi"


# --- the preference ---------------------------------------------------------------------


def _post(client: Any, data: dict[str, Any]) -> Any:
    token = csrf_token_of(client.get("/account/preferences").get_data(as_text=True))
    return client.post("/account/preferences", data={**data, "csrf_token": token})


def test_the_preference_is_chosen_on_the_preferences_page(client, login, db, make) -> None:
    trainer = make.user(Role.TRAINER, locale="fr")
    login(trainer)
    page = client.get("/account/preferences").get_data(as_text=True)
    assert "Rappel avant la fin d’une réservation" in page
    assert ">30 minutes avant<" in page
    answer = _post(client, {"reminder_hours": "24", "end_reminder_minutes": "30",
                            "locale": "fr", "notify_bookings": "y"})
    assert answer.status_code == 302
    db.expire_all()
    assert trainer.end_reminder_minutes == 30
    # A form that does not send it keeps it.
    assert _post(client, {"reminder_hours": "2", "locale": "fr"}).status_code == 302
    db.expire_all()
    assert (trainer.reminder_hours, trainer.end_reminder_minutes) == (2, 30)


@pytest.mark.parametrize("value", ["45", "-15", "1440", "x"])
def test_a_delay_off_the_list_is_refused(client, login, db, make, value) -> None:
    trainer = make.user(Role.TRAINER, locale="en")
    login(trainer)
    answer = _post(client, {"reminder_hours": "24", "end_reminder_minutes": value,
                            "locale": "en"})
    assert answer.status_code == 200
    assert 'id="end_reminder_minutes-error"' in answer.get_data(as_text=True)
    db.expire_all()
    assert trainer.end_reminder_minutes == 0


def test_the_service_refuses_a_delay_off_the_list(db, make) -> None:
    from booking.services.accounts.preferences import Preferences, save_preferences
    from booking.services.errors import ValidationError

    trainer = make.user(Role.TRAINER)
    wanted = Preferences(reminder_hours=24, locale="fr", notify_bookings=True,
                         end_reminder_minutes=45)
    with pytest.raises(ValidationError) as refused:
        save_preferences(db, actor=trainer, user=trainer, wanted=wanted, now=NOW)
    assert refused.value.details == {"field": "end_reminder_minutes"}
    db.expire_all()
    assert trainer.end_reminder_minutes == 0
