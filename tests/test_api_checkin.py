"""POST /api/v1/bookings/{id}/check-in and /check-out (API.md), and the
equipment API's check-in settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from booking.timeutil import frozen
from models import AuditEntry, Booking, OutboxMessage, Role
from models.incident import Incident
from tests.api_helpers import Callers, assert_error, count
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2027, 1, 14, 10, tzinfo=PARIS)
END = START + timedelta(hours=2)


@pytest.fixture
def callers(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def c(make: Any, db: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    away = make.establishment(code="IUT", name="IUT de Tours")
    cert = make.certification_type(code="HAB-E", name="Étuve")
    eq = make.equipment(establishment=owner, name="Étuve", check_in_required=True)
    eq.required_certification_types = [cert]
    trainer = make.user(Role.TRAINER, establishment=owner)
    other_trainer = make.user(Role.TRAINER, establishment=owner)
    held = make.certification(trainer, cert)
    make.certification(other_trainer, cert)
    coordinator = make.user(Role.COORDINATOR, establishment=owner, email="coord@example.org")
    with make.app.app_context():
        booking = create_booking(db, actor=coordinator, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(eq.id, START, END, "Séchage",
                                                        trainer_id=trainer.id))
    return SimpleNamespace(
        owner=owner, eq=eq, cert=cert, held=held, trainer=trainer, booking=booking,
        other_trainer=other_trainer, coordinator=coordinator,
        other_coordinator=make.user(Role.COORDINATOR, establishment=away,
                                    email="away@example.org"),
        company=make.user(Role.COMPANY))


def url(c: SimpleNamespace, what: str) -> str:
    return f"/api/v1/bookings/{c.booking.id}/{what}"


def test_check_in_and_out_answer_the_booking(callers, db, c) -> None:
    with frozen(START - timedelta(minutes=10)):
        answer = callers(c.trainer).post(url(c, "check-in"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["id"] == c.booking.id
    assert answer.json["checked_in_at"] == "2027-01-14T09:50:00+01:00"
    assert answer.json["checked_out_at"] is None
    with frozen(END + timedelta(minutes=5)):
        answer = callers(c.trainer).post(url(c, "check-out"), json={})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["checked_out_at"] == "2027-01-14T12:05:00+01:00"
    assert count(db, Incident) == 0
    assert answer.json == callers(c.trainer).get(f"/api/v1/bookings/{c.booking.id}").json


def test_a_coordinator_checks_in_and_reports_an_incident(callers, db, c) -> None:
    with frozen(START):
        assert callers(c.coordinator).post(url(c, "check-in")).status_code == 200
    with frozen(END):
        answer = callers(c.coordinator).post(url(c, "check-out"),
                                             json={"incident": "Ventilateur bruyant"})
    assert answer.status_code == 200
    incident = db.scalars(select(Incident)).one()
    assert (incident.description, incident.reported_by_id) == ("Ventilateur bruyant",
                                                               c.coordinator.id)
    mails = db.scalars(select(OutboxMessage.to_addr).where(
        OutboxMessage.dedupe_key.like("incident:%"))).all()
    assert mails == ["coord@example.org"]
    actions = set(db.scalars(select(AuditEntry.action)))
    assert {"booking.check_in", "booking.check_out", "incident.report"} <= actions


def test_refusals(callers, db, c) -> None:
    with frozen(START):
        assert_error(callers(c.other_trainer).post(url(c, "check-in")), 403, "forbidden")
        assert_error(callers(c.other_coordinator).post(url(c, "check-in")), 403, "forbidden")
        assert_error(callers(c.company).post(url(c, "check-in")), 404, "not_found")
        assert_error(callers(c.trainer).post("/api/v1/bookings/999999/check-in"), 404,
                     "not_found")
        assert_error(callers(c.trainer).post(url(c, "check-out")), 409, "invalid_state")
    with frozen(START - timedelta(minutes=16)):
        early = assert_error(callers(c.trainer).post(url(c, "check-in")), 409,
                             "check_in_not_open")
    assert early["details"]["opens_at"] == "2027-01-14T09:45:00+01:00"
    with frozen(START + timedelta(minutes=16)):
        late = assert_error(callers(c.trainer).post(url(c, "check-in")), 409, "check_in_closed")
    assert late["details"]["closed_at"] == "2027-01-14T10:15:00+01:00"
    assert db.scalar(select(Booking.checked_in_at).where(Booking.id == c.booking.id)) is None
    with frozen(START):
        assert callers(c.trainer).post(url(c, "check-in")).status_code == 200
        assert_error(callers(c.trainer).post(url(c, "check-in")), 409, "invalid_state")


def test_an_expired_certification_is_refused(callers, db, c) -> None:
    c.held.valid_until = START.date() - timedelta(days=1)
    db.flush()
    with frozen(START):
        refused = assert_error(callers(c.trainer).post(url(c, "check-in")), 403,
                               "certification_required")
    assert [m["code"] for m in refused["details"]["missing"]] == ["HAB-E"]


def test_a_booking_not_confirmed_is_refused(callers, db, c) -> None:
    c.booking.status = c.booking.status.__class__("pending")
    db.flush()
    with frozen(START):
        refused = assert_error(callers(c.trainer).post(url(c, "check-in")), 409,
                               "invalid_state")
    assert refused["details"]["status"] == "pending"


@pytest.mark.parametrize("body", [
    {"incident": "x" * 2001}, {"incident": 42}, {"incident": ["a"]}, {"incident": "a\x00b"},
    {"other": "x"},
])
def test_bad_check_out_bodies_are_422(callers, db, c, body) -> None:
    with frozen(START):
        assert callers(c.trainer).post(url(c, "check-in")).status_code == 200
        assert_error(callers(c.trainer).post(url(c, "check-out"), json=body), 422, "validation")
    assert db.scalar(select(Booking.checked_out_at).where(Booking.id == c.booking.id)) is None
    assert count(db, Incident) == 0


# --- the equipment API's check-in settings ----------------------------------------------


def test_equipment_check_in_settings_are_read_and_written(callers, db, c) -> None:
    path = f"/api/v1/equipment/{c.eq.id}"
    shown = callers(c.trainer).get(path).json
    assert (shown["check_in_required"], shown["check_in_grace_minutes"]) == (True, 15)
    answer = callers(c.coordinator).patch(path, json={"check_in_required": False,
                                                      "check_in_grace_minutes": 30})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.json["check_in_required"], answer.json["check_in_grace_minutes"]) == (
        False, 30)
    for wrong in (-1, 241, "quinze", None, [15]):
        assert_error(callers(c.coordinator).patch(path, json={"check_in_grace_minutes": wrong}),
                     422, "validation")
    assert_error(callers(c.coordinator).patch(path, json={"check_in_required": "maybe"}),
                 422, "validation")
    db.expire_all()
    assert (c.eq.check_in_required, c.eq.check_in_grace_minutes) == (False, 30)


def test_a_new_machine_takes_the_defaults(callers, db, c) -> None:
    answer = callers(c.coordinator).post("/api/v1/equipment", json={
        "code": "NEW-1", "name": "Neuve", "category": "other", "establishment_id": c.owner.id})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert (answer.json["check_in_required"], answer.json["check_in_grace_minutes"]) == (
        False, 15)
