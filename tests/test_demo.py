"""The demo campus loads once, changes nothing when loaded again, lays out the same
campus for the same ``now``, and every booking it makes passes the booking rules
(opening hours, holidays, closures, certifications, no overlap of what it occupies,
changeover included): by construction, since each is made by the booking service, as
its booker, and a refused day slides to the next one."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.auth.passwords import verify_password
from booking.demo.campus import BOOKING_UID, BOOKINGS, SEARCH_DAYS, load_demo_campus
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import TrainerBusy
from booking.services.policy import Policy
from booking.services.sharing.travel import travel_minutes
from models import (
    SLOT_HOLDING_STATUSES,
    AuditEntry,
    Base,
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Equipment,
    EquipmentStatus,
    Occupancy,
    OutboxMessage,
    Project,
    ProjectStatus,
    Quota,
    Role,
    User,
)
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
NOWS = [
    NOW,
    datetime(2026, 4, 26, 21, 30, tzinfo=UTC),  # Sunday night before May's public holidays
    datetime(2026, 10, 18, 23, 30, tzinfo=UTC),  # already Monday in Paris; DST ends that week
    datetime(2026, 12, 20, 10, 0, tzinfo=UTC),  # Christmas and New Year's Day ahead
]


@pytest.fixture(autouse=True)
def _app_context(app):
    """Accounts are hashed with the app's configured cost."""
    with app.app_context():
        yield


def _counts(db: Session) -> dict[str, int]:
    return {t.name: db.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables}


def _user(db: Session, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def _codes_held_on(db: Session, user: User, day) -> set[str]:
    return {c.certification_type.code for c in db.scalars(
        select(Certification).where(Certification.user_id == user.id)) if c.covers(day, day)}


def _wished(now: datetime) -> dict[str, tuple[datetime, str]]:
    """Each demo booking's uid: the local day and time its row asks for, and its equipment."""
    today = now.astimezone(PARIS).date()
    monday = today + timedelta(days=7 - today.weekday())
    return {BOOKING_UID.format(first + i): (
        datetime.combine(monday + timedelta(weeks=week, days=weekday),
                         time.fromisoformat(hhmm)), code)
        for first, code, weeks, weekday, hhmm, *_ in BOOKINGS for i, week in enumerate(weeks)}


def _layout(db: Session) -> list[tuple]:
    return sorted((b.uid, b.equipment.code, b.start_at, b.end_at, b.status.value,
                   b.booked_by.email, b.trainer.email, b.decision_deadline)
                  for b in db.scalars(select(Booking)))


def test_second_load_creates_nothing(db: Session) -> None:
    created = load_demo_campus(db, now=NOW)
    assert created["establishments"] == 6
    assert created["users"] == 13
    assert 20 <= created["bookings"] <= 40
    assert created["occupancies"] > created["bookings"]  # the line holds its components
    before = _counts(db)

    for later in (NOW, NOW + timedelta(days=10)):
        again = load_demo_campus(db, now=later)
        assert set(again.values()) == {0}, again
    assert _counts(db) == before


def test_refuses_a_naive_now(db: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        load_demo_campus(db, now=NOW.replace(tzinfo=None))


@pytest.mark.parametrize("now", NOWS, ids=lambda d: d.date().isoformat())
def test_holding_occupancies_never_overlap(db: Session, now: datetime) -> None:
    load_demo_campus(db, now=now)
    by_equipment = defaultdict(list)
    for occupancy in db.scalars(
        select(Occupancy).where(Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES))
    ):
        by_equipment[occupancy.equipment_id].append(occupancy)
    for rows in by_equipment.values():
        for a, b in combinations(rows, 2):
            assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (a, b)


@pytest.mark.parametrize("now", NOWS, ids=lambda d: d.date().isoformat())
def test_bookings_pass_the_booking_rules(db: Session, now: datetime) -> None:
    load_demo_campus(db, now=now)
    public_holidays = holidays.France()
    closures = db.scalars(select(Closure)).all()
    bookings = db.scalars(select(Booking)).all()
    assert 20 <= len(bookings) <= 40
    for booking in bookings:
        item: Equipment = booking.equipment
        start, end = booking.start_at.astimezone(PARIS), booking.end_at.astimezone(PARIS)
        minutes = (booking.end_at - booking.start_at) // timedelta(minutes=1)
        assert booking.uid.startswith("demo-")
        assert booking.start_at > now
        assert item.status is EquipmentStatus.ACTIVE
        assert start.date() == end.date()
        assert start.date() not in public_holidays
        assert any(h.weekday == start.weekday() and h.opens <= start.time()
                   and end.time() <= h.closes for h in item.opening_hours), booking.uid
        assert (start.hour * 60 + start.minute) % item.slot_minutes == 0
        assert minutes % item.slot_minutes == 0
        assert item.min_minutes <= minutes <= item.max_minutes

        # A line holds its components; a component holds only itself (its siblings
        # stay free, and a line booking would collide on its row).
        held = {item.id, *(c.id for c in item.components)}
        assert {o.equipment_id for o in booking.occupancies} == held
        for occupancy in booking.occupancies:
            assert occupancy.booking_status == booking.status
            assert occupancy.starts_at == booking.start_at
            assert occupancy.ends_at == booking.end_at + timedelta(
                minutes=item.changeover_minutes)
        for closure in closures:
            scoped = closure.equipment_id in held or closure.establishment_id == (
                item.establishment_id)
            overlaps = closure.start_at < booking.end_at and booking.start_at < closure.end_at
            assert not (scoped and overlaps), booking.uid

        assert booking.trainer is not None
        assert booking.trainer.role is Role.TRAINER
        required = {t.code for e in [item, *item.components]
                    for t in e.required_certification_types}
        assert required <= _codes_held_on(db, booking.trainer, start.date()), booking.uid
        if booking.status is BookingStatus.PENDING:
            assert now < booking.decision_deadline <= booking.start_at
        if booking.participants is not None and item.capacity is not None:
            assert booking.participants <= item.capacity
        # Made by the booking service (its audit row), as the booker the story names.
        created = db.scalars(select(AuditEntry).where(
            AuditEntry.action == "booking.create", AuditEntry.object_id == booking.id)).all()
        assert [entry.actor_id for entry in created] == [booking.booked_by_id], booking.uid
        assert booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    # Rule 6 leaves some waiting for a coordinator, and confirms the others.
    assert {b.status for b in bookings} == {BookingStatus.PENDING, BookingStatus.CONFIRMED}


def test_the_same_now_lays_out_the_same_campus(db: Session) -> None:
    now = NOWS[3]
    first_load = db.begin_nested()
    load_demo_campus(db, now=now)
    first = _layout(db)
    first_load.rollback()
    assert db.scalar(select(func.count()).select_from(Booking)) == 0

    load_demo_campus(db, now=now)
    assert _layout(db) == first
    assert len(first) == sum(len(row[2]) for row in BOOKINGS)  # none left out


@pytest.mark.parametrize("now", NOWS, ids=lambda d: d.date().isoformat())
def test_a_refused_day_slides_to_a_later_one(db: Session, now: datetime) -> None:
    """A booking keeps its wished local time; the service refusing its wished day
    (a holiday, a closure, a taken slot) moves it to one of the following days."""
    load_demo_campus(db, now=now)
    wished = _wished(now)
    public_holidays = holidays.France()
    moved = set()
    for booking in db.scalars(select(Booking)):
        day, code = wished[booking.uid]
        start = booking.start_at.astimezone(PARIS).replace(tzinfo=None)
        assert booking.equipment.code == code
        assert start.time() == day.time(), booking.uid
        assert day.date() <= start.date() < day.date() + timedelta(days=SEARCH_DAYS)
        if start.date() != day.date():
            moved.add(booking.uid)
    on_holidays = {uid for uid, (day, _) in wished.items() if day.date() in public_holidays}
    assert on_holidays <= moved
    if now == NOWS[3]:  # Christmas and New Year's Day fall on wished days
        assert on_holidays


def test_bookings_stay_within_the_policy_horizon(db: Session) -> None:
    horizon = Policy(horizon_days=20)
    created = load_demo_campus(db, now=NOW, policy=horizon)
    starts = list(db.scalars(select(Booking.start_at)))
    assert starts
    assert max(starts) <= NOW + timedelta(days=20)
    assert created["bookings"] == len(starts) < sum(len(row[2]) for row in BOOKINGS)


def test_projects_are_requested_and_approved_through_the_services(db: Session) -> None:
    load_demo_campus(db, now=NOW)
    projects = {p.title: p for p in db.scalars(select(Project))}
    assert len(projects) == 2
    solaire = next(p for t, p in projects.items() if "solaire" in t)
    serums = next(p for t, p in projects.items() if "sérums" in t)
    # Approved with its trainer, then scheduled by its first session.
    assert solaire.status is ProjectStatus.SCHEDULED
    assert solaire.trainer.email == "formatrice.tours@plateforme.test"
    assert solaire.decided_by_id == _user(db, "coord.tours@plateforme.test").id
    assert solaire.updated_at == NOW
    assert serums.status is ProjectStatus.REQUESTED
    assert serums.trainer_id is None
    actions = {(e.action, e.object_id, e.actor_id) for e in db.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "project"))}
    assert ("project.request", serums.id, serums.requested_by_id) in actions
    assert ("project.approve", solaire.id, solaire.decided_by_id) in actions
    sessions = db.scalars(select(Booking).where(Booking.project_id == solaire.id)).all()
    assert sessions
    assert all(b.trainer_id == solaire.trainer_id for b in sessions)


def test_the_story_of_the_demo_trainer(db: Session) -> None:
    load_demo_campus(db, now=NOW)
    trainer = _user(db, "formateur@plateforme.test")
    assert trainer.role is Role.TRAINER
    assert trainer.establishment.code == "ORL-LYC"
    assert verify_password(trainer.password_hash, "plateforme-demo")
    held = _codes_held_on(db, trainer, NOW.date())
    assert {"COBOT-SEC", "LIGNE-COND"} <= held
    assert "GMP-ZAC" not in held

    line = db.scalar(select(Equipment).where(Equipment.code == "TRS-LC-01"))
    assert sorted(c.code.rsplit("-", 1)[1] for c in line.components) == [
        "BOUCH", "ENCART", "ETIQ", "REMP"]
    assert "GMP-ZAC" in {t.code for t in line.required_certification_types}

    cobot = db.scalars(select(Booking).join(Equipment).where(
        Equipment.code == "ORL-COBOT-01", Booking.trainer_id == trainer.id)).all()
    assert len(cobot) >= 3
    # Every Tuesday morning of the cobot cell is left for him to book as a series.
    assert all(b.start_at.astimezone(PARIS).weekday() != 1 for b in db.scalars(
        select(Booking).join(Equipment).where(Equipment.code == "ORL-COBOT-01")))


def test_certifications_tell_their_stories(db: Session) -> None:
    load_demo_campus(db, now=NOW)
    today = NOW.astimezone(PARIS).date()
    claire = db.scalars(select(Certification).join(User, Certification.user_id == User.id)
                        .where(User.email == "formatrice.tours@plateforme.test")).all()
    assert {"GMP-ZAC", "LIGNE-COND"} <= {c.certification_type.code for c in claire}
    assert any(today < c.valid_until <= today + timedelta(days=31) for c in claire)
    expired = db.scalars(select(Certification).where(Certification.valid_until < today)).all()
    assert expired
    assert all(c.granted_by_id is not None and c.valid_from <= today
               for c in db.scalars(select(Certification)))
    coordinators = db.scalars(select(User).where(User.role == Role.COORDINATOR)).all()
    assert {u.establishment.department for u in coordinators} == {"45", "28", "37", "41"}


def test_loading_the_demo_sends_no_mail(db: Session) -> None:
    """Demo bookings and project decisions are made with notify=False: the
    fictional company contact and trainers get nothing in the outbox."""
    load_demo_campus(db, now=NOW)
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_demo_shows_people_and_fairness(db: Session, now: datetime) -> None:
    """Issue 13's story: no trainer is ever in two places at once (travel time
    included); Julien's Tuesday at Polytech Tours keeps him from the Orléans
    cobot cell until 13:15; the Chartres cell is shared by three
    establishments under quotas; the Orléans cell opens to others 14 days ahead."""
    load_demo_campus(db, now=now)
    holding = [b for b in db.scalars(select(Booking)) if b.status in SLOT_HOLDING_STATUSES]
    for one, other in combinations(holding, 2):
        if one.trainer_id != other.trainer_id or one.trainer_id is None:
            continue
        gap = timedelta(minutes=travel_minutes(db, one.equipment.establishment_id,
                                               other.equipment.establishment_id))
        assert one.end_at + gap <= other.start_at or other.end_at + gap <= one.start_at, \
            (one.uid, other.uid)

    julien = _user(db, "formateur@plateforme.test")
    at_tours = db.scalar(select(Booking).where(Booking.uid == BOOKING_UID.format(34)))
    assert (at_tours.trainer, at_tours.equipment.code) == (julien, "TRS-JUM-01")
    cell = db.scalar(select(Equipment).where(Equipment.code == "ORL-COBOT-01"))
    day = at_tours.start_at.astimezone(PARIS).date()
    start = datetime.combine(day, time(13), tzinfo=PARIS)
    with pytest.raises(TrainerBusy) as busy:
        create_booking(db, actor=julien, now=now, policy=Policy(), request=BookingRequest(
            equipment_id=cell.id, start=start, end=start + timedelta(hours=1), title="Cobot"))
    assert busy.value.details["conflicts"][0]["travel_minutes"] == 75

    shared = db.scalar(select(Equipment).where(Equipment.code == "CHA-COBOT-01"))
    users = {b.booked_by.establishment.code for b in holding if b.equipment_id == shared.id}
    assert users == {"CHA-OF", "DRX-LYC", "ORL-LYC"}
    quotas = db.scalars(select(Quota).where(Quota.equipment_id == shared.id)).all()
    assert {(q.applies_to.value, q.period.value) for q in quotas} == {
        ("establishment", "month"), ("user", "month")}
    assert cell.others_open_days == 14
