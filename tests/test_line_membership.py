"""A machine joining or leaving a pilot line keeps the occupancy rows true
(issue 10, integrity): joining adds a row on the machine for each booking of the
line that still holds it, and is refused (409 conflict, naming the bookings) when
the machine's own holds meet the line's, changeover included; leaving (or moving
to another line) is refused while bookings of the line hold the machine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.equipment.operations import update_equipment
from booking.services.errors import Conflict
from booking.services.policy import Policy
from models import Booking, Equipment, Occupancy, Role
from models.enums import EquipmentCategory
from tests.api_helpers import Caller, assert_error
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
NINE = datetime(2027, 1, 13, 9, tzinfo=PARIS)  # the day after NOW
HOUR = timedelta(hours=1)


def _trainers(make: Any, establishment: Any) -> Any:
    by_machine: dict[int, Any] = {}

    def trainer_of(machine: Any) -> Any:
        if machine.id not in by_machine:
            by_machine[machine.id] = make.user(Role.TRAINER, establishment=establishment)
        return by_machine[machine.id]

    return trainer_of


@pytest.fixture
def site(make: Any) -> SimpleNamespace:
    est = make.establishment()
    line = make.equipment(establishment=est, category=EquipmentCategory.PILOT_LINE,
                          changeover_minutes=30)
    other_line = make.equipment(establishment=est, category=EquipmentCategory.PILOT_LINE)
    return SimpleNamespace(
        # One trainer per machine: these bookings meet in time, and one trainer
        # is never in two places (the trainer guard, issue 13).
        trainer_of=_trainers(make, est),
        admin=make.user(Role.ADMIN), line=line, other_line=other_line,
        part=make.equipment(establishment=est, parent=line),
        lone=make.equipment(establishment=est))


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def book(db: Session, site: SimpleNamespace, equipment: Equipment, start: datetime,
         hours: int = 1) -> Booking:
    request = BookingRequest(equipment.id, start, start + hours * HOUR, title="Séance")
    return create_booking(db, actor=site.trainer_of(equipment), request=request, now=NOW,
                          policy=Policy())


def set_line(db: Session, site: SimpleNamespace, machine: Equipment, line: Equipment | None
             ) -> Equipment:
    return update_equipment(db, actor=site.admin, equipment=machine, now=NOW,
                            data={"parent_id": line.id if line else None})


def rows_on(db: Session, machine: Equipment) -> list[tuple[int, datetime, datetime]]:
    return [(o.booking_id, o.starts_at, o.ends_at) for o in db.scalars(
        select(Occupancy).where(Occupancy.equipment_id == machine.id)
        .order_by(Occupancy.starts_at))]


@pytest.mark.usefixtures("ctx")
def test_a_machine_held_when_the_line_is_cannot_join_it(db, site) -> None:
    """The line's booking holds it until 10:30 (its changeover): the machine's
    booking from 10:00 meets it."""
    line_booking = book(db, site, site.line, NINE)
    own = book(db, site, site.lone, NINE + HOUR)
    before = rows_on(db, site.lone)
    with pytest.raises(Conflict) as caught:
        set_line(db, site, site.lone, site.line)
    error = caught.value
    assert error.details["field"] == "parent_id"
    assert [(c["booking_id"], c["line_booking_id"]) for c in error.details["conflicts"]] == [
        (own.id, line_booking.id)]
    assert (error.params["booking"], error.params["line_booking"]) == (own.id, line_booking.id)
    db.expire_all()
    assert (site.lone.parent_id, rows_on(db, site.lone)) == (None, before)


@pytest.mark.usefixtures("ctx")
def test_a_machine_joining_a_line_is_held_by_the_line_bookings(db, site) -> None:
    line_booking = book(db, site, site.line, NINE)
    own = book(db, site, site.lone, NINE + 2 * HOUR)
    set_line(db, site, site.lone, site.line)
    until = NINE + HOUR + timedelta(minutes=30)
    assert rows_on(db, site.lone) == [(line_booking.id, NINE, until),
                                      (own.id, NINE + 2 * HOUR, NINE + 3 * HOUR)]
    with pytest.raises(Conflict):  # the machine is now busy while the line is
        book(db, site, site.lone, NINE + HOUR)


@pytest.mark.parametrize("leaves_for", ["no line", "another line"])
@pytest.mark.usefixtures("ctx")
def test_a_component_held_by_its_line_cannot_leave_it(db, site, leaves_for) -> None:
    target = None if leaves_for == "no line" else site.other_line
    line_booking = book(db, site, site.line, NINE)
    with pytest.raises(Conflict) as caught:
        set_line(db, site, site.part, target)
    assert [c["booking_id"] for c in caught.value.details["conflicts"]] == [line_booking.id]
    assert caught.value.details["field"] == "parent_id"
    db.expire_all()
    assert site.part.parent_id == site.line.id
    cancel_booking(db, actor=line_booking.booked_by, booking=line_booking, now=NOW, reason=None)
    assert set_line(db, site, site.part, target).parent_id == (target.id if target else None)


def test_the_probe_patch_is_refused_by_the_api(client, db, site) -> None:
    with client.application.app_context():
        book(db, site, site.line, NINE)
        book(db, site, site.lone, NINE)
    answer = Caller(client, site.admin).patch(f"/api/v1/equipment/{site.lone.id}",
                                              json={"parent_id": site.line.id})
    body = assert_error(answer, 409, "conflict")
    assert len(body["details"]["conflicts"]) == 1
    db.expire_all()
    assert site.lone.parent_id is None
