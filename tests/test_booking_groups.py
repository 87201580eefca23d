"""Issue 13: one session over several machines (`equipment_ids`): one booking
per machine, all or nothing, one `group_id`; moved and cancelled together or
one by one. NOW is Tue 12 Jan 2027 09:00 Paris."""

from __future__ import annotations

import pytest

from models import AuditEntry, OutboxMessage
from tests.api_helpers import Callers, Campus, assert_error, book, rows, span


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


@pytest.fixture
def cells(make, campus):
    return [make.equipment(code=f"CELL-{n}", establishment=campus.home) for n in (1, 2, 3)]


def group_body(machines, day="01-13", start="09:00", end="11:00", **extra):
    return {"equipment_ids": [m.id for m in machines], **span(day, start, end),
            "title": "Cobotique — BTS", **extra}


def test_one_request_books_every_machine_with_one_trainer(as_, campus, cells, db,
                                                          make) -> None:
    before = rows(db)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=group_body(cells))
    assert answer.status_code == 201, answer.json
    created, group_id = answer.json["created"], answer.json["group_id"]
    assert [b["equipment_id"] for b in created] == [c.id for c in cells]
    assert {b["group_id"] for b in created} == {group_id}
    assert {b["trainer_id"] for b in created} == {campus["trainer"].id}
    assert [b - a for a, b in zip(before, rows(db), strict=True)][:2] == [3, 3]
    # The group holds its trainer: a fourth machine at the same time is refused,
    # the hour after is free.
    fourth = make.equipment(establishment=campus.home)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json={
        "equipment_id": fourth.id, **span("01-13", "10:00", "11:00"), "title": "En plus"})
    assert {c["booking_id"] for c in assert_error(answer, 409, "trainer_busy")["details"][
        "conflicts"]} <= {b["id"] for b in created}
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json={
        "equipment_id": fourth.id, **span("01-13", "11:00", "12:00"), "title": "Suite"})
    assert answer.status_code == 201, answer.json
    # One mail for the session, not one per machine.
    mails = db.query(OutboxMessage).filter(OutboxMessage.dedupe_key.like(f"group:{group_id}%"))
    assert mails.count() == 1


def test_all_or_nothing_naming_the_machine_that_refused(as_, campus, cells, db) -> None:
    book(as_(campus["other_trainer"]), cells[1], start="10:00", end="11:00")
    before = rows(db)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=group_body(cells))
    error = assert_error(answer, 409, "conflict")
    assert error["details"]["equipment_id"] == cells[1].id
    assert rows(db) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"equipment_ids": []}, "equipment_ids"),
    ({"equipment_ids": [1]}, "equipment_ids"),
    ({"equipment_id": 1}, "equipment_id"),
    ({"recurrence": {"rrule": "FREQ=WEEKLY;COUNT=2"}}, "recurrence"),
])
def test_malformed_groups_are_422(as_, campus, cells, db, change, field) -> None:
    before = rows(db)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json={**group_body(cells),
                                                                   **change})
    assert_error(answer, 422, "validation")
    assert field in str(answer.json["details"])
    assert rows(db) == before


def test_a_group_is_of_one_establishment(as_, campus, cells, make, db) -> None:
    away = make.equipment(establishment=campus.away)
    before = rows(db)
    answer = as_(campus["coordinator"]).post("/api/v1/bookings",
                                             json=group_body([cells[0], away]))
    assert_error(answer, 422, "validation")
    assert rows(db) == before
    # The same machine twice is one machine: fewer than two is refused.
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=group_body([cells[0]] * 2))
    assert_error(answer, 422, "validation")


def test_moved_and_cancelled_together_or_one_by_one(as_, campus, cells, db) -> None:
    trainer = as_(campus["trainer"])
    created = trainer.post("/api/v1/bookings", json=group_body(cells)).json["created"]
    first, second, third = (b["id"] for b in created)
    moved = trainer.patch(f"/api/v1/bookings/{first}",
                          json={**span("01-13", "14:00", "16:00"), "scope": "group"})
    assert moved.status_code == 200, moved.json
    for booking_id in (first, second, third):
        assert trainer.get(f"/api/v1/bookings/{booking_id}").json["start"] == \
            span("01-13", "14:00", "16:00")["start"]
    # One by one: the third alone is shortened; the others stay.
    one = trainer.patch(f"/api/v1/bookings/{third}", json=span("01-13", "14:00", "15:00"))
    assert one.json["end"] == span("01-13", "14:00", "15:00")["end"]
    assert trainer.post(f"/api/v1/bookings/{second}/cancel",
                        json={"reason": "Panne", "scope": "occurrence"}).status_code == 200
    assert trainer.get(f"/api/v1/bookings/{first}").json["status"] == "confirmed"
    assert trainer.post(f"/api/v1/bookings/{first}/cancel",
                        json={"reason": "Annulé", "scope": "group"}).status_code == 200
    assert {trainer.get(f"/api/v1/bookings/{b}").json["status"]
            for b in (first, second, third)} == {"cancelled"}
    assert db.query(AuditEntry).filter_by(action="group.create").count() == 1
