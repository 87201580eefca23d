"""The rules a booking must pass (PRODUCT.md), on the services: each rule passes at
its boundary and fails one step past it with its error class, code, details and a
message naming the data; every refusal writes nothing. Decisions, moves and
cancellations are in test_series.py, with the series scopes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.services import errors as err
from booking.services.bookings import rules
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import AuditEntry, Booking, BookingStatus, Closure, Occupancy, Role
from models.enums import EquipmentCategory, EquipmentStatus
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
POLICY = Policy()
WRITTEN = (Booking, Occupancy, AuditEntry)  # a refusal adds none of these
WED = date(2027, 1, 13)  # the day after NOW, in winter (UTC+1)
ERRORS: dict[str, tuple[type[err.DomainError], int]] = {  # code: class, status (API.md)
    "validation": (err.ValidationError, 422), "not_aligned": (err.NotAligned, 422),
    "duration": (err.BadDuration, 422), "in_past": (err.InPast, 422),
    "horizon": (err.BeyondHorizon, 422), "closed": (err.Closed, 422),
    "outside_opening_hours": (err.OutsideOpeningHours, 422),
    "equipment_unavailable": (err.EquipmentUnavailable, 422), "conflict": (err.Conflict, 409),
    "certification_required": (err.CertificationRequired, 403),
    "forbidden": (err.Forbidden, 403), "invalid_state": (err.InvalidState, 409),
}


def at(hour: int, minute: int = 0, day: date = WED) -> datetime:
    """A wall-clock time in Paris."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def w(make: Any) -> SimpleNamespace:
    est = make.establishment()
    return SimpleNamespace(est=est, trainer=make.user(Role.TRAINER, establishment=est),
                           coord=make.user(Role.COORDINATOR, establishment=est),
                           eq=make.equipment(establishment=est))


@pytest.fixture
def line(make: Any, w: SimpleNamespace) -> SimpleNamespace:
    parent = make.equipment(establishment=w.est, category=EquipmentCategory.PILOT_LINE)
    return SimpleNamespace(line=parent, c1=make.equipment(establishment=w.est, parent=parent),
                           c2=make.equipment(establishment=w.est, parent=parent))


def book(db: Session, actor: Any, eq: Any, start: datetime, end: datetime, **kw: Any) -> Booking:
    request = BookingRequest(eq.id, start, end, **{"title": "Séance", **kw})
    return create_booking(db, actor=actor, request=request, now=NOW, policy=POLICY)


def counts(db: Session) -> list[int]:
    return [db.scalar(select(func.count()).select_from(m)) for m in WRITTEN]


def refused(db: Session, code: str, call: Callable[[], Any], *names: object) -> err.DomainError:
    """``call()`` fails with ``code`` (its class and status), writes no Booking,
    Occupancy or AuditEntry row, and its message names each of ``names``."""
    before = counts(db)
    with pytest.raises(err.DomainError) as caught:
        call()
    error = caught.value
    cls, status = ERRORS[code]
    assert (error.code, error.status) == (code, status), error
    assert isinstance(error, cls)
    assert counts(db) == before
    for name in names:
        assert re.search(rf"(?<!\d){re.escape(str(name))}(?!\d)", error.message), (
            name, error.message)
    return error


def occupied(db: Session, booking: Booking) -> set[tuple[int, datetime, datetime, str]]:
    rows = db.scalars(select(Occupancy).where(Occupancy.booking_id == booking.id))
    return {(o.equipment_id, o.starts_at, o.ends_at, o.booking_status.value) for o in rows}


# -- rule 1 and the time limits of rule 2 -------------------------------------------

EQ = "<equipment name>"
TIMES = [  # overrides, start, end, None if accepted else (code, words the message names)
    ({}, at(10), at(9), ("validation", ())), ({}, at(10), at(10), ("validation", ())),
    ({}, at(9, 15), at(10, 15), ("not_aligned", (EQ, "30"))),  # start off the grid
    ({}, at(9), at(9, 45), ("not_aligned", (EQ, "30"))),  # duration off the grid
    ({"slot_minutes": 45, "min_minutes": 45}, at(9, 45), at(10, 30), None),
    ({"slot_minutes": 45, "min_minutes": 45}, at(9, 30), at(10, 15), ("not_aligned", (EQ, "45"))),
    ({"min_minutes": 60}, at(9), at(10), None),
    ({"min_minutes": 60}, at(9), at(9, 30), ("duration", (EQ, "60", "480", "30"))),
    ({"max_minutes": 120}, at(9), at(11), None),
    ({"max_minutes": 120}, at(9), at(11, 30), ("duration", (EQ, "30", "120", "150"))),
    ({}, at(9, day=date(2027, 1, 12)), at(10, day=date(2027, 1, 12)), None),  # starts at NOW
    ({}, at(8, 30, date(2027, 1, 12)), at(9, 30, date(2027, 1, 12)),
     ("in_past", ("mardi 12 janvier 2027 à 08:30",))),  # Babel, in French
    ({}, at(9, day=date(2028, 2, 16)), at(10, day=date(2028, 2, 16)), None),  # NOW + 400 days
    ({}, at(9, 30, date(2028, 2, 16)), at(10, 30, date(2028, 2, 16)),
     ("horizon", ("400", "mercredi 16 février 2028 à 09:30"))),
]


@pytest.mark.parametrize(("overrides", "start", "end", "expected"), TIMES)
def test_times_grid_duration_past_and_horizon(db, make, w, overrides, start, end, expected):
    eq = make.equipment(establishment=w.est, **overrides)
    if expected is None:
        assert book(db, w.trainer, eq, start, end).start_at == start
        return
    code, words = expected
    refused(db, code, lambda: book(db, w.trainer, eq, start, end),
            *(eq.name if word == EQ else word for word in words))


@pytest.mark.parametrize(("kw", "field"), [
    ({"title": "  "}, "title"), ({"participants": -1}, "participants"),
    ({"participants": 13}, "participants"),
])
def test_request_validation(db, make, w, kw, field):
    eq = make.equipment(establishment=w.est, capacity=12)
    error = refused(db, "validation", lambda: book(db, w.trainer, eq, at(9), at(10), **kw))
    assert error.details["field"] == field
    assert book(db, w.trainer, eq, at(9), at(10), participants=12).participants == 12


# -- rule 3: the equipment (and each machine it holds) is active ----------------------

@pytest.mark.parametrize("status", [EquipmentStatus.MAINTENANCE, EquipmentStatus.RETIRED])
@pytest.mark.parametrize("broken", ["line", "c1"])
def test_unavailable_equipment_is_refused_with_its_reason(db, w, line, status, broken):
    machine = getattr(line, broken)
    machine.status, machine.status_reason = status, "Pompe doseuse HS"
    error = refused(db, "equipment_unavailable",
                    lambda: book(db, w.trainer, line.line, at(9), at(10)),
                    machine.name, "Pompe doseuse HS")
    # The status is in the details; the message says it in the campus's language.
    assert error.details == {"equipment_id": machine.id, "status": status.value}
    # A component runs on its line: it is down when the line is, not when a sibling is.
    sibling = lambda: book(db, w.trainer, line.c2, at(9), at(10))  # noqa: E731
    if broken == "line":
        refused(db, "equipment_unavailable", sibling, line.line.name)
    else:
        assert sibling().status is BookingStatus.CONFIRMED


# -- rule 2: opening hours in Paris time, closures, public holidays ------------------

@pytest.mark.parametrize(("monday", "offset"), [(date(2027, 3, 29), 2), (date(2027, 11, 1), 1)])
@pytest.mark.parametrize(("start", "end", "ok"), [(8, 10, True), (7, 9, False),
                                                  (16, 18, True), (17, 19, False)])
def test_opening_hours_in_paris_time_after_each_dst_change(db, make, w, monday, offset,
                                                           start, end, ok):
    # Both Mondays are public holidays (Easter Monday, All Saints): open on them.
    eq = make.equipment(establishment=w.est, open_on_holidays=True)
    begins, ends = at(start, day=monday), at(end, day=monday)
    assert begins.utcoffset() == timedelta(hours=offset)
    if ok:
        booking = book(db, w.trainer, eq, begins, ends)
        assert booking.start_at.astimezone(UTC).hour == start - offset
    else:
        day = {29: "29 mars", 1: "1er novembre"}[monday.day]  # Babel's French, in Paris time
        refused(db, "outside_opening_hours", lambda: book(db, w.trainer, eq, begins, ends),
                eq.name, f"lundi {day} 2027 de {start:02d}:00 à {end:02d}:00", "08:00–18:00",
                "lun.–ven.")


@pytest.mark.parametrize(("hours", "start", "end", "ok"), [
    # Monday 00:00–02:00 in Paris is Sunday 22:00–24:00 UTC: a UTC reading sees Sunday.
    ((0, 12), datetime(2027, 4, 11, 22, tzinfo=UTC), datetime(2027, 4, 12, tzinfo=UTC), True),
    # Friday 09:00–11:00 UTC is 11:00–13:00 in Paris: past the 12:00 closing.
    ((0, 12), datetime(2027, 4, 16, 9, tzinfo=UTC), datetime(2027, 4, 16, 11, tzinfo=UTC), False),
    ((8, 18), datetime(2027, 1, 13, 7, tzinfo=UTC), datetime(2027, 1, 13, 8, tzinfo=UTC), True),
    ((8, 18), datetime(2027, 1, 13, 17, tzinfo=UTC), datetime(2027, 1, 13, 18, tzinfo=UTC), False),
    ((8, 18), at(9, day=date(2027, 1, 16)), at(10, day=date(2027, 1, 16)), False),  # Saturday
])
def test_opening_hours_are_not_read_in_utc(db, make, w, hours, start, end, ok):
    eq = make.equipment(establishment=w.est, hours=(time(hours[0]), time(hours[1])))
    if ok:
        assert book(db, w.trainer, eq, start, end).start_at == start
    else:
        refused(db, "outside_opening_hours", lambda: book(db, w.trainer, eq, start, end),
                eq.name, f"{hours[0]:02d}:00–{hours[1]:02d}:00")


@pytest.mark.parametrize(("booked", "closed", "blocked"), [
    ("eq", "eq", True), ("eq", "est", True), ("eq", "other_eq", False),
    ("eq", "other_est", False), ("line", "c1", True), ("c1", "line", True), ("c1", "c2", False),
])
def test_closures_of_the_equipment_its_establishment_and_its_line(db, make, w, line, booked,
                                                                  closed, blocked):
    targets = {"eq": w.eq, "other_eq": make.equipment(establishment=w.est),
               "line": line.line, "c1": line.c1, "c2": line.c2}
    scope = ({"establishment_id": w.est.id} if closed == "est" else
             {"establishment_id": make.establishment().id} if closed == "other_est" else
             {"equipment_id": targets[closed].id})
    closure = Closure(start_at=at(8), end_at=at(12), reason="Nettoyage annuel", **scope)
    edges = [Closure(start_at=at(s), end_at=at(e), reason="Bord", equipment_id=targets[booked].id)
             for s, e in ((7, 9), (10, 11))]  # touching the booking: no overlap
    db.add_all([closure, *edges])
    db.flush()
    machine = targets[booked]
    if blocked:
        error = refused(db, "closed", lambda: book(db, w.trainer, machine, at(9), at(10)),
                        "Nettoyage annuel", "le mercredi 13 janvier 2027 de 08:00 à 12:00")
        assert [c["closure_id"] for c in error.details["conflicts"]] == [closure.id]
        closure.start_at = at(10)  # now it only touches the booking
        db.flush()
    assert book(db, w.trainer, machine, at(9), at(10)).status is BookingStatus.CONFIRMED


# Easter Monday, Ascension (6 May in 2027, Easter being 28 March), 14 July, All Saints;
# the message (in French here) names the day and the holiday in French.
@pytest.mark.parametrize(("day", "shown", "name"), [
    (date(2027, 3, 29), "lundi 29 mars 2027", "Lundi de Pâques"),
    (date(2027, 5, 6), "jeudi 6 mai 2027", "Ascension"),
    (date(2027, 7, 14), "mercredi 14 juillet 2027", "Fête nationale"),
    (date(2027, 11, 1), "lundi 1er novembre 2027", "Toussaint")])
def test_public_holidays_closed_unless_open_on_holidays(db, make, w, day, shown, name):
    error = refused(db, "closed", lambda: book(db, w.trainer, w.eq, at(9, day=day),
                                               at(10, day=day)), shown, name, w.eq.name)
    assert error.details == {"holiday": day.isoformat()}
    eq = make.equipment(establishment=w.est, open_on_holidays=True)
    assert book(db, w.trainer, eq, at(9, day=day), at(10, day=day)).id


# -- rule 4: no overlap, changeover included; lines and components ------------------

@pytest.mark.parametrize(("slot", "start", "end", "ok"), [
    (30, (11, 30), (12, 30), True),   # exactly at A.end + changeover
    (30, (11, 0), (12, 0), False),    # one slot earlier
    (1, (11, 29), (12, 29), False),   # one minute earlier
    (30, (9, 0), (9, 30), True),      # B's own changeover ends as A starts
    (1, (9, 1), (9, 31), False),      # ... one minute later
    (30, (10, 0), (11, 0), False),    # the same slot
])
def test_changeover_boundaries(db, make, w, slot, start, end, ok):
    eq = make.equipment(establishment=w.est, slot_minutes=slot, changeover_minutes=30)
    first = book(db, w.trainer, eq, at(10), at(11))
    if ok:
        assert book(db, w.coord, eq, at(*start), at(*end)).status is BookingStatus.CONFIRMED
        return
    error = refused(db, "conflict", lambda: book(db, w.coord, eq, at(*start), at(*end)),
                    first.id, eq.name)
    [found] = error.details["conflicts"]
    assert found["booking_id"] == first.id
    assert [datetime.fromisoformat(found[k]) for k in ("start", "end")] == [at(10), at(11)]


def test_the_database_refuses_an_overlap_the_check_missed(db, w, monkeypatch):
    first = book(db, w.trainer, w.eq, at(9), at(10))
    monkeypatch.setattr(rules, "check_conflicts", lambda *args, **kwargs: None)
    error = refused(db, "conflict", lambda: book(db, w.coord, w.eq, at(9, 30), at(10, 30)))
    assert [c["booking_id"] for c in error.details["conflicts"]] == [first.id]


@pytest.mark.parametrize(("first", "second", "blocked"), [
    ("line", "c1", True), ("line", "c2", True), ("c1", "line", True), ("c2", "line", True),
    ("c1", "c2", False), ("c2", "c1", False),
])
def test_lines_and_components_hold_each_other(db, w, line, first, second, blocked):
    held = book(db, w.trainer, getattr(line, first), at(9), at(10))
    if first == "line":
        assert {row[0] for row in occupied(db, held)} == {line.line.id, line.c1.id, line.c2.id}
    call = lambda: book(db, w.coord, getattr(line, second), at(9), at(10))  # noqa: E731
    if blocked:
        error = refused(db, "conflict", call, held.id)
        assert [c["booking_id"] for c in error.details["conflicts"]] == [held.id]
    else:
        assert call().status is BookingStatus.CONFIRMED


# -- rule 5: certifications, valid in Paris for the whole booking --------------------

MAR10 = date(2027, 3, 10)


@pytest.mark.parametrize(("held", "held_until"), [
    ((date(2026, 1, 1), MAR10), "ok"),                    # expires on the booking's day
    ((MAR10, date(2027, 12, 31)), "ok"),                  # starts on the booking's day
    ((date(2026, 1, 1), date(2027, 3, 9)), "2027-03-09"),  # expired the day before (below)
    ((date(2027, 3, 11), date(2027, 12, 31)), None),      # not yet valid
    ("revoked", None),
    (None, None),
])
def test_certification_must_cover_the_booking(db, make, w, held, held_until):
    ctype = make.certification_type(name="Salle blanche BPF")
    eq = make.equipment(establishment=w.est, required_certification_types=[ctype])
    if held == "revoked":
        make.certification(w.trainer, ctype).revoked_at = NOW
    elif held is not None:
        make.certification(w.trainer, ctype, valid_from=held[0], valid_until=held[1])
    call = lambda: book(db, w.trainer, eq, at(9, day=MAR10), at(10, day=MAR10))  # noqa: E731
    if held_until == "ok":
        assert call().trainer_id == w.trainer.id
        return
    shown = {"2027-03-09": "détenue jusqu’au mardi 9 mars 2027"}  # the message in French
    # The trainer books for themselves: the refusal says « vous », not their name.
    names = [ctype.name, ctype.code, eq.name, "il vous manque",
             *([shown[held_until]] if held_until else [])]
    error = refused(db, "certification_required", call, *names)
    assert w.trainer.name not in error.message
    assert error.details["missing"] == [{"id": ctype.id, "code": ctype.code, "name": ctype.name,
                                         "held_until": held_until}]


def test_certification_days_are_paris_days(db, make, w):  # 00:00 Paris is 9 March in UTC
    ctype = make.certification_type()
    eq = make.equipment(establishment=w.est, hours=(time(0), time(12)),
                        required_certification_types=[ctype])
    make.certification(w.trainer, ctype, valid_from=MAR10)
    assert book(db, w.trainer, eq, at(0, day=MAR10), at(1, day=MAR10)).id


def test_line_needs_the_certifications_of_its_components(db, make, w, line):
    held, needed = make.certification_type(code="A-HELD"), make.certification_type(code="B-MISS")
    line.line.required_certification_types = [held]
    line.c1.required_certification_types = [needed]
    make.certification(w.trainer, held)
    error = refused(db, "certification_required",
                    lambda: book(db, w.trainer, line.line, at(9), at(10)), needed.name)
    assert [{k: m[k] for k in ("id", "code", "name")} for m in error.details["missing"]] == [
        {"id": needed.id, "code": "B-MISS", "name": needed.name}]
    assert book(db, w.trainer, line.c2, at(9), at(10)).id  # a sibling does not need it


@pytest.fixture
def uncertified(make: Any, w: SimpleNamespace) -> Any:
    return make.equipment(establishment=w.est,
                          required_certification_types=[make.certification_type()])


def test_coordinator_override_is_audited(db, w, uncertified):
    booking = book(db, w.coord, uncertified, at(9), at(10), trainer_id=w.trainer.id,
                   override_reason="Formateur en cours de recertification")
    assert (booking.status, booking.override_reason) == (
        BookingStatus.CONFIRMED, "Formateur en cours de recertification")
    assert db.execute(select(AuditEntry.actor_id, AuditEntry.reason).where(
        AuditEntry.object_type == "booking", AuditEntry.object_id == booking.id,
        AuditEntry.action == "booking.override_certification")).all() == [
        (w.coord.id, "Formateur en cours de recertification")]


@pytest.mark.parametrize(("who", "reason", "code"), [
    ("coord", None, "certification_required"), ("coord", "   ", "certification_required"),
    ("trainer", "Je suis sûr de moi", "forbidden"),
])
def test_override_needs_a_coordinator_and_a_reason(db, w, uncertified, who, reason, code):
    refused(db, code, lambda: book(db, getattr(w, who), uncertified, at(9), at(10),
                                   trainer_id=w.trainer.id, override_reason=reason))


# -- rule 6: approval ---------------------------------------------------------------

@pytest.mark.parametrize(("who", "approval", "status"), [
    ("trainer", False, "confirmed"), ("trainer", True, "pending"),
    ("outside_trainer", False, "pending"), ("coord", True, "confirmed"),
    ("outside_coord", False, "pending"), ("admin", True, "confirmed"),
])
def test_who_needs_approval(db, make, w, who, approval, status):
    people = {"outside_trainer": make.user(Role.TRAINER, establishment=make.establishment()),
              "outside_coord": make.user(Role.COORDINATOR), "admin": make.user(Role.ADMIN)}
    actor = people.get(who) or getattr(w, who)
    eq = make.equipment(establishment=w.est, requires_approval=approval)
    booking = book(db, actor, eq, at(9), at(10),
                   trainer_id=None if actor.role is Role.TRAINER else w.trainer.id)
    assert booking.status.value == status
    assert (booking.decision_deadline is None) == (status == "confirmed")


@pytest.mark.parametrize(("hours", "day", "deadline"), [
    (72, date(2027, 1, 20), NOW + timedelta(hours=72)),
    (72, WED, at(9)),  # starts before the delay runs out: decided before it starts
    (10, date(2027, 1, 20), NOW + timedelta(hours=10)),
])
def test_decision_deadline(db, make, w, hours, day, deadline):
    eq = make.equipment(establishment=w.est, requires_approval=True,
                        approval_deadline_hours=hours)
    assert book(db, w.trainer, eq, at(9, day=day), at(10, day=day)).decision_deadline == deadline


def test_pending_holds_its_slot(db, make, w):
    eq = make.equipment(establishment=w.est, requires_approval=True)
    pending = book(db, w.trainer, eq, at(9), at(10))
    error = refused(db, "conflict", lambda: book(db, w.coord, eq, at(9), at(10)), pending.id)
    assert error.details["conflicts"][0]["booking_id"] == pending.id
