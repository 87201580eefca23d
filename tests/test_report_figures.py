"""Utilisation and activity figures, exactly, on a small hand-built campus.

March 2027 has a public holiday (Easter Monday, 29 March), the spring
daylight-saving change (Sunday 28 March: 02:00 becomes 03:00), a closure of
the establishment and one of a machine, a booking across the range's start and
one across the night of 31 March to 1 April (the month boundary, local time).
Every figure below is counted by hand in the comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.reports.activity import activity
from booking.services.reports.utilisation import month_starts, split_hours, utilisation
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
    Closure,
    OpeningHours,
    Project,
    Role,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)  # the suite's frozen clock
MARCH = {"first": date(2027, 3, 1), "last_excluded": date(2027, 4, 1)}
SPRING = {"first": date(2027, 3, 1), "last_excluded": date(2027, 5, 1)}
P = BookingPurpose
S = BookingStatus


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class Spring:
    trs: Any
    orl: Any
    coordinator: Any
    admin: Any
    t1: Any
    t2: Any
    company_user: Any
    company: Any
    m1: Any
    sunday: Any
    o1: Any
    bookings: dict[str, Booking]


def build_spring(make) -> Spring:
    """The campus of this module's figures (also used by the page tests)."""
    session = make.session
    trs = make.establishment(code="TRS", name="Faculté de pharmacie", city="Tours",
                             department="37")
    orl = make.establishment(code="ORL", name="Lycée Val de Loire", city="Orléans")
    coordinator = make.user(Role.COORDINATOR, establishment=trs, name="Coordinatrice Tours")
    admin = make.user(Role.ADMIN, name="Admin sans établissement")
    t1 = make.user(Role.TRAINER, establishment=trs, name="Claire Dubois")
    t2 = make.user(Role.TRAINER, establishment=orl, name="Julien Moreau")
    company_user = make.user(Role.COMPANY)
    company = company_user.company
    # Monday to Friday 08:00–18:00.
    m1 = make.equipment(establishment=trs, code="TRS-M1", name="Robot <cobot> & co",
                        changeover_minutes=30)
    # Sundays only, 00:00–23:30, holidays included: 23.5 h, 22.5 h on 28 March.
    sunday = make.equipment(establishment=trs, code="TRS-SUN", name="Réacteur d'émulsion",
                            hours=None, open_on_holidays=True)
    sunday.opening_hours = [OpeningHours(weekday=6, opens=time(0), closes=time(23, 30))]
    o1 = make.equipment(establishment=orl, code="ORL-O1", name="Banc de maintenance")
    # The establishment is closed on Tuesday 16 March 08:00–12:00; M1 all Thursday 18 March.
    session.add_all([
        Closure(establishment_id=trs.id, reason="réunion", start_at=paris(16, 8),
                end_at=paris(16, 12)),
        Closure(equipment_id=m1.id, reason="maintenance", start_at=paris(18, 0),
                end_at=paris(19, 0)),
    ])
    project = Project(company_id=company.id, requested_by_id=company_user.id,
                      title="Conditionnement", learners=8, wanted_from=date(2027, 3, 1),
                      wanted_to=date(2027, 3, 31))
    session.add(project)
    session.flush()
    n = iter(range(1, 100))

    def book(equipment, booker, start, end, purpose=P.TRAINING, status=S.CONFIRMED,
             trainer=None, participants=None, project=None) -> Booking:
        booking = Booking(uid=f"fig{next(n)}@t", equipment=equipment, start_at=start,
                          end_at=end, title="Séance", purpose=purpose, status=status,
                          booked_by=booker, trainer=trainer, participants=participants,
                          project=project,
                          cancelled_at=start if status is S.CANCELLED else None)
        booking.occupancies = occupancy_rows(booking, equipment)
        session.add(booking)
        session.flush()
        return booking

    bookings = {
        # M1 in March: 3 + 4 + 2 + 1.5 + 2 (before midnight of 31 March) + 1 = 13.5 h.
        "b1": book(m1, t1, paris(2, 9), paris(2, 12), status=S.COMPLETED, trainer=t1,
                   participants=12),
        "b2": book(m1, coordinator, paris(10, 14), paris(10, 18), P.INDUSTRIAL_PROJECT,
                   S.COMPLETED, trainer=t1, participants=8, project=project),
        "b3": book(m1, t2, paris(12, 8), paris(12, 10), trainer=t2, participants=5),
        "b4": book(m1, company_user, paris(22, 10), paris(22, 11, 30), P.DISCOVERY_WORKSHOP),
        "b5": book(m1, coordinator, paris(31, 22), paris(1, 2, month=4), P.MAINTENANCE),
        "b12": book(m1, admin, paris(4, 8), paris(4, 9), P.OTHER),
        # Sunday machine: 01:00–04:00 on the change day is 2 real hours;
        # 28 February 22:00 to 1 March 02:00 has 2 hours inside March.
        "b6": book(sunday, t1, paris(28, 1), paris(28, 4), status=S.COMPLETED, trainer=t1,
                   participants=3),
        "b11": book(sunday, t2, paris(28, 22, month=2), paris(1, 2), trainer=t2),
        # Not booked time: cancelled, expired (pending left undecided), pending.
        "b7": book(m1, t1, paris(15, 9), paris(15, 10), status=S.CANCELLED, trainer=t1,
                   participants=10),
        "b8": book(m1, t2, paris(23, 9), paris(23, 10), status=S.EXPIRED, trainer=t2),
        "b9": book(m1, t2, paris(24, 9), paris(24, 10), status=S.PENDING),
        # April, and the other establishment.
        "b10": book(m1, t1, paris(6, 8, month=4), paris(6, 10, month=4), status=S.COMPLETED,
                    trainer=t1, participants=6),
        "b13": book(o1, t2, paris(8, 8), paris(8, 12), trainer=t2),
    }
    return Spring(trs, orl, coordinator, admin, t1, t2, company_user, company, m1, sunday,
                  o1, bookings)


@pytest.fixture
def spring(make) -> Spring:
    return build_spring(make)


def figures(rows) -> list[tuple[str, float, float, float | None]]:
    return [(r.key, r.booked_hours, r.open_hours, r.rate) for r in rows]


# --- utilisation ---------------------------------------------------------------------


def test_per_equipment_with_closures_holiday_and_daylight_saving(db, spring) -> None:
    rows = utilisation(db, **MARCH, group_by="equipment", establishment_id=spring.trs.id)
    # M1: 23 weekdays, minus Easter Monday, times 10 h = 220; minus the 4-hour
    # closure of the establishment and the 10 hours of its own closure: 206.
    # Sunday machine: 7, 14, 21 March at 23.5 h and 28 March at 22.5 h = 93.
    assert figures(rows) == [
        (str(spring.m1.id), 13.5, 206.0, round(13.5 / 206, 4)),
        (str(spring.sunday.id), 4.0, 93.0, round(4 / 93, 4)),
    ]
    assert [r.label for r in rows] == ["TRS-M1 — Robot <cobot> & co",
                                       "TRS-SUN — Réacteur d'émulsion"]


def test_per_month_splits_at_local_midnight(db, spring) -> None:
    rows = utilisation(db, **SPRING, group_by="month", establishment_id=spring.trs.id)
    # b5, 31 March 22:00 to 1 April 02:00 Paris, is 2 h in each month although
    # all of it falls on 31 March in UTC. April: b5's 2 h and b10's 2 h; open
    # 22 weekdays (no holiday) * 10 h and 4 Sundays * 23.5 h.
    assert figures(rows) == [
        ("2027-03", 17.5, 299.0, round(17.5 / 299, 4)),
        ("2027-04", 4.0, 314.0, round(4 / 314, 4)),
    ]
    assert [r.label for r in rows] == ["2027-03", "2027-04"]
    # The months add up to the whole range.
    whole = utilisation(db, **SPRING, group_by="equipment", establishment_id=spring.trs.id)
    assert sum(r.booked_hours for r in whole) == 21.5
    assert sum(r.open_hours for r in whole) == 613.0


def test_a_month_without_bookings_still_has_its_row(db, spring) -> None:
    rows = utilisation(db, first=date(2027, 4, 15), last_excluded=date(2027, 6, 1),
                       group_by="month", establishment_id=spring.orl.id)
    # O1 from 15 April: 12 weekdays; May: 21 weekdays minus Ascension (6 May)
    # and Whit Monday (17 May); 1 and 8 May are Saturdays.
    assert figures(rows) == [("2027-04", 0.0, 120.0, 0.0), ("2027-05", 0.0, 190.0, 0.0)]


def test_per_month_in_autumn_has_a_25_hour_day(db, make) -> None:
    machine = make.equipment(hours=None, open_on_holidays=True)
    machine.opening_hours = [OpeningHours(weekday=6, opens=time(0), closes=time(23, 30))]
    trainer = make.user(Role.TRAINER, establishment=machine.establishment)
    booking = Booking(uid="autumn@t", equipment=machine, title="Nuit", purpose=P.TRAINING,
                      status=S.CONFIRMED, booked_by=trainer,
                      # 31 October 2027, 01:00 to 04:00: 4 real hours (03:00 comes twice),
                      start_at=datetime(2027, 10, 31, 1, tzinfo=PARIS),
                      end_at=datetime(2027, 10, 31, 4, tzinfo=PARIS))
    booking.occupancies = occupancy_rows(booking, machine)
    # and a night across 1 November: 23:00 to 01:00, an hour in each month.
    night = Booking(uid="night@t", equipment=machine, title="Nuit", purpose=P.TRAINING,
                    status=S.CONFIRMED, booked_by=trainer,
                    start_at=datetime(2027, 10, 31, 23, tzinfo=PARIS),
                    end_at=datetime(2027, 11, 1, 1, tzinfo=PARIS))
    night.occupancies = occupancy_rows(night, machine)
    make.session.add_all([booking, night])
    make.session.flush()
    rows = utilisation(make.session, first=date(2027, 10, 1), last_excluded=date(2027, 12, 1),
                       group_by="month", establishment_id=machine.establishment_id)
    # Sundays of October: 3, 10, 17, 24 at 23.5 h and 31 at 24.5 h; November: 7,
    # 14, 21, 28 at 23.5 h.
    assert figures(rows) == [("2027-10", 5.0, 118.5, round(5 / 118.5, 4)),
                             ("2027-11", 1.0, 94.0, round(1 / 94, 4))]


def test_per_purpose(db, spring) -> None:
    rows = utilisation(db, **MARCH, group_by="purpose", establishment_id=spring.trs.id)
    total_open = 206.0 + 93.0
    assert figures(rows) == [
        ("discovery_workshop", 1.5, total_open, round(1.5 / total_open, 4)),
        ("industrial_project", 4.0, total_open, round(4 / total_open, 4)),
        ("maintenance", 2.0, total_open, round(2 / total_open, 4)),
        ("other", 1.0, total_open, round(1 / total_open, 4)),
        ("training", 9.0, total_open, round(9 / total_open, 4)),  # b1 3, b3 2, b6 2, b11 2
    ]


def test_sharing_between_establishments_and_companies(db, spring) -> None:
    rows = utilisation(db, **MARCH, group_by="sharing", establishment_id=spring.trs.id)
    # own: b1 3 + b5 2 + b6 2; other (a trainer of Orléans): b3 2 + b11 2;
    # company: b2 (a company's project, booked by the coordinator) 4 + b4
    # (booked by a company user) 1.5; none: the admin's b12, 1.
    assert [(r.key, r.booked_hours) for r in rows] == [
        ("own", 7.0), ("other", 4.0), ("company", 5.5), ("none", 1.0)]
    assert {r.open_hours for r in rows} == {299.0}
    # On the whole campus, Orléans' own booking of its own machine is "own".
    campus = utilisation(db, **MARCH, group_by="sharing")
    assert [(r.key, r.booked_hours) for r in campus][:3] == [
        ("own", 11.0), ("other", 4.0), ("company", 5.5)]


def test_sharing_lists_the_three_kinds_even_when_empty(db, spring) -> None:
    rows = utilisation(db, first=date(2027, 6, 1), last_excluded=date(2027, 7, 1),
                       group_by="sharing", establishment_id=spring.trs.id)
    assert [(r.key, r.booked_hours) for r in rows] == [("own", 0.0), ("other", 0.0),
                                                       ("company", 0.0)]


def test_per_company_and_per_establishment(db, spring) -> None:
    rows = utilisation(db, **MARCH, group_by="company", establishment_id=spring.trs.id)
    # Sorted by label, as before: "—" (no company) after the names.
    assert [(r.key, r.label, r.booked_hours) for r in rows] == [
        (str(spring.company.id), spring.company.name, 5.5), ("none", "—", 12.0)]
    rows = utilisation(db, **MARCH, group_by="establishment")
    # Orléans: O1 open 22 days * 10 h, b13 4 h.
    assert [(r.key, r.booked_hours, r.open_hours) for r in rows
            if r.key in (str(spring.trs.id), str(spring.orl.id))] == [
        (str(spring.orl.id), 4.0, 220.0), (str(spring.trs.id), 17.5, 299.0)]


def test_split_hours_cuts_intervals_at_each_bound() -> None:
    bounds = [datetime(2027, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    intervals = [(datetime(2026, 12, 31, 20, tzinfo=UTC), datetime(2027, 1, 1, 2, tzinfo=UTC)),
                 (datetime(2027, 1, 1, 22, tzinfo=UTC), datetime(2027, 1, 2, 3, tzinfo=UTC)),
                 (datetime(2027, 1, 2, 23, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC))]
    assert split_hours(intervals, bounds) == [4.0, 4.0]
    assert month_starts(date(2027, 1, 15), date(2027, 3, 2)) == [
        (date(2027, 1, 15), date(2027, 2, 1)), (date(2027, 2, 1), date(2027, 3, 1)),
        (date(2027, 3, 1), date(2027, 3, 2))]


# --- activity ------------------------------------------------------------------------


@pytest.fixture
def certifications(make, spring):
    ctype = make.certification_type()

    def grant(user, at: datetime, until: date, **kw):
        return make.certification(user, ctype, granted_at=at, valid_until=until, **kw)

    far = date(2028, 1, 1)
    # Granted: 1 March 00:30 Paris is in March, 28 February 23:30 Paris is not.
    grant(spring.t1, datetime(2027, 2, 28, 23, 30, tzinfo=UTC), far)
    grant(spring.t1, datetime(2027, 2, 28, 22, 30, tzinfo=UTC), far)
    grant(spring.t2, datetime(2027, 3, 20, 9, tzinfo=UTC), far)  # Orléans
    # Expiring from today (12 January) to 11 February included, not revoked.
    old = datetime(2026, 1, 5, tzinfo=UTC)
    grant(spring.t1, old, date(2027, 2, 11))
    grant(spring.t1, old, date(2027, 1, 12))
    grant(spring.t1, old, date(2027, 2, 12))  # a day too late
    grant(spring.t1, old, date(2027, 1, 11))  # already over
    grant(spring.t1, old, date(2027, 1, 20), revoked_at=old)
    grant(spring.t2, old, date(2027, 1, 30))  # Orléans


def test_activity_of_one_establishment(db, spring, certifications) -> None:
    figures = activity(db, MARCH["first"], MARCH["last_excluded"], spring.trs.id, now=NOW)
    # Started in March on Tours' machines: b1, b2, b6 completed (12 + 8 + 3
    # learners); b3, b4, b5, b12 confirmed; b7 cancelled; b8 expired; b9 pending.
    # b11 started in February, b10 in April, b13 is in Orléans.
    assert (figures.sessions, figures.completed_sessions, figures.learners_trained) == (7, 3, 23)
    assert (figures.cancellations, figures.expired_pending) == (1, 1)
    assert [(t.name, t.sessions, t.completed, t.learners) for t in figures.per_trainer] == [
        ("Claire Dubois", 3, 3, 23), ("Julien Moreau", 1, 0, 0)]
    assert figures.certifications_granted == 1
    assert figures.certifications_expiring == 2
    assert (figures.expiring_from, figures.expiring_until) == (date(2027, 1, 12),
                                                               date(2027, 2, 11))


def test_activity_of_the_whole_campus(db, spring, certifications) -> None:
    figures = activity(db, MARCH["first"], MARCH["last_excluded"], now=NOW)
    assert (figures.sessions, figures.completed_sessions, figures.learners_trained) == (8, 3, 23)
    assert [(t.name, t.sessions) for t in figures.per_trainer] == [
        ("Claire Dubois", 3), ("Julien Moreau", 2)]
    assert (figures.certifications_granted, figures.certifications_expiring) == (2, 3)


def test_activity_without_now_looks_after_the_range(db, spring) -> None:
    figures = activity(db, MARCH["first"], MARCH["last_excluded"], spring.trs.id)
    assert (figures.expiring_from, figures.expiring_until) == (date(2027, 4, 1),
                                                               date(2027, 5, 1))
    empty = activity(db, date(2030, 1, 1), date(2030, 2, 1), now=NOW)
    assert (empty.sessions, empty.learners_trained, empty.per_trainer) == (0, 0, [])


# --- through the API ------------------------------------------------------------------


def test_the_api_answers_the_new_groups(client, spring) -> None:
    from tests.conftest import PASSWORD

    token = client.post("/api/v1/auth/tokens", json={
        "email": spring.coordinator.email, "password": PASSWORD}).get_json()["token"]
    response = client.get(f"/api/v1/reports/utilisation?from=2027-03-01&to=2027-05-01"
                          f"&group_by=month&establishment_id={spring.trs.id}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    # The fields of before, unchanged (issue 14 adds used hours and counts beside them).
    before = ("key", "label", "booked_hours", "open_hours", "rate")
    assert [{k: item[k] for k in before} for item in response.get_json()["items"]] == [
        {"key": "2027-03", "label": "2027-03", "booked_hours": 17.5, "open_hours": 299.0,
         "rate": round(17.5 / 299, 4)},
        {"key": "2027-04", "label": "2027-04", "booked_hours": 4.0, "open_hours": 314.0,
         "rate": round(4 / 314, 4)}]


def test_late_cancellations_are_counted_among_the_cancellations(db, spring) -> None:
    """Issue 13: a cancellation after the machine's deadline (a coordinator's)
    is counted apart, inside the cancellations."""
    figures = activity(db, MARCH["first"], MARCH["last_excluded"], spring.trs.id, now=NOW)
    assert (figures.cancellations, figures.late_cancellations) == (1, 0)
    db.execute(update(Booking).where(Booking.status == BookingStatus.CANCELLED)
               .values(cancelled_late=True))
    figures = activity(db, MARCH["first"], MARCH["last_excluded"], spring.trs.id, now=NOW)
    assert (figures.cancellations, figures.late_cancellations) == (1, 1)
