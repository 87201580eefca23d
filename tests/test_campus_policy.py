"""The campus's constants and the clock: no model reads the clock on update, so each
service records the ``now`` it was given in ``updated_at``; the certification watch
looks as far ahead as the booking horizon of the app's Policy."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.agreements.operations import waive_agreement
from booking.services.bookings.occupancy import occupancy_rows
from booking.services.bookings.operations import BookingRequest, create_booking, move_booking
from booking.services.certifications.watch import flag_uncertified_bookings
from booking.services.equipment.hours import wall_clock
from booking.services.equipment.operations import update_equipment
from booking.services.policy import Policy
from booking.services.projects.operations import approve_project
from booking.timeutil import utc_now
from models import (
    Base,
    Booking,
    BookingPurpose,
    BookingStatus,
    Equipment,
    Project,
    ProjectStatus,
    Role,
)
from scheduler.jobs import job_by_id, run_job
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
BEFORE = NOW - timedelta(days=3)  # when the rows were last changed
WED = date(2027, 1, 13)  # the day after NOW


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def paris(hour: int, day: date = WED) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def test_no_column_reads_the_clock_on_update() -> None:
    with_onupdate = [f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables
                     for column in table.columns
                     if column.onupdate is not None or column.server_onupdate is not None]
    assert with_onupdate == []


@pytest.mark.usefixtures("now")
def test_services_set_updated_at_from_their_now(db, make) -> None:
    """Under the frozen clock of the edges, each service call stamps its own ``now``:
    neither the frozen clock nor the wall clock."""
    assert utc_now() == NOW
    site = make.establishment()
    coordinator = make.user(Role.COORDINATOR, establishment=site)
    trainer = make.user(Role.TRAINER, establishment=site)
    company = make.user(Role.COMPANY)
    machine = make.equipment(establishment=site, created_at=BEFORE, updated_at=BEFORE)
    project = Project(company_id=company.company_id, requested_by_id=company.id, title="Lot",
                      learners=4, wanted_from=WED, wanted_to=WED + timedelta(days=30),
                      status=ProjectStatus.REQUESTED, created_at=BEFORE, updated_at=BEFORE)
    db.add(project)
    db.flush()
    policy = Policy()

    # Equipment: changed through its service.
    renamed = NOW + timedelta(minutes=7)
    update_equipment(db, actor=coordinator, equipment=machine, data={"name": "Étuve 2"},
                     now=renamed)

    # A project: approved, then scheduled by its first session (the booking service).
    approved = NOW + timedelta(minutes=11)
    approve_project(db, project, actor=coordinator, now=approved, trainer_id=trainer.id)
    assert project.updated_at == approved
    waive_agreement(db, project, actor=coordinator, now=approved, reason="Action interne")
    scheduled = NOW + timedelta(minutes=13)
    session = create_booking(db, actor=coordinator, now=scheduled, policy=policy,
                             request=BookingRequest(machine.id, paris(9), paris(11), "Séance",
                                                    project_id=project.id))
    assert project.status is ProjectStatus.SCHEDULED

    # A booking: made, then moved.
    booked = NOW + timedelta(minutes=17)
    booking = create_booking(db, actor=trainer, now=booked, policy=policy,
                             request=BookingRequest(machine.id, paris(14), paris(16), "TP"))
    assert booking.updated_at == booked
    moved = NOW + timedelta(minutes=19)
    move_booking(db, actor=trainer, booking=booking, now=moved, policy=policy,
                 start=paris(15), end=paris(17))

    db.expire_all()  # what the database holds
    assert db.get(Equipment, machine.id).updated_at == renamed
    assert db.get(Project, project.id).updated_at == scheduled
    assert db.get(Booking, session.id).updated_at == scheduled
    assert db.get(Booking, booking.id).updated_at == moved


def _uncertified(make) -> tuple[Any, Booking, Booking]:
    """A trainer whose certification ends before two of their bookings: one 20 days
    ahead, one 50 days ahead."""
    site = make.establishment()
    make.user(Role.COORDINATOR, establishment=site)
    trainer = make.user(Role.TRAINER, establishment=site)
    ctype = make.certification_type()
    make.certification(trainer, ctype, valid_from=date(2026, 1, 1), valid_until=NOW.date())
    machine = make.equipment(establishment=site, required_certification_types=[ctype])
    bookings = []
    for n, days in enumerate((20, 50)):
        start = wall_clock(NOW.date() + timedelta(days=days), time(9), PARIS)
        booking = Booking(uid=f"horizon-{n}@t", equipment=machine, start_at=start,
                          end_at=start + timedelta(hours=2), title="TP",
                          status=BookingStatus.CONFIRMED, purpose=BookingPurpose.TRAINING,
                          booked_by=trainer, trainer=trainer)
        booking.occupancies = occupancy_rows(booking, machine)
        make.session.add(booking)
        bookings.append(booking)
    make.session.flush()
    return trainer, bookings[0], bookings[1]


def test_the_certification_watch_looks_as_far_as_the_policy_horizon(db, make) -> None:
    _, near, far = _uncertified(make)
    assert flag_uncertified_bookings(db, now=NOW, policy=Policy(horizon_days=30)) == (1, 0)
    assert (near.certification_flag, far.certification_flag) == (True, False)
    assert flag_uncertified_bookings(db, now=NOW, policy=Policy(horizon_days=60)) == (1, 0)
    assert far.certification_flag is True


@pytest.mark.usefixtures("now")
@pytest.mark.parametrize(("days", "flagged"), [(30, 1), (60, 2)])
def test_the_certification_job_reads_the_horizon_from_the_config(
        app, db, make, monkeypatch, days: int, flagged: int) -> None:
    _uncertified(make)
    db.commit()
    monkeypatch.setitem(app.config, "BOOKING_HORIZON_DAYS", days)
    run = run_job(app, job_by_id("certification_expiry"), holder=None)
    assert run.error is None, run.error
    assert f"{flagged} booking(s) flagged" in run.summary
    db.expire_all()
    assert len(db.scalars(select(Booking).where(Booking.certification_flag.is_(True))).all()) \
        == flagged

