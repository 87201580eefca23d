"""No-show release (issue 14, items 3 and 6): a confirmed booking of a machine
requiring check-in that nobody checked in by the end of its grace period is
released by the scheduler, its slot freed and offered to the waiting list in
the same run; no-shows counted, repeated ones flagged to the coordinators;
the history reads check-in, check-out, no-show and incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import url_for
from sqlalchemy import func, select

from booking.services import audit
from booking.services.bookings.lifecycle import complete_past_bookings
from booking.services.bookings.no_show import (
    counts_by_establishment,
    counts_by_person,
    release_no_shows,
)
from booking.services.bookings.occupancy import occupancy_rows
from booking.services.bookings.operations import BookingRequest
from booking.services.history import booking_history
from booking.services.inbox.summary import count, inbox
from booking.services.policy import Policy
from booking.services.waitlist import operations as waitlist
from booking.timeutil import frozen
from models import (
    AuditEntry,
    Booking,
    BookingPurpose,
    BookingStatus,
    Incident,
    JobRun,
    Occupancy,
    OutboxMessage,
    Role,
    WaitlistStatus,
)
from scheduler.jobs import JOBS, job_by_id, run_job
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
# Thursday 14 January 2027, 10:00–12:00 in Paris (NOW is the Tuesday before).
START = datetime(2027, 1, 14, 10, tzinfo=PARIS)
END = START + timedelta(hours=2)
GRACE = timedelta(minutes=15)


@pytest.fixture
def w(make: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    line = make.equipment(establishment=owner, name="Ligne pilote", check_in_required=True,
                          check_in_grace_minutes=15)
    plain = make.equipment(establishment=owner, name="Étuve")
    return SimpleNamespace(
        owner=owner, line=line, plain=plain,
        coordinator=make.user(Role.COORDINATOR, establishment=owner, name="Coord Parc"),
        trainer=make.user(Role.TRAINER, establishment=owner, name="Alice Formatrice"),
        booker=make.user(Role.TRAINER, establishment=owner, name="Bob Réservant"),
        waiting=make.user(Role.TRAINER, establishment=owner, name="Chloé Attente"))


def book(make: Any, eq: Any, trainer: Any, start: datetime = START,
         end: datetime | None = None, booker: Any = None, **kw: Any) -> Booking:
    """A confirmed booking as the booking service leaves it (with its occupancy)."""
    booking = Booking(uid=f"ns-{make._n()}@test", equipment=eq, start_at=start,
                      end_at=end or start + timedelta(hours=2), title="Séance",
                      status=BookingStatus.CONFIRMED, purpose=BookingPurpose.TRAINING,
                      booked_by=booker or trainer, trainer=trainer, **kw)
    booking.occupancies = occupancy_rows(booking, eq)
    make.session.add(booking)
    make.session.flush()
    return booking


def release(db: Any, at: datetime, policy: Policy | None = None) -> Any:
    return release_no_shows(db, now=at, policy=policy or Policy())


def mails(db: Any, like: str) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like(like))
                           .order_by(OutboxMessage.id)))


def test_released_at_the_end_of_the_grace_period_not_before(db, w, make) -> None:
    booking = book(make, w.line, w.trainer, booker=w.booker)
    assert release(db, START + GRACE - timedelta(minutes=1)).released == []
    assert booking.status is BookingStatus.CONFIRMED
    result = release(db, START + GRACE)
    assert result.released == [booking]
    assert booking.status is BookingStatus.NO_SHOW
    assert (booking.sequence, booking.updated_at) == (1, START + GRACE)
    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "booking.no_show"))
    assert (entry.object_id, entry.actor_id) == (booking.id, None)
    # Its occupancy follows its status (composite foreign key): the slot is free.
    db.expire_all()
    assert set(db.scalars(select(Occupancy.booking_status).where(
        Occupancy.booking_id == booking.id))) == {BookingStatus.NO_SHOW}


def test_a_machine_with_a_longer_grace_waits_longer(db, w, make) -> None:
    w.line.check_in_grace_minutes = 30
    booking = book(make, w.line, w.trainer)
    assert release(db, START + timedelta(minutes=29)).released == []
    assert release(db, START + timedelta(minutes=30)).released == [booking]


def test_a_booking_shorter_than_the_grace_period_is_released_at_its_end(db, w, make) -> None:
    """Check-in closes at the end of such a booking: it is released then."""
    booking = book(make, w.line, w.trainer, end=START + timedelta(minutes=10))
    assert release(db, START + timedelta(minutes=9)).released == []
    assert release(db, START + timedelta(minutes=10)).released == [booking]


def test_checked_in_bookings_are_never_released(db, w, make) -> None:
    booking = book(make, w.line, w.trainer, checked_in_at=START + timedelta(minutes=5))
    for at in (START + GRACE, END + timedelta(hours=1)):
        assert release(db, at).released == []
    assert booking.status is BookingStatus.CONFIRMED


def test_machines_without_check_in_are_never_released(db, w, make) -> None:
    booking = book(make, w.plain, w.trainer)
    assert release(db, START + GRACE).released == []
    assert release(db, END + timedelta(days=1)).released == []
    assert booking.status is BookingStatus.CONFIRMED


def test_only_confirmed_bookings_are_released(db, w, make) -> None:
    pending = book(make, w.line, w.trainer)
    pending.status = BookingStatus.PENDING
    db.flush()
    assert release(db, START + GRACE).released == []
    assert pending.status is BookingStatus.PENDING


def test_the_booker_and_the_trainer_are_told(db, w, make) -> None:
    booking = book(make, w.line, w.trainer, booker=w.booker)
    release(db, START + GRACE)
    told = {m.to_addr: m for m in mails(db, f"booking:{booking.id}:%:no_show:%")}
    assert set(told) == {w.trainer.email, w.booker.email}
    assert all(m.ics_method == "CANCEL" for m in told.values())


def test_running_twice_changes_nothing(db, w, make) -> None:
    booking = book(make, w.line, w.trainer, booker=w.booker)
    release(db, START + GRACE)
    outbox = db.scalar(select(func.count()).select_from(OutboxMessage))
    again = release(db, START + GRACE + timedelta(minutes=5))
    assert (again.released, again.offered, again.flagged) == ([], [], [])
    assert booking.sequence == 1
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == outbox
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "booking.no_show")) == 1


def test_a_run_is_bounded_and_takes_the_longest_overdue_first(db, w, make) -> None:
    later = book(make, w.line, w.trainer, start=START + timedelta(hours=3))
    first = book(make, w.line, w.booker)
    at = START + timedelta(hours=4)
    assert release_no_shows(db, now=at, policy=Policy(), limit=1).released == [first]
    assert release_no_shows(db, now=at, policy=Policy(), limit=1).released == [later]


def test_the_freed_slot_is_offered_to_the_waiting_list_in_the_same_run(db, w, make) -> None:
    booking = book(make, w.line, w.trainer)
    # The last hour of the slot, wanted by someone else: taken, so they wait.
    entry = waitlist.join(db, actor=w.waiting, request=BookingRequest(
        equipment_id=w.line.id, start=START + timedelta(hours=1), end=END, title="Reprise"),
        now=NOW, policy=Policy())
    assert entry.status is WaitlistStatus.WAITING
    result = release(db, START + GRACE)
    assert result.released == [booking]
    assert result.offered == [entry]
    assert entry.status is WaitlistStatus.OFFERED
    [offer] = mails(db, f"waitlist-offer:{entry.id}")
    assert offer.to_addr == w.waiting.email
    # The offer can be claimed: the no-show holds the slot no more.
    claimed = waitlist.claim(db, actor=w.waiting, entry=entry, now=START + GRACE,
                             policy=Policy())
    assert claimed.start_at == START + timedelta(hours=1)
    assert release(db, START + GRACE + timedelta(minutes=5)).offered == []


def test_complete_past_leaves_bookings_not_checked_in_to_the_no_show_job(db, w, make) -> None:
    unchecked = book(make, w.line, w.trainer)
    checked = book(make, w.line, w.booker, start=START + timedelta(hours=3),
                   checked_in_at=START + timedelta(hours=3),
                   checked_out_at=START + timedelta(hours=4))
    plain = book(make, w.plain, w.waiting)
    after = START + timedelta(days=1)
    assert set(complete_past_bookings(db, now=after)) == {checked, plain}
    assert unchecked.status is BookingStatus.CONFIRMED
    assert release(db, after).released == [unchecked]
    assert unchecked.status is BookingStatus.NO_SHOW
    assert complete_past_bookings(db, now=after) == []


# -- counts and repeated no-shows ------------------------------------------------------

def _no_shows(db: Any, make: Any, eq: Any, trainer: Any, days: list[int],
              **kw: Any) -> list[Booking]:
    """No-shows of ``trainer`` on ``eq``, ``days`` days after START."""
    made = [book(make, eq, trainer, start=START + timedelta(days=d), **kw) for d in days]
    for booking in made:
        booking.status = BookingStatus.NO_SHOW
    db.flush()
    return made


def test_no_shows_are_counted_per_person_and_per_establishment(db, w, make) -> None:
    other = make.establishment(code="CFA", name="CFA du Val")
    away = make.equipment(establishment=other, check_in_required=True)
    stranger = make.user(Role.TRAINER, establishment=other)
    _no_shows(db, make, w.line, w.trainer, [0, 1])
    _no_shows(db, make, away, w.trainer, [2])
    # No trainer named: the booker's no-show.
    _no_shows(db, make, away, None, [3], booker=stranger)
    book(make, w.line, w.booker)  # not a no-show
    period = {"start": START, "end": START + timedelta(days=7)}
    assert counts_by_person(db, **period) == {w.trainer.id: 3, stranger.id: 1}
    assert counts_by_establishment(db, **period) == {w.owner.id: 2, other.id: 2}
    assert counts_by_establishment(db, **period, side="person") == {w.owner.id: 3,
                                                                     other.id: 1}
    # The period bounds them: [start, end).
    assert counts_by_person(db, start=START + timedelta(days=1),
                            end=START + timedelta(days=2)) == {w.trainer.id: 1}


def test_repeated_no_shows_are_flagged_to_the_coordinators_concerned(db, w, make) -> None:
    other = make.establishment(code="CFA", name="CFA du Val")
    away = make.equipment(establishment=other, check_in_required=True)
    elsewhere = make.user(Role.COORDINATOR, establishment=other)
    uninvolved = make.user(Role.COORDINATOR, establishment=make.establishment())
    late = [book(make, w.line, w.trainer, start=START + timedelta(days=d)) for d in (0, 1)]
    third = book(make, away, w.trainer, start=START + timedelta(days=5))
    fourth = book(make, w.line, w.trainer, start=START + timedelta(days=6))
    assert release(db, START + timedelta(days=1, hours=1)).released == late
    assert mails(db, "no-show-flag:%") == []
    assert inbox(db, w.coordinator, now=START + timedelta(days=2)).no_shows == []

    result = release(db, START + timedelta(days=5, hours=1))
    assert (result.released, result.flagged) == ([third], [w.trainer.id])
    flags = mails(db, "no-show-flag:%")
    assert sorted(m.to_addr for m in flags) == sorted([w.coordinator.email, elsewhere.email])
    assert all(w.trainer.name in m.body_text for m in flags)

    at = START + timedelta(days=5, hours=2)
    for coordinator in (w.coordinator, elsewhere):
        box = inbox(db, coordinator, now=at)
        [flagged] = box.no_shows
        assert (flagged.user.id, flagged.count, flagged.last_at) == (w.trainer.id, 3,
                                                                     third.start_at)
        assert box.counts.no_shows == 1
    assert count(db, uninvolved, now=at).no_shows == 0
    # A stricter threshold set in the configuration lists nobody.
    assert inbox(db, w.coordinator, now=at, policy=Policy(no_show_flag_count=4)).no_shows == []

    # A fourth no-show: still flagged, no second message.
    assert release(db, START + timedelta(days=6, hours=1)).released == [fourth]
    assert len(mails(db, "no-show-flag:%")) == 2
    # Outside the window they no longer count.
    assert inbox(db, w.coordinator, now=START + timedelta(days=95)).no_shows == []


def test_the_inbox_page_lists_flagged_people_and_open_incidents(db, w, make, login,
                                                                app) -> None:
    _no_shows(db, make, w.line, w.trainer, [0, 1, 2])
    incident = Incident(equipment=w.line, reported_by=w.trainer, description="Fuite d'huile",
                        reported_at=START + timedelta(hours=2))
    closed = Incident(equipment=w.line, description="Réglé", reported_at=START,
                      resolved_at=START + timedelta(hours=1))
    db.add_all([incident, closed])
    db.flush()
    browser = login(w.coordinator)
    with frozen(START + timedelta(days=3)):
        page = browser.get("/coordination/inbox").get_data(as_text=True)
    assert 'id="no-shows"' in page
    assert f'data-user="{w.trainer.id}"' in page
    assert 'data-count="3"' in page
    assert 'id="incidents"' in page
    assert f'data-incident="{incident.id}"' in page
    assert f'data-incident="{closed.id}"' not in page
    assert "Fuite d&#39;huile" in page or "Fuite d'huile" in page
    if "checkin.incident" in app.view_functions:  # the check-in's page, when it is there
        with app.test_request_context():
            link = url_for("checkin.incident", incident_id=incident.id)
        assert f'href="{link}"' in page.split(f'data-incident="{incident.id}"')[1][:300]


# -- the job --------------------------------------------------------------------------

def test_the_job_runs_once_and_is_recorded(app, db, w, make) -> None:
    spec = job_by_id("no_show_release")
    assert spec.trigger_args == {"minutes": 5}
    assert spec in JOBS
    booking = book(make, w.line, w.trainer)
    db.commit()
    with frozen(START + GRACE):
        # A scheduler that does not hold the lease runs nothing (one run however
        # many schedulers start: scheduler/lease.py).
        assert run_job(app, spec, holder="a-scheduler-without-the-lease") is None
        run = run_job(app, spec, holder=None)
        again = run_job(app, spec, holder=None)
    assert run.error is None, run.error
    assert run.summary == "1 booking(s) released as no-shows, 0 slot(s) offered"
    assert again.summary == "0 booking(s) released as no-shows, 0 slot(s) offered"
    db.expire_all()
    assert db.get(Booking, booking.id).status is BookingStatus.NO_SHOW
    assert db.scalar(select(func.count()).select_from(JobRun).where(
        JobRun.job_id == "no_show_release")) == 2


def test_the_jobs_page_reads_the_summary_back(app) -> None:
    from booking.jobs.labels import description, summary, title

    with app.test_request_context():  # French, the default language
        assert summary("no_show_release", "2 booking(s) released as no-shows, "
                       "1 slot(s) offered") == \
            "2 réservations libérées pour absence, 1 créneau proposé"
        assert title("no_show_release") == "Libération des absences"
        assert description("no_show_release", "") != ""


# -- the history ------------------------------------------------------------------------

def test_the_history_reads_check_in_check_out_no_show_and_incidents(app, db, w, make) -> None:
    booking = book(make, w.line, w.trainer, checked_in_at=START + timedelta(minutes=3),
                   checked_out_at=END)
    audit.record(db, actor=w.trainer, action="booking.check_in", object_type="booking",
                 object_id=booking.id, now=START + timedelta(minutes=3),
                 checked_in_at=(START + timedelta(minutes=3)).isoformat())
    audit.record(db, actor=w.trainer, action="booking.check_out", object_type="booking",
                 object_id=booking.id, now=END, checked_out_at=END.isoformat())
    incident = Incident(equipment=w.line, booking=booking, description="Capteur HS",
                        reported_at=END)
    db.add(incident)
    db.flush()
    # As booking.services.checkin records them.
    audit.record(db, actor=w.trainer, action="incident.report", object_type="incident",
                 object_id=incident.id, now=END, equipment_id=w.line.id, booking_id=booking.id)
    audit.record(db, actor=w.coordinator, action="incident.resolve", object_type="incident",
                 object_id=incident.id, now=END + timedelta(hours=1), equipment_id=w.line.id,
                 maintenance=False)
    other = book(make, w.line, w.booker, start=START + timedelta(days=1))
    release(db, START + timedelta(days=1, minutes=20))
    with app.test_request_context():  # French, the default language
        events = booking_history(db, actor=w.coordinator, booking=booking, locale="fr")
        [released] = booking_history(db, actor=w.coordinator, booking=other, locale="fr")
    assert [e.action for e in events] == [
        "Incident résolu", "Incident signalé", "Fin pointée", "Arrivée pointée à la machine"]
    assert ("Description", "Capteur HS") in [(c.field, c.after) for c in events[1].changes]
    check_in = events[-1]
    # Times in the reader's language and the campus's zone (09:03 UTC).
    assert "jeudi 14 janvier 2027" in check_in.when
    assert "10:03" in check_in.when
    [change] = check_in.changes
    assert change.before is None
    assert "jeudi 14 janvier 2027" in change.after
    assert "10:03" in change.after
    assert released.action == "Libérée pour absence (personne n’a pointé)"
    assert released.actor is None
    assert ("Confirmée", "Non présentée") in [(c.before, c.after) for c in released.changes]
