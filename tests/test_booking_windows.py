"""Issue 13: a machine's booking windows (minimum notice, furthest ahead, the
owner's priority window, the cancellation deadline) and re-approval only when
a change leaves what was approved. NOW is Tue 12 Jan 2027 09:00 Paris."""

from __future__ import annotations

import pytest

from models import AuditEntry, Role
from tests.api_helpers import Callers, Campus, assert_error, body, book, rows, span


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


def test_minimum_notice(as_, campus, make, db) -> None:
    eq = make.equipment(establishment=campus.home, notice_minutes=48 * 60)
    before = rows(db)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=body(eq, day="01-13"))
    error = assert_error(answer, 422, "notice")
    assert error["details"] == {"notice_minutes": 2880, "earliest": "2027-01-14T09:00:00+01:00"}
    assert "48" in error["message"]
    assert rows(db) == before
    assert book(as_(campus["trainer"]), eq, day="01-14", start="09:00", end="10:00")
    # The owner's coordinator plans the machine: no window holds them.
    assert book(as_(campus["coordinator"]), eq, day="01-13")["status"] == "confirmed"


def test_furthest_ahead(as_, campus, make) -> None:
    eq = make.equipment(establishment=campus.home, max_advance_days=30)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=body(eq, day="03-02"))
    assert assert_error(answer, 422, "horizon")["details"] == {"horizon_days": 30}
    assert book(as_(campus["trainer"]), eq, day="02-09")
    assert book(as_(campus["coordinator"]), eq, day="03-02")


def test_the_owners_priority_window(as_, campus, make, db) -> None:
    """Open to other establishments 14 days ahead: their trainer waits until
    midnight 14 days before the slot's day; the owner's people do not."""
    eq = make.equipment(establishment=campus.home, others_open_days=14)
    visitor = make.user(Role.TRAINER, establishment=campus.away)
    before = rows(db)
    answer = as_(visitor).post("/api/v1/bookings", json=body(eq, day="02-02"))
    error = assert_error(answer, 422, "not_open_yet")
    assert error["details"] == {"opens_at": "2027-01-19T00:00:00+01:00", "others_open_days": 14}
    assert rows(db) == before
    answer = as_(campus["company"]).post("/api/v1/bookings", json=body(
        eq, day="02-02", project_id=campus.project.id))
    assert_error(answer, 422, "not_open_yet")
    assert book(as_(visitor), eq, day="01-26")["status"] == "pending"
    assert book(as_(campus["trainer"]), eq, day="02-02")["status"] == "confirmed"
    assert book(as_(campus["admin"]), eq, day="02-03")


def test_the_cancellation_deadline(as_, campus, make, db) -> None:
    eq = make.equipment(establishment=campus.home, cancel_deadline_hours=48)
    trainer = as_(campus["trainer"])
    soon = book(trainer, eq, day="01-13")
    later = book(trainer, eq, day="01-15")
    before = rows(db)
    answer = trainer.post(f"/api/v1/bookings/{soon['id']}/cancel", json={"reason": "Grève"})
    error = assert_error(answer, 409, "too_late")
    assert error["details"] == {"deadline": "2027-01-11T09:00:00+01:00",
                                "cancel_deadline_hours": 48}
    assert rows(db) == before
    answer = trainer.post(f"/api/v1/bookings/{later['id']}/cancel", json={"reason": "Grève"})
    assert (answer.status_code, answer.json["cancelled_late"]) == (200, False)
    answer = as_(campus["coordinator"]).post(f"/api/v1/bookings/{soon['id']}/cancel",
                                             json={"reason": "Grève"})
    assert (answer.status_code, answer.json["cancelled_late"]) == (200, True)
    entry = db.query(AuditEntry).filter_by(action="booking.cancel", object_id=soon["id"]).one()
    assert entry.details["late"] is True


def test_a_change_inside_what_was_approved_keeps_its_approval(as_, campus, make) -> None:
    eq = make.equipment(establishment=campus.home, requires_approval=True)
    trainer = as_(campus["trainer"])
    booking = book(trainer, eq, start="09:00", end="12:00")
    assert booking["status"] == "pending"
    approved = as_(campus["coordinator"]).post(f"/api/v1/bookings/{booking['id']}/approve",
                                               json={})
    assert approved.json["status"] == "confirmed"
    path = f"/api/v1/bookings/{booking['id']}"
    shorter = trainer.patch(path, json=span("01-13", "10:00", "11:00"))
    assert shorter.json["status"] == "confirmed"
    retitled = trainer.patch(path, json={"title": "Émulsion — groupe B"})
    assert retitled.json["status"] == "confirmed"
    longer = trainer.patch(path, json=span("01-13", "10:00", "12:30"))
    assert longer.json["status"] == "pending"
