"""Issue 13: the trainer is a resource. A trainer's bookings may not meet,
travel time between two establishments included, unless they are one group;
the database refuses what the service's check would miss. NOW is Tue 12 Jan
2027 09:00 Paris."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from models import Booking, BookingPurpose, BookingStatus, CampusSetting, TravelTime
from tests.api_helpers import Callers, Campus, assert_error, body, book, rows, span


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


@pytest.fixture
def cell(make, campus):
    return make.equipment(code="CELL-1", establishment=campus.home)


@pytest.fixture
def other_cell(make, campus):
    return make.equipment(code="CELL-2", establishment=campus.home)


@pytest.fixture
def away_cell(make, campus):  # another establishment: travel time applies
    return make.equipment(code="AWAY-1", establishment=campus.away)


def test_a_trainer_booked_elsewhere_is_busy(as_, campus, cell, other_cell, db) -> None:
    trainer = as_(campus["trainer"])
    first = book(trainer, cell, start="09:00", end="11:00")
    before = rows(db)
    for start, end in (("09:00", "11:00"), ("10:30", "12:00"), ("08:00", "09:30")):
        answer = trainer.post("/api/v1/bookings", json=body(other_cell, start=start, end=end))
        error = assert_error(answer, 409, "trainer_busy")
        assert [c["booking_id"] for c in error["details"]["conflicts"]] == [first["id"]]
        assert error["details"]["conflicts"][0]["title"] == "Émulsion"
    assert rows(db) == before
    # Touching is not meeting, within one establishment.
    assert book(trainer, other_cell, start="11:00", end="12:00")["status"] == "confirmed"
    assert book(trainer, other_cell, start="08:00", end="09:00")["status"] == "confirmed"


def test_the_refusal_names_the_booking_without_showing_what_the_reader_may_not_see(
        as_, campus, cell, other_cell, make) -> None:
    """A coordinator books the project's trainer; the trainer's own booking's
    title shows to the coordinator; a company booking its project's session
    learns the time, not the title of another's booking."""
    book(as_(campus["trainer"]), cell, start="09:00", end="11:00", title="Privé")
    answer = as_(campus["company"]).post("/api/v1/bookings", json=body(
        other_cell, start="10:00", end="11:00", project_id=campus.project.id))
    conflict = assert_error(answer, 409, "trainer_busy")["details"]["conflicts"][0]
    assert "title" not in conflict
    assert "Privé" not in answer.json["message"]
    answer = as_(campus["coordinator"]).post("/api/v1/bookings", json=body(
        other_cell, start="10:00", end="11:00", trainer_id=campus["trainer"].id))
    assert assert_error(answer, 409, "trainer_busy")["details"]["conflicts"][0]["title"] \
        == "Privé"


def test_travel_time_between_establishments(as_, campus, cell, away_cell, db) -> None:
    """60 minutes by default between two establishments; none within one; the
    table's value for the pair wins, in either order."""
    trainer = as_(campus["trainer"])
    book(trainer, cell, start="09:00", end="10:00")
    answer = trainer.post("/api/v1/bookings", json=body(away_cell, start="10:30", end="11:30"))
    error = assert_error(answer, 409, "trainer_busy")
    assert error["details"]["conflicts"][0]["travel_minutes"] == 60
    assert "60" in error["message"]
    # Pending (outside the trainer's establishment), but accepted: it holds the trainer.
    assert book(trainer, away_cell, start="11:00", end="12:00")["status"] == "pending"
    # Before, too: 16:00 at home needs leaving the other site by 15:00.
    book(trainer, cell, start="16:00", end="17:00")
    assert_error(trainer.post("/api/v1/bookings", json=body(away_cell, start="14:00",
                                                            end="15:30")), 409, "trainer_busy")
    a, b = sorted((campus.home.id, campus.away.id))
    db.add(TravelTime(establishment_a_id=a, establishment_b_id=b, minutes=20))
    db.flush()
    assert book(trainer, away_cell, start="14:00", end="15:30")["trainer_id"] \
        == campus["trainer"].id
    db.execute(update(CampusSetting).values(travel_minutes=0))
    db.delete(db.query(TravelTime).one())
    db.flush()
    assert book(trainer, away_cell, day="01-14", start="09:00", end="10:00")["status"] \
        == "pending"
    assert book(trainer, cell, day="01-14", start="10:00", end="11:00")["status"] \
        == "confirmed"


def test_bookings_without_a_trainer_hold_nobody(as_, campus, cell, other_cell, make) -> None:
    """A coordinator's maintenance without a trainer: two at once are fine."""
    coordinator = as_(campus["coordinator"])
    for machine in (cell, other_cell):
        answer = coordinator.post("/api/v1/bookings", json=body(
            machine, purpose="maintenance", title="Maintenance"))
        assert answer.status_code == 201, answer.json
        assert answer.json["trainer_id"] is None


def test_a_series_skips_or_refuses_the_trainers_busy_days(as_, campus, cell, other_cell) -> None:
    trainer = as_(campus["trainer"])
    busy = book(trainer, cell, day="01-20", start="09:00", end="10:00")
    weekly = {"rrule": "FREQ=WEEKLY;COUNT=3"}
    answer = trainer.post("/api/v1/bookings", json=body(other_cell, recurrence=weekly))
    refused = assert_error(answer, 409, "trainer_busy")
    assert [o["error"] for o in refused["details"]["occurrences"]] == ["trainer_busy"]
    answer = trainer.post("/api/v1/bookings", json=body(
        other_cell, recurrence={**weekly, "skip_conflicts": True}))
    assert answer.status_code == 201, answer.json
    assert [s["error"] for s in answer.json["skipped"]] == ["trainer_busy"]
    assert len(answer.json["created"]) == 2
    assert busy["id"] not in [b["id"] for b in answer.json["created"]]


def test_a_move_and_a_coordinators_override_meet_the_guard(as_, campus, cell, other_cell,
                                                           make) -> None:
    trainer = as_(campus["trainer"])
    book(trainer, cell, start="09:00", end="10:00")
    later = book(trainer, other_cell, start="11:00", end="12:00")
    answer = trainer.patch(f"/api/v1/bookings/{later['id']}",
                           json=span("01-13", "09:30", "10:30"))
    assert_error(answer, 409, "trainer_busy")
    # A machine needing a certification the trainer lacks: the coordinator's
    # override passes the certification, never the trainer's time.
    ctype = make.certification_type()
    guarded = make.equipment(establishment=campus.home, required_certification_types=[ctype])
    answer = as_(campus["coordinator"]).post("/api/v1/bookings", json=body(
        guarded, start="09:00", end="10:00", trainer_id=campus["trainer"].id,
        override_reason="Formation en binôme"))
    assert_error(answer, 409, "trainer_busy")


def test_the_database_refuses_what_the_service_would(db, campus, cell, other_cell) -> None:
    """Rows written around the service: the trigger (and on PostgreSQL the
    exclusion constraint) refuses the second; one group shares its trainer."""
    def row(machine, n, start_hour, end_hour, **kw) -> Booking:
        kw.setdefault("status", BookingStatus.CONFIRMED)
        return Booking(uid=f"guard-{n}@test", equipment=machine,
                       start_at=datetime(2027, 1, 13, start_hour, tzinfo=UTC),
                       end_at=datetime(2027, 1, 13, end_hour, tzinfo=UTC), title="Rang",
                       purpose=BookingPurpose.TRAINING,
                       booked_by=campus["trainer"], trainer=campus["trainer"], **kw)

    def write(change) -> None:
        with db.begin_nested():
            change()
            db.flush()

    def refused() -> pytest.RaisesExc:
        return pytest.raises(IntegrityError, match="xcl_booking_trainer_busy")

    write(lambda: db.add(row(cell, 1, 8, 10)))
    with refused():
        write(lambda: db.add(row(other_cell, 2, 9, 11)))
    with refused():
        write(lambda: db.add(row(other_cell, 4, 9, 10, status=BookingStatus.PENDING)))
    db.add(row(other_cell, 5, 9, 11, status=BookingStatus.CANCELLED, cancelled_at=datetime(
        2027, 1, 12, tzinfo=UTC)))
    db.add(row(cell, 6, 10, 12, group_id="g-1"))
    db.add(row(other_cell, 7, 10, 12, group_id="g-1"))
    db.flush()
    # A booking moved onto another is refused too.
    moved = row(other_cell, 8, 14, 15)
    db.add(moved)
    db.flush()
    with refused():
        write(lambda: setattr(moved, "start_at", datetime(2027, 1, 13, 11, tzinfo=UTC)))
