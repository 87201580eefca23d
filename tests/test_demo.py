"""The demo campus, once loaded, is what its stories say: every booking it makes passes
the booking rules (opening hours, holidays, closures, certifications, no overlap of what
it occupies, changeover included), by construction, since each is made by the booking
service, as its booker, and a refused day slides to the next one.

The campus is loaded once per backend and ``now`` (tests/shared_demo.py); each test
reads it in a savepoint rolled back afterwards. The load itself (a second load, the
same layout for the same ``now``, a policy's horizon) is tested in test_demo_loading.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.auth.passwords import verify_password
from booking.demo.campus import (
    BOOKING_UID,
    BOOKINGS,
    PASSWORD,
    PAST,
    SEARCH_DAYS,
)
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import TrainerBusy
from booking.services.policy import Policy
from booking.services.sharing.travel import travel_minutes
from booking.services.waitlist import operations as waitlist
from booking.services.waitlist.listing import line_of, my_entries, waiting_count
from booking.services.waitlist.operations import offered_entries
from booking.timeutil import frozen
from models import (
    SLOT_HOLDING_STATUSES,
    AuditEntry,
    Booking,
    BookingStatus,
    Certification,
    Closure,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Incident,
    Occupancy,
    OutboxMessage,
    Project,
    ProjectStatus,
    Quota,
    Role,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from tests.conftest import NOW, csrf_token_of
from tests.shared_demo import NOWS, campus_session, shared_campus

PARIS = ZoneInfo("Europe/Paris")


# ``now`` is module-scoped: the tests of one ``now`` share its campus (pytest runs them
# together). The tests of NOW alone group with the first of NOWS.
_ID = {"ids": lambda d: d.date().isoformat(), "scope": "module"}
EVERY_NOW = pytest.mark.parametrize("now", NOWS, **_ID)
AT_NOW = pytest.mark.parametrize("now", [NOW], **_ID)


@pytest.fixture(scope="module")
def campus(app, now: datetime):
    """The demo loaded at ``now``, in a transaction never committed."""
    with shared_campus(app, now) as connection:
        yield connection


@pytest.fixture
def db(campus) -> Session:
    """This module's tests read (and may change) the shared campus in a savepoint."""
    with campus_session(campus) as session:
        yield session


@pytest.fixture(autouse=True)
def _app_context(app):
    """Accounts are hashed with the app's configured cost."""
    with app.app_context():
        yield


@pytest.fixture
def frozen_clock(now: datetime):
    """The clock of the pages and services, stopped at ``now`` (conftest's ``now``)."""
    with frozen(now) as at:
        yield at


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


@EVERY_NOW
def test_holding_occupancies_never_overlap(db: Session, now: datetime) -> None:
    by_equipment = defaultdict(list)
    for occupancy in db.scalars(
        select(Occupancy).where(Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES))
    ):
        by_equipment[occupancy.equipment_id].append(occupancy)
    for rows in by_equipment.values():
        for a, b in combinations(rows, 2):
            assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (a, b)


@EVERY_NOW
def test_bookings_pass_the_booking_rules(db: Session, now: datetime) -> None:
    public_holidays = holidays.France()
    closures = db.scalars(select(Closure)).all()
    # The table's bookings, all to come (last week's and the freed slot: tests below).
    wished = _wished(now)
    bookings = [b for b in db.scalars(select(Booking)) if b.uid in wished]
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


@EVERY_NOW
def test_a_refused_day_slides_to_a_later_one(db: Session, now: datetime) -> None:
    """A booking keeps its wished local time; the service refusing its wished day
    (a holiday, a closure, a taken slot) moves it to one of the following days."""
    wished = _wished(now)
    public_holidays = holidays.France()
    moved = set()
    for booking in db.scalars(select(Booking).where(Booking.uid.in_(wished))):
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


@AT_NOW
def test_projects_are_requested_and_approved_through_the_services(db: Session) -> None:
    projects = {p.title: p for p in db.scalars(select(Project))}
    assert len(projects) == 3  # and the project carried through every step (below)
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


@AT_NOW
def test_the_story_of_the_demo_trainer(db: Session) -> None:
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


@AT_NOW
def test_certifications_tell_their_stories(db: Session) -> None:
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


@AT_NOW
def test_loading_the_demo_sends_no_mail(db: Session) -> None:
    """Demo bookings and project decisions are made with notify=False: the
    fictional company contact and trainers get nothing in the outbox."""
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@AT_NOW
def test_the_demo_shows_people_and_fairness(db: Session, now: datetime,
                                             frozen_clock: datetime) -> None:
    """Issue 13's story: no trainer is ever in two places at once (travel time
    included); Julien's Tuesday at Polytech Tours keeps him from the Orléans
    cobot cell until 13:15; the Chartres cell is shared by three
    establishments under quotas; the Orléans cell opens to others 14 days ahead."""
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


# --- Issue 14: check-in, last week at the machine, a no-show, an incident, a waiting list


def _past(db: Session) -> list[Booking]:
    uids = [BOOKING_UID.format(row[0]) for row in PAST]
    return list(db.scalars(select(Booking).where(Booking.uid.in_(uids))
                           .order_by(Booking.start_at)))


def _audits(db: Session, action: str, object_id: int) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                    AuditEntry.object_id == object_id)))


@AT_NOW
def test_check_in_is_required_on_the_pilot_lines(db: Session) -> None:
    machines = db.scalars(select(Equipment)).all()
    for item in machines:
        assert item.check_in_required == (item.category is EquipmentCategory.PILOT_LINE), \
            item.code
    graces = {item.code: item.check_in_grace_minutes for item in machines
              if item.check_in_required}
    assert graces.pop("TRS-REA-01") == 20
    assert set(graces.values()) == {15}
    assert {"TRS-LC-01", "TRS-LC-01-REMP"} <= set(graces)


@EVERY_NOW
def test_last_week_on_the_pilot_lines(db: Session, now: datetime) -> None:
    """Booked by the Tours coordinator for Claire a week ahead, through the
    service; used (checked in a few minutes late, out before the end, then
    completed), one with an incident, one released as a no-show."""
    past = _past(db)
    assert len(past) == len(PAST)
    coordinator = _user(db, "coord.tours@plateforme.test")
    claire = _user(db, "formatrice.tours@plateforme.test")
    public_holidays = holidays.France()
    used = [b for b in past if b.status is BookingStatus.COMPLETED]
    assert len(used) == len(PAST) - 1
    assert [b.status for b in past if b not in used] == [BookingStatus.NO_SHOW]
    for booking in past:
        item = booking.equipment
        start = booking.start_at.astimezone(PARIS)
        assert item.check_in_required, booking.uid
        assert now - timedelta(days=SEARCH_DAYS + 14) < booking.start_at
        assert booking.end_at < now
        assert start.date() not in public_holidays
        assert any(h.weekday == start.weekday() and h.opens <= start.time()
                   and booking.end_at.astimezone(PARIS).time() <= h.closes
                   for h in item.opening_hours), booking.uid
        assert (booking.booked_by, booking.trainer) == (coordinator, claire)
        required = {t.code for e in [item, *item.components]
                    for t in e.required_certification_types}
        assert required <= _codes_held_on(db, claire, start.date())
        created = _audits(db, "booking.create", booking.id)
        assert [(e.actor_id, e.at) for e in created] == [
            (coordinator.id, booking.start_at - timedelta(days=7))]
        for occupancy in booking.occupancies:
            assert occupancy.booking_status == booking.status
    for booking in used:  # what the used-versus-booked reports read
        grace = timedelta(minutes=booking.equipment.check_in_grace_minutes)
        assert booking.start_at < booking.checked_in_at <= booking.start_at + grace
        assert booking.checked_in_at < booking.checked_out_at < booking.end_at
        check_in = _audits(db, "booking.check_in", booking.id)
        check_out = _audits(db, "booking.check_out", booking.id)
        assert [(e.actor_id, e.at) for e in check_in] == [
            (claire.id, booking.checked_in_at)]
        assert [(e.actor_id, e.at) for e in check_out] == [
            (claire.id, booking.checked_out_at)]
        assert len(_audits(db, "booking.complete", booking.id)) == 1


@EVERY_NOW
def test_a_no_show_released_by_the_scheduler(db: Session, now: datetime) -> None:
    no_show = db.scalars(select(Booking).where(Booking.status == BookingStatus.NO_SHOW)).all()
    assert len(no_show) == 1
    booking = no_show[0]
    assert booking.equipment.category is EquipmentCategory.PILOT_LINE
    assert booking.checked_in_at is None
    assert booking.checked_out_at is None
    released = booking.start_at + timedelta(minutes=booking.equipment.check_in_grace_minutes)
    assert [(e.actor_id, e.at) for e in _audits(db, "booking.no_show", booking.id)] \
        == [(None, released)]
    assert released < now
    assert not _audits(db, "booking.check_in", booking.id)


@EVERY_NOW
def test_an_open_incident_reported_at_check_out(db: Session, now: datetime) -> None:
    incidents = db.scalars(select(Incident)).all()
    assert len(incidents) == 1
    incident = incidents[0]
    booking = incident.booking
    assert "buse de remplissage n° 2" in incident.description
    assert incident.resolved_at is None
    assert incident.resolved_by_id is None
    assert incident.equipment_id == booking.equipment_id
    assert incident.equipment.category is EquipmentCategory.PILOT_LINE
    assert incident.equipment.establishment.code == "TRS-PHA"  # Isabelle Martin's inbox
    assert incident.reported_by_id == booking.trainer_id
    assert incident.reported_at == booking.checked_out_at
    assert booking.start_at < booking.checked_in_at < booking.start_at + timedelta(minutes=15)
    assert booking.checked_out_at < booking.end_at
    reported = _audits(db, "incident.report", incident.id)
    assert [(e.actor_id, e.at) for e in reported] == [
        (booking.trainer_id, incident.reported_at)]


@EVERY_NOW
def test_a_freed_slot_offered_to_the_first_in_line(db: Session, now: datetime) -> None:
    """Julien's Friday on his cobot cell, cancelled: offered to Karim for two
    hours (his dashboard), Sophie second in line (her waiting lists), as the
    waiting-list job leaves it: its next run changes nothing."""
    julien, karim, sophie = (_user(db, e) for e in (
        "formateur@plateforme.test", "formateur.chartres@plateforme.test",
        "formatrice.dreux@plateforme.test"))
    entries = db.scalars(select(WaitlistEntry).order_by(WaitlistEntry.created_at)).all()
    assert [(e.user, e.status) for e in entries] == [
        (karim, WaitlistStatus.OFFERED), (sophie, WaitlistStatus.WAITING)]
    offer, waiting = entries
    assert offer.equipment.code == "ORL-COBOT-01"
    assert (offer.start_at, offer.end_at) == (waiting.start_at, waiting.end_at)
    assert offer.offered_at < now < offer.offer_expires_at <= offer.offered_at + timedelta(hours=2)
    freed = db.scalar(select(Booking).where(Booking.uid == BOOKING_UID.format("waitlist-1")))
    assert (freed.status, freed.booked_by, freed.cancelled_by_id) == (
        BookingStatus.CANCELLED, julien, julien.id)
    assert (freed.start_at, freed.end_at) == (offer.start_at, offer.end_at)
    assert freed.created_at < offer.created_at < waiting.created_at < freed.cancelled_at \
        < offer.offered_at < now
    # The slot is free, else the offer could not be claimed.
    assert not db.scalars(select(Occupancy).where(
        Occupancy.equipment_id == offer.equipment_id,
        Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES),
        Occupancy.starts_at < offer.end_at, offer.start_at < Occupancy.ends_at)).all()

    assert offered_entries(db, karim, now=now) == [offer]
    assert [(p.entry, p.position) for p in my_entries(db, sophie, now=now).open] == [
        (waiting, 2)]
    assert waiting_count(db, sophie, now=now) == 1
    assert len(line_of(db, offer.equipment, now=now)) == 2
    result = waitlist.run(db, now=now, policy=Policy())
    assert (result.offers_expired, result.entries_expired, result.offered) == (0, 0, [])


@EVERY_NOW
def test_the_no_show_job_would_release_nothing(db: Session, now: datetime) -> None:
    """Every demo booking of a check-in machine past its start and grace period
    was checked in, or is the no-show already released, or holds no slot: the
    scheduler's first run after loading the demo releases nothing."""
    late = []
    for booking in db.scalars(select(Booking).join(Equipment).where(
            Equipment.check_in_required.is_(True))):
        deadline = booking.start_at + timedelta(
            minutes=booking.equipment.check_in_grace_minutes)
        if deadline > now or booking.checked_in_at is not None:
            continue
        late.append((booking.uid, booking.status))
    assert late == [(BOOKING_UID.format("past-4"), BookingStatus.NO_SHOW)]
    assert all(status not in SLOT_HOLDING_STATUSES for _uid, status in late)


@AT_NOW
def test_two_dashboards_show_the_waiting_list(app, db: Session, now: datetime,
                                              frozen_clock: datetime) -> None:
    """Karim's dashboard offers him the freed slot; Sophie's tells her she waits,
    second in line on her waiting lists; the cell's coordinator sees both."""

    def pages(email: str, *paths: str) -> list[str]:
        """The pages as ``email`` sees them (an app context of their own: the
        test's holds no logged-in user)."""
        with app.app_context():
            client = app.test_client()
            token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
            answer = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                                      "csrf_token": token})
            assert answer.status_code == 302, email
            return [client.get(path).get_data(as_text=True) for path in paths]

    offer, waiting = db.scalars(select(WaitlistEntry).order_by(WaitlistEntry.created_at))
    [karim] = pages("formateur.chartres@plateforme.test", "/dashboard")
    assert f"/waitlist/{offer.id}/claim" in karim
    dashboard, mine = pages("formatrice.dreux@plateforme.test", "/dashboard", "/waitlist")
    assert 'id="waitlist-reminder" data-waiting="1"' in dashboard
    assert f'data-entry="{waiting.id}" data-position="2"' in mine
    [cell] = pages("coord.orleans@plateforme.test", f"/equipment/{offer.equipment_id}")
    assert 'id="machine-waitlist" data-waiting="2"' in cell


# --- Continuing education (issue 15) ------------------------------------------------------


@EVERY_NOW
def test_a_company_project_goes_through_every_step(app, db: Session, now: datetime) -> None:
    """Request, quote, acceptance, agreement, sessions, attendance, certificates,
    satisfaction, invoice lines: each made by the services, for any "now"."""
    from booking.demo.paperwork_data import DONE
    from booking.services.attendance.documents import certificate_of
    from booking.services.invoicing.lines import invoice_lines
    from booking.services.quotes.operations import accepted_quote
    from models import (
        AgreementStatus,
        AttendanceSheet,
        Learner,
        SatisfactionSurvey,
        TrainingAgreement,
    )

    project = db.scalar(select(Project).where(Project.title == DONE["title"]))
    assert project.status is ProjectStatus.COMPLETED
    assert project.sector is DONE["sector"]
    quote = accepted_quote(db, project)
    assert quote is not None
    assert quote.number.startswith("DEV-TRS-PHA-")
    assert quote.discount_bp == DONE["discount_bp"]
    assert len(quote.lines) == len(DONE["quote"])
    agreement = db.scalar(select(TrainingAgreement).where(
        TrainingAgreement.project_id == project.id))
    assert agreement.status is AgreementStatus.SIGNED
    assert agreement.quote_id == quote.id
    assert agreement.total_incl_cents == quote.total_incl_cents
    sessions = db.scalars(select(Booking).where(Booking.project_id == project.id)
                          .order_by(Booking.start_at)).all()
    assert [b.status for b in sessions] == [BookingStatus.COMPLETED] * len(DONE["sessions"])
    assert all(b.checked_in_at is not None and b.end_at < now for b in sessions)
    # Signed by the trainer and countersigned by the company, each half-day.
    sheets = db.scalars(select(AttendanceSheet).where(
        AttendanceSheet.project_id == project.id)).all()
    assert len(sheets) == 2 * len(sessions)
    assert all(s.trainer_signed_at and s.company_signed_at for s in sheets)
    learners = db.scalars(select(Learner).where(Learner.project_id == project.id)
                          .order_by(Learner.id)).all()
    assert len(learners) == len(DONE["learner_rows"])
    assert all(len(s.marks) == len(learners) for s in sheets)
    # Léa was there throughout; Hugo 20 minutes late once; Yanis absent one afternoon.
    full = sum(s.hours_cents for s in sheets)
    hours = {lr.first_name: certificate_of(db, lr).attended_cents for lr in learners}
    assert hours["Léa"] == full
    assert hours["Hugo"] == full - round(20 * 100 / 60)
    assert hours["Yanis"] == full - max(s.hours_cents for s in sheets
                                        if s.booking_id == sessions[1].id and
                                        s.half_day.value == "afternoon")
    # Satisfaction: sent to the contact and the learners with an e-mail; three answered.
    surveys = db.scalars(select(SatisfactionSurvey).where(
        SatisfactionSurvey.project_id == project.id)).all()
    assert len(surveys) == 1 + sum(1 for row in DONE["learner_rows"] if row[2])
    assert sum(1 for s in surveys if s.answered_at is not None) == len(DONE["surveys"])
    # The invoice lines of the accepted quote, for the Tours coordinator.
    rows = invoice_lines(db, actor=_user(db, "coord.tours@plateforme.test"), project=project)
    assert len(rows) == len(quote.lines)
    assert sum(r.excl_cents for r in rows) == quote.total_excl_cents
    assert {r.analytic_code for r in rows} == {"PHA-PLATEFORME"}


@AT_NOW
def test_the_other_projects_wait_at_their_step(db: Session) -> None:
    from booking.services.agreements.operations import current_agreement
    from booking.services.quotes.operations import accepted_quote
    from models import AgreementStatus, Quote, QuoteStatus

    solaire = db.scalar(select(Project).where(Project.title.contains("solaire")))
    serums = db.scalar(select(Project).where(Project.title.contains("sérums")))
    # The solar cream: quote accepted, agreement signed, so its sessions were booked.
    assert accepted_quote(db, solaire) is not None
    assert current_agreement(db, solaire).status is AgreementStatus.SIGNED
    assert db.scalar(select(func.count()).select_from(Booking).where(
        Booking.project_id == solaire.id)) > 0
    # The serums: a quote awaiting the company's answer.
    assert db.scalars(select(Quote.status).where(Quote.project_id == serums.id)).all() == [
        QuoteStatus.ISSUED]
