"""The demo campus loads once, changes nothing when loaded again, lays out the same
campus for the same ``now``, and keeps within a policy's horizon. Each test loads it
itself, on conftest's empty database; what the loaded campus holds is tested in
test_demo.py, on one load shared by its tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.demo.campus import BOOKINGS, PAST, load_demo_campus
from booking.services.policy import Policy
from models import Base, Booking
from tests.conftest import NOW
from tests.shared_demo import NOWS


@pytest.fixture(autouse=True)
def _app_context(app):
    """Accounts are hashed with the app's configured cost."""
    with app.app_context():
        yield


def _counts(db: Session) -> dict[str, int]:
    return {t.name: db.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables}


def _layout(db: Session) -> list[tuple]:
    return sorted((b.uid, b.equipment.code, b.start_at, b.end_at, b.status.value,
                   b.booked_by.email, b.trainer.email, b.decision_deadline)
                  for b in db.scalars(select(Booking)))


def test_second_load_creates_nothing(db: Session) -> None:
    created = load_demo_campus(db, now=NOW)
    assert created["establishments"] == 6
    assert created["users"] == 13
    assert 20 + len(PAST) + 1 <= created["bookings"] <= 50
    assert created["occupancies"] > created["bookings"]  # the line holds its components
    before = _counts(db)

    for later in (NOW, NOW + timedelta(days=10)):
        again = load_demo_campus(db, now=later)
        assert set(again.values()) == {0}, again
    assert _counts(db) == before


def test_refuses_a_naive_now(db: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        load_demo_campus(db, now=NOW.replace(tzinfo=None))


def test_the_same_now_lays_out_the_same_campus(db: Session) -> None:
    now = NOWS[3]
    first_load = db.begin_nested()
    load_demo_campus(db, now=now)
    first = _layout(db)
    first_load.rollback()
    assert db.scalar(select(func.count()).select_from(Booking)) == 0

    load_demo_campus(db, now=now)
    assert _layout(db) == first
    # none left out: the table's, last week's, the freed slot of the waiting list and
    # the two days of the company project carried through every step (issue 15)
    assert len(first) == sum(len(row[2]) for row in BOOKINGS) + len(PAST) + 1 + 2


def test_bookings_stay_within_the_policy_horizon(db: Session) -> None:
    horizon = Policy(horizon_days=20)
    created = load_demo_campus(db, now=NOW, policy=horizon)
    starts = list(db.scalars(select(Booking.start_at)))
    assert starts
    assert max(starts) <= NOW + timedelta(days=20)
    assert created["bookings"] == len(starts) < sum(len(row[2]) for row in BOOKINGS)
