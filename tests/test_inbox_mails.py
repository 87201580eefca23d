"""The e-mails of the coordinator's inbox work: a project or a certification
asked for reaches the coordinators concerned, a decision on a certification
reaches its trainer, and a move says it is one (one mail for a series)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select

from booking.services.bookings.operations import BookingRequest, create_booking, move_booking
from booking.services.bookings.series import create_series, move_in_scope
from booking.services.certifications import operations as certifications
from booking.services.certifications.requests import decide, request_certification
from booking.services.messaging import invitations
from booking.services.policy import Policy
from booking.services.projects.operations import request_project
from models import OutboxMessage, Role
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def outbox(db: Any, to: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        stmt = stmt.where(OutboxMessage.to_addr == to)
    return list(db.scalars(stmt))


def forget(db: Any) -> None:
    db.execute(delete(OutboxMessage))


@pytest.fixture
def w(make: Any, db: Any) -> SimpleNamespace:
    home, away, third = make.establishment(), make.establishment(), make.establishment()
    ctype = make.certification_type(name="Salle propre")
    machine = make.equipment(establishment=home, name="Ligne")
    machine.required_certification_types = [ctype]
    db.flush()
    return SimpleNamespace(
        home=home, away=away, ctype=ctype, machine=machine,
        away_machine=make.equipment(establishment=away, name="Cobot"),
        coordinator=make.user(Role.COORDINATOR, establishment=home, locale="fr"),
        other=make.user(Role.COORDINATOR, establishment=away, locale="en"),
        third=make.user(Role.COORDINATOR, establishment=third, locale="en"),
        trainer=make.user(Role.TRAINER, establishment=away, locale="en", name="Ana Trainer"),
        admin=make.user(Role.ADMIN),
        company=make.user(Role.COMPANY, locale="en"))


def _project(db: Any, w: Any, equipment_ids: list[int]) -> Any:
    return request_project(db, actor=w.company, now=NOW, title="Crèmes", learners=8,
                           wanted_from=date(2027, 2, 1), wanted_to=date(2027, 3, 1),
                           equipment_ids=equipment_ids)


def test_a_project_request_reaches_the_coordinators_of_its_machines(db, w) -> None:
    project = _project(db, w, [w.machine.id])
    (mail,) = outbox(db)
    assert mail.to_addr == w.coordinator.email
    assert mail.subject.startswith("Projet à décider\u00a0: Crèmes")
    assert f"/projects/{project.id}" in mail.body_text


def test_a_project_naming_no_machine_reaches_every_coordinator(db, w) -> None:
    _project(db, w, [])
    assert {m.to_addr for m in outbox(db)} == {w.coordinator.email, w.other.email,
                                               w.third.email}


def test_a_certification_request_reaches_the_coordinators_concerned(db, w) -> None:
    request_certification(db, actor=w.trainer, equipment=w.machine, now=NOW)
    # The machine's establishment and the trainer's: not the third.
    assert {m.to_addr for m in outbox(db)} == {w.coordinator.email, w.other.email}
    (mail,) = outbox(db, w.other.email)
    assert mail.subject == "Certification request: Ana Trainer"
    assert "Salle propre" in mail.body_text
    request_certification(db, actor=w.trainer, equipment=w.machine, now=NOW)  # already open
    assert len(outbox(db)) == 2


def test_the_trainer_hears_of_a_grant_and_of_a_refusal(db, w) -> None:
    (request,) = request_certification(db, actor=w.trainer, equipment=w.machine,
                                       now=NOW).created
    forget(db)
    decide(db, request, actor=w.coordinator, grant=False, now=NOW, reason="Formation d'abord")
    (mail,) = outbox(db)
    assert (mail.to_addr, mail.subject) == (w.trainer.email,
                                             "Certification declined: Salle propre")
    assert "Formation d'abord" in mail.body_text
    forget(db)
    (request,) = request_certification(db, actor=w.trainer, equipment=w.machine,
                                       now=NOW).created
    forget(db)
    decide(db, request, actor=w.coordinator, grant=True, now=NOW)
    (mail,) = outbox(db)
    assert (mail.to_addr, mail.subject) == (w.trainer.email,
                                             "Certification granted: Salle propre")
    assert "12 January 2027" in mail.body_text


def test_a_direct_grant_is_told_too(db, w) -> None:
    certifications.grant(db, w.trainer, actor=w.admin, now=NOW, certification_type_id=w.ctype.id)
    assert [m.subject for m in outbox(db, w.trainer.email)] == [
        "Certification granted: Salle propre"]


# --- moves -------------------------------------------------------------------------


def test_a_move_is_mailed_as_a_move_with_its_old_and_new_times(db, w) -> None:
    start = datetime(2027, 1, 19, 8, tzinfo=UTC)
    booking = create_booking(db, actor=w.trainer, now=NOW, policy=Policy(), notify=False,
                             request=BookingRequest(w.away_machine.id, start,
                                                    start + timedelta(hours=2), "TP"))
    move_booking(db, actor=w.trainer, booking=booking, now=NOW, policy=Policy(),
                 start=start + timedelta(days=1), end=start + timedelta(days=1, hours=2))
    (mail,) = outbox(db)
    assert mail.subject == "Booking moved: TP"
    assert "Tuesday 19 January 2027" in mail.body_text
    assert "Wednesday 20 January 2027" in mail.body_text
    assert mail.ics_method == "REQUEST"


def test_a_move_in_french(db, w) -> None:
    w.trainer.locale = "fr"
    start = datetime(2027, 1, 19, 8, tzinfo=UTC)
    booking = create_booking(db, actor=w.trainer, now=NOW, policy=Policy(), notify=False,
                             request=BookingRequest(w.away_machine.id, start,
                                                    start + timedelta(hours=2), "TP"))
    move_booking(db, actor=w.trainer, booking=booking, now=NOW, policy=Policy(),
                 start=start + timedelta(hours=1), end=start + timedelta(hours=3))
    (mail,) = outbox(db)
    assert mail.subject == "Réservation déplacée\u00a0: TP"
    assert "Confirm" not in mail.subject


def test_moving_three_occurrences_sends_one_mail_listing_them(db, w) -> None:
    start = datetime(2027, 1, 19, 8, tzinfo=UTC)
    result = create_series(db, actor=w.trainer, now=NOW, policy=Policy(), skip_conflicts=False,
                           rule="FREQ=WEEKLY;COUNT=3",
                           request=BookingRequest(w.away_machine.id, start,
                                                  start + timedelta(hours=2), "TP série"))
    forget(db)
    first = result.created[0]
    moved = move_in_scope(db, actor=w.trainer, booking=first, scope="series", now=NOW,
                          policy=Policy(), start=first.start_at + timedelta(hours=1),
                          end=first.end_at + timedelta(hours=1))
    assert len(moved) == 3
    (mail,) = outbox(db)
    assert mail.subject == "Booking moved: TP série (3 sessions)"
    assert mail.body_text.count("→") == 3
    invitations.render(db, mail)  # as the outbox does when it sends
    events = Calendar.from_ical(mail.ics).walk("VEVENT")
    assert len(events) == 3


def test_a_long_series_moved_is_one_mail_too(db, w) -> None:
    start = datetime(2027, 1, 19, 8, tzinfo=UTC)
    result = create_series(db, actor=w.trainer, now=NOW, policy=Policy(), skip_conflicts=False,
                           rule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=40",
                           request=BookingRequest(w.away_machine.id, start,
                                                  start + timedelta(hours=1), "Stage"))
    forget(db)
    first = result.created[0]
    move_in_scope(db, actor=w.trainer, booking=first, scope="series", now=NOW,
                  policy=Policy(), start=first.start_at + timedelta(hours=2),
                  end=first.end_at + timedelta(hours=2))
    (mail,) = outbox(db)
    assert mail.body_text.count("→") == 40
