"""The scheduling gate (issue 15): a project's session is neither booked nor
moved before its training agreement is signed or waived. Refused by the
booking service itself (409 ``agreement_required``, nothing written), so the
pages, the API and the series all meet it; allowed once signed or waived.
Both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from booking.services.agreements import operations as agreements
from booking.services.agreements.gate import AgreementRequired
from booking.services.bookings.operations import BookingRequest, create_booking, move_booking
from booking.services.equipment.documents import Storage
from booking.services.policy import Policy
from models import AuditEntry, Booking, BookingPurpose, Occupancy, OutboxMessage, ProjectStatus
from tests.agreement_campus import NOW, PDF, THURSDAY, build, count, post_form
from tests.api_helpers import Callers, assert_error
from tests.world import logged_in


@pytest.fixture
def c(make, db):
    return build(make, db)


def written(db) -> tuple[int, ...]:
    db.expire_all()
    return tuple(count(db, m) for m in (Booking, Occupancy, AuditEntry, OutboxMessage))


def request(c, start=THURSDAY, hours: int = 2) -> BookingRequest:
    return BookingRequest(c.machine.id, start, start + timedelta(hours=hours), "Séance",
                          BookingPurpose.INDUSTRIAL_PROJECT, project_id=c.project.id)


def book(app, db, c, actor=None, start=THURSDAY) -> Booking:
    with app.app_context():
        return create_booking(db, actor=actor or c.coordinator, now=NOW, policy=Policy(),
                              request=request(c, start))


def sign(app, db, c) -> None:
    with app.app_context():
        agreement = agreements.generate_agreement(db, c.project, actor=c.coordinator, now=NOW)
        agreements.record_signed(
            db, agreement, actor=c.company, now=NOW, scan=agreements.Scan(PDF, "signée.pdf"),
            storage=Storage(Path(app.config["DOCUMENTS_DIR"]), 1024 * 1024))


@pytest.mark.parametrize("who", ["coordinator", "admin", "trainer", "company"])
def test_the_service_refuses_a_session_before_the_agreement(app, db, c, who) -> None:
    before = written(db)
    with pytest.raises(AgreementRequired) as refused:
        book(app, db, c, actor=c.people[who])
    assert (refused.value.code, refused.value.status) == ("agreement_required", 409)
    assert refused.value.details == {"project_id": c.project.id}
    with app.test_request_context():
        message = refused.value.message
    assert "convention de formation doit d’abord être signée" in message
    assert "Émulsions pilotes" in message
    assert written(db) == before
    assert c.project.status is ProjectStatus.APPROVED


def test_a_generated_agreement_is_not_enough(app, db, c) -> None:
    with app.app_context():
        agreements.generate_agreement(db, c.project, actor=c.coordinator, now=NOW)
    with pytest.raises(AgreementRequired):
        book(app, db, c)


def test_allowed_once_signed(app, db, c) -> None:
    sign(app, db, c)
    session = book(app, db, c)
    assert session.project_id == c.project.id
    assert c.project.status is ProjectStatus.SCHEDULED


def test_allowed_once_waived_and_refused_again_once_lifted(app, db, c) -> None:
    with app.app_context():
        agreements.waive_agreement(db, c.project, actor=c.coordinator, now=NOW,
                                   reason="Action interne")
    first = book(app, db, c)
    with app.app_context():
        agreements.lift_waiver(db, c.project, actor=c.coordinator, now=NOW)
    with pytest.raises(AgreementRequired):
        book(app, db, c, start=THURSDAY + timedelta(days=1))
    # Moving the session booked under the waiver is refused too, and changes nothing.
    before = written(db)
    with pytest.raises(AgreementRequired), app.app_context():
        move_booking(db, actor=c.coordinator, booking=first, now=NOW, policy=Policy(),
                     start=THURSDAY + timedelta(hours=3), end=THURSDAY + timedelta(hours=5))
    db.expire_all()
    assert first.start_at == THURSDAY
    assert written(db) == before
    # Renaming it is no scheduling: allowed.
    with app.app_context():
        move_booking(db, actor=c.coordinator, booking=first, now=NOW, policy=Policy(),
                     title="Séance renommée")
    assert first.title == "Séance renommée"


def test_a_session_without_project_is_not_gated(app, db, c) -> None:
    with app.app_context():
        booking = create_booking(db, actor=c.coordinator, now=NOW, policy=Policy(),
                                 request=BookingRequest(c.machine.id, THURSDAY,
                                                        THURSDAY + timedelta(hours=1), "Cours"))
    assert booking.project_id is None


def test_the_api_answers_409_agreement_required(app, db, client, c) -> None:
    callers = Callers(client)
    body = {"equipment_id": c.machine.id, "start": "2027-01-14T10:00:00+01:00",
            "end": "2027-01-14T12:00:00+01:00", "title": "Séance",
            "purpose": "industrial_project", "project_id": c.project.id}
    before = written(db)
    answer = callers(c.coordinator).post("/api/v1/bookings", json=body)
    error = assert_error(answer, 409, "agreement_required")
    assert "convention de formation" in error["message"]
    assert written(db) == before
    sign(app, db, c)
    assert callers(c.coordinator).post("/api/v1/bookings", json=body).status_code == 201


def test_the_booking_page_says_what_to_do(app, db, c) -> None:
    client = logged_in(app, c.coordinator)
    url = f"/bookings/new?equipment={c.machine.id}&project={c.project.id}"
    before = written(db)
    answer = post_form(client, url, "/bookings/new", {
        "equipment": c.machine.id, "day": "2027-01-14", "start": "10:00", "end": "12:00",
        "title": "Séance", "purpose": "industrial_project", "trainer": c.trainer.id,
        "project": c.project.id, "repeat": "none", "submit": "Book"})
    assert answer.status_code == 200
    assert "convention de formation doit d’abord être signée" in answer.get_data(as_text=True)
    assert written(db) == before
    assert db.scalar(select(Booking)) is None
