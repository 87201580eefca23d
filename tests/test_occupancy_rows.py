"""The occupancy rows a booking writes, as docs/data-model.md describes them:
a line and each of its components for a line; the component alone for a
component; each row from the start to the end plus the booked machine's
changeover."""

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

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import Conflict
from booking.services.policy import Policy
from models import Booking, Occupancy, Role
from models.enums import EquipmentCategory
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
NINE = datetime(2027, 1, 13, 9, tzinfo=PARIS)  # the day after NOW
TEN = NINE + timedelta(hours=1)


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


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
    return SimpleNamespace(
        # One trainer per machine: these bookings meet in time, and one trainer
        # is never in two places (the trainer guard, issue 13).
        trainer_of=_trainers(make, est), line=line,
        parts=[make.equipment(establishment=est, parent=line, changeover_minutes=15)
               for _ in range(2)],
        lone=make.equipment(establishment=est, changeover_minutes=0))


def book(db: Session, site: SimpleNamespace, equipment: Any) -> Booking:
    request = BookingRequest(equipment.id, NINE, TEN, title="Séance")
    return create_booking(db, actor=site.trainer_of(equipment), request=request, now=NOW,
                          policy=Policy())


def rows(db: Session, booking: Booking) -> list[tuple[int, datetime, datetime]]:
    return [(o.equipment_id, o.starts_at, o.ends_at) for o in db.scalars(
        select(Occupancy).where(Occupancy.booking_id == booking.id)
        .order_by(Occupancy.equipment_id))]


def test_a_line_booking_holds_the_line_and_each_component(db, site) -> None:
    held = book(db, site, site.line)
    until = TEN + timedelta(minutes=30)  # the line's changeover, on every row
    assert rows(db, held) == [(m.id, NINE, until) for m in sorted(
        [site.line, *site.parts], key=lambda m: m.id)]


def test_a_component_booking_holds_that_component_only(db, site) -> None:
    first, second = site.parts
    held = book(db, site, first)
    assert rows(db, held) == [(first.id, NINE, TEN + timedelta(minutes=15))]
    # Its sibling stays free; the line does not, through the component's row.
    assert rows(db, book(db, site, second)) == [(second.id, NINE,
                                                 TEN + timedelta(minutes=15))]
    with pytest.raises(Conflict):
        book(db, site, site.line)


def test_a_machine_without_components_holds_itself(db, site) -> None:
    assert rows(db, book(db, site, site.lone)) == [(site.lone.id, NINE, TEN)]
