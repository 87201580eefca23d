"""Changes to bookings (approve, reject, move, retitle, cancel), recurring series
(expanded in Paris wall-clock time, all or nothing or skipping what fails, changed
occurrence / following / series) and availability, on the services. Every refusal
writes nothing; the helpers are those of test_booking_rules.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.services.bookings.availability import availability
from booking.services.bookings.operations import (
    BookingRequest,
    cancel_booking,
    decide_booking,
    move_booking,
)
from booking.services.bookings.series import (
    SeriesRefused,
    cancel_in_scope,
    create_series,
    move_in_scope,
)
from booking.services.errors import DomainError
from models import AuditEntry, Booking, BookingSeries, BookingStatus, Closure, Role
from tests.conftest import NOW
from tests.test_booking_rules import PARIS, POLICY, WED, at, book, counts, occupied, refused

CANCELLED, CONFIRMED = BookingStatus.CANCELLED, BookingStatus.CONFIRMED


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


def series(db: Session, w: SimpleNamespace, start: datetime, end: datetime, rule: str,
           skip: bool = False, eq: Any = None) -> Any:
    request = BookingRequest((eq or w.eq).id, start, end, "Cours hebdomadaire")
    return create_series(db, actor=w.trainer, request=request, rule=rule, skip_conflicts=skip,
                         now=NOW, policy=POLICY)


def written(db: Session) -> list[int]:
    return [*counts(db), db.scalar(select(func.count()).select_from(BookingSeries))]


def series_refused(db: Session, call: Any, code: str, status: int) -> SeriesRefused:
    """All or nothing: the refusal carries the first failure's code and status, and
    no Booking, Occupancy, AuditEntry or BookingSeries row is written."""
    before = written(db)
    with pytest.raises(SeriesRefused) as caught:
        call()
    assert (caught.value.code, caught.value.status) == (code, status)
    assert written(db) == before
    return caught.value


def local_hours(bookings: list[Booking]) -> list[tuple[int, int]]:
    """(Paris hour, UTC hour) of each start."""
    return [(b.start_at.astimezone(PARIS).hour, b.start_at.astimezone(UTC).hour)
            for b in bookings]


# -- one booking: decisions, moves, retitles, cancellations ---------------------------

@pytest.mark.parametrize("approve", [True, False])
def test_decision_by_the_owning_coordinator(db, make, w, approve):
    eq = make.equipment(establishment=w.est, requires_approval=True)
    pending = book(db, w.trainer, eq, at(9), at(10))
    decide = lambda actor, ok=approve: decide_booking(  # noqa: E731
        db, actor=actor, booking=pending, approve=ok, now=NOW, reason=" ok ")
    for other in (make.user(Role.COORDINATOR), w.trainer):  # another establishment, a trainer
        refused(db, "forbidden", lambda a=other: decide(a))
    decide(w.coord)
    assert (pending.status, pending.decided_by_id, pending.decision_reason, pending.sequence) == (
        CONFIRMED if approve else BookingStatus.REJECTED, w.coord.id, "ok", 1)
    # The message (in French here) names the status by its label; details keep the value.
    error = refused(db, "invalid_state", lambda: decide(w.coord, True),
                    "Confirmée" if approve else "Refusée")
    assert error.details == {"status": pending.status.value}
    again = lambda: book(db, w.coord, eq, at(9), at(10))  # noqa: E731
    if approve:
        refused(db, "conflict", again, pending.id)
    else:  # rejecting frees the slot
        assert again().status is CONFIRMED


JUL7 = date(2027, 7, 7)


@pytest.mark.parametrize(("start", "end", "code"), [
    (at(14, 30), at(15, 30), "conflict"),
    (at(17, 30), at(18, 30), "outside_opening_hours"),
    (at(8, 30, date(2027, 1, 12)), at(9, 30, date(2027, 1, 12)), "in_past"),
    (at(10, 15), at(11, 15), "not_aligned"),
    (at(9, day=date(2027, 5, 6)), at(10, day=date(2027, 5, 6)), "closed"),
    (at(9, day=JUL7), at(10, day=JUL7), "certification_required"),
])
def test_move_rechecks_every_rule(db, make, w, start, end, code):
    ctype = make.certification_type()
    eq = make.equipment(establishment=w.est, required_certification_types=[ctype])
    make.certification(w.trainer, ctype, valid_until=date(2027, 6, 30))
    booking, _ = (book(db, w.trainer, eq, at(h), at(h + 1)) for h in (10, 14))
    before = occupied(db, booking)
    refused(db, code, lambda: move_booking(db, actor=w.trainer, booking=booking, now=NOW,
                                           policy=POLICY, start=start, end=end))
    db.expire_all()
    assert (booking.start_at, booking.end_at, booking.sequence) == (at(10), at(11), 0)
    assert occupied(db, booking) == before


def test_refused_move_does_not_retitle(db, w):
    booking, _ = (book(db, w.trainer, w.eq, at(h), at(h + 1)) for h in (10, 14))
    refused(db, "conflict", lambda: move_booking(db, actor=w.trainer, booking=booking, now=NOW,
                                                 policy=POLICY, start=at(14), end=at(15),
                                                 title="Nouveau titre"))
    db.expire_all()
    assert booking.title == "Séance"


def test_move_and_retitle_raise_the_sequence(db, make, w):
    booking = book(db, w.trainer, w.eq, at(10), at(11))

    def move(actor: Any = w.trainer, **kw: Any) -> Booking:
        return move_booking(db, actor=actor, booking=booking, now=NOW, policy=POLICY, **kw)

    move(start=at(10, 30), end=at(11, 30))  # overlaps only its own old slot
    assert (booking.start_at, booking.sequence) == (at(10, 30), 1)
    assert occupied(db, booking) == {(w.eq.id, at(10, 30), at(11, 30), "confirmed")}
    move(title="Séance déplacée")
    move(title="Séance déplacée", start=at(10, 30))  # no change: the sequence stays
    assert (booking.title, booking.sequence) == ("Séance déplacée", 2)
    assert book(db, w.coord, w.eq, at(10), at(10, 30)).id  # the old slot is free
    refused(db, "validation", lambda: move(title="  "))
    refused(db, "forbidden", lambda: move(make.user(Role.TRAINER), title="Autre"))
    assert db.scalar(select(func.count()).where(
        AuditEntry.object_id == booking.id, AuditEntry.action == "booking.update")) == 2


def test_cancel_keeps_the_row_and_frees_the_slot(db, make, w):
    booking = book(db, w.trainer, w.eq, at(9), at(10))
    refused(db, "forbidden", lambda: cancel_booking(
        db, actor=make.user(Role.TRAINER, establishment=w.est), booking=booking, now=NOW))
    cancel_booking(db, actor=w.trainer, booking=booking, now=NOW, reason=" Grève ")
    db.expire_all()
    row = db.get(Booking, booking.id)
    assert (row.status, row.cancel_reason, row.cancelled_at, row.cancelled_by_id,
            row.sequence) == (CANCELLED, "Grève", NOW, w.trainer.id, 1)
    assert occupied(db, row) == {(w.eq.id, at(9), at(10), "cancelled")}
    assert book(db, w.coord, w.eq, at(9), at(10)).status is CONFIRMED
    refused(db, "invalid_state", lambda: cancel_booking(db, actor=w.trainer, booking=row,
                                                        now=NOW), "Annulée")


def test_moving_an_approved_booking_needs_a_new_decision(db, make, w):
    eq = make.equipment(establishment=w.est, requires_approval=True)
    booking = book(db, w.trainer, eq, at(9), at(10))
    decide_booking(db, actor=w.coord, booking=booking, approve=True, now=NOW)
    move_booking(db, actor=w.trainer, booking=booking, now=NOW, policy=POLICY, start=at(11),
                 end=at(12))
    assert (booking.status, booking.decision_deadline) == (BookingStatus.PENDING, at(11))
    assert occupied(db, booking) == {(eq.id, at(11), at(12), "pending")}


def test_a_trainer_move_rechecks_an_overridden_certification(db, make, w):
    ctype = make.certification_type()
    eq = make.equipment(establishment=w.est, required_certification_types=[ctype])
    make.certification(w.trainer, ctype, valid_until=date(2027, 6, 30))
    booking = book(db, w.coord, eq, at(9), at(10), trainer_id=w.trainer.id,
                   override_reason="Recertification prévue le 1er juillet")
    refused(db, "certification_required", lambda: move_booking(
        db, actor=w.trainer, booking=booking, now=NOW, policy=POLICY,
        start=at(9, day=JUL7), end=at(10, day=JUL7)), ctype.name, "mercredi 30 juin 2027")


# -- creating a series ----------------------------------------------------------------

MAR16 = date(2027, 3, 16)  # a Tuesday before the change to summer time (28 March)


@pytest.mark.parametrize("prefix", ["", "RRULE:", "rrule:"])
def test_weekly_stays_at_nine_in_paris_across_dst(db, w, prefix):
    result = series(db, w, at(9, day=MAR16), at(12, day=MAR16), f"{prefix}FREQ=WEEKLY;COUNT=4")
    assert local_hours(result.created) == [(9, 8), (9, 8), (9, 7), (9, 7)]
    assert [b.start_at.date() for b in result.created] == [
        MAR16 + timedelta(weeks=n) for n in range(4)]
    assert {b.series_id for b in result.created} == {result.series.id}
    assert (result.skipped, result.series.timezone) == ([], "Europe/Paris")


@pytest.mark.parametrize(("until", "count"), [("20270330", 3), ("20270329", 2),
                                              ("20270330T090000", 3), ("20270330T085959", 2)])
def test_local_until_includes_that_day(db, w, until, count):
    result = series(db, w, at(9, day=MAR16), at(12, day=MAR16), f"FREQ=WEEKLY;UNTIL={until}")
    assert len(result.created) == count


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=TU", "RRULE:", "FREQ=SOMETIMES;COUNT=2",
                                  "DTSTART:20270316T090000\nRRULE:FREQ=WEEKLY;COUNT=2"])
def test_unreadable_or_endless_rules_are_refused(db, w, rule):
    before = written(db)
    error = refused(db, "validation", lambda: series(db, w, at(9), at(12), rule))
    assert (error.details, written(db)) == ({"field": "rrule"}, before)


@pytest.fixture
def blocker(db: Session, w: SimpleNamespace) -> Booking:
    """A booking in the third of four Wednesday mornings."""
    return book(db, w.coord, w.eq, at(10, day=WED + timedelta(weeks=2)),
                at(11, day=WED + timedelta(weeks=2)))


WEEKLY4 = "FREQ=WEEKLY;COUNT=4"


def test_series_is_all_or_nothing(db, w, blocker):
    error = series_refused(db, lambda: series(db, w, at(9), at(12), WEEKLY4), "conflict", 409)
    third = at(9, day=WED + timedelta(weeks=2))
    [failed] = error.details["occurrences"]
    assert (datetime.fromisoformat(failed["start"]), failed["error"]) == (third, "conflict")
    assert [c["booking_id"] for c in error.details["conflicts"]] == [blocker.id]
    assert (error.params["failed"], error.params["total"]) == (1, 4)
    assert re.search(rf"mercredi 27 janvier 2027 de 10:00.*\b{blocker.id}\b", error.message), (
        error.message)


def test_skip_conflicts_books_the_others(db, w, blocker):
    result = series(db, w, at(9), at(12), WEEKLY4, skip=True)
    assert [b.start_at for b in result.created] == [
        at(9, day=WED + timedelta(weeks=n)) for n in (0, 1, 3)]
    [skipped] = result.skipped
    assert (skipped.start, skipped.error.code) == (at(9, day=WED + timedelta(weeks=2)),
                                                   "conflict")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "series.create")).one()
    assert (entry.object_id, entry.details["created"], entry.details["skipped"]) == (
        result.series.id, 3, 1)


@pytest.mark.parametrize("skip", [True, False])
def test_a_holiday_week_is_closed(db, w, skip):
    thursday = date(2027, 4, 29)  # then 6 May (Ascension), then 13 May
    call = lambda: series(db, w, at(9, day=thursday), at(12, day=thursday),  # noqa: E731
                          "FREQ=WEEKLY;COUNT=3", skip=skip)
    if not skip:
        error = series_refused(db, call, "closed", 422)
        assert [o["error"] for o in error.details["occurrences"]] == ["closed"]
        return
    result = call()
    assert [b.start_at.date() for b in result.created] == [thursday, date(2027, 5, 13)]
    assert [(s.start.date(), s.error.code) for s in result.skipped] == [
        (date(2027, 5, 6), "closed")]


@pytest.mark.parametrize("skip", [True, False])
def test_occurrences_past_a_certification_expiry(db, make, w, skip):
    ctype = make.certification_type()
    eq = make.equipment(establishment=w.est, required_certification_types=[ctype])
    make.certification(w.trainer, ctype, valid_until=date(2027, 1, 25))
    call = lambda: series(db, w, at(9), at(12), WEEKLY4, skip=skip, eq=eq)  # noqa: E731
    failing = [at(9, day=WED + timedelta(weeks=n)) for n in (2, 3)]
    if skip:
        result = call()
        assert [b.start_at for b in result.created] == [at(9), at(9, day=WED + timedelta(7))]
        assert [(s.start, s.error.code) for s in result.skipped] == [
            (start, "certification_required") for start in failing]
    else:
        error = series_refused(db, call, "certification_required", 403)
        assert [datetime.fromisoformat(o["start"]) for o in error.details["occurrences"]] == (
            failing)


# -- changing a series: occurrence, following, series ---------------------------------

@pytest.fixture
def term(db: Session, w: SimpleNamespace) -> list[Booking]:
    """Four Tuesdays 09:00–12:00 across the change to summer time; the third cancelled."""
    created = series(db, w, at(9, day=MAR16), at(12, day=MAR16), WEEKLY4).created
    cancel_booking(db, actor=w.trainer, booking=created[2], now=NOW, reason="Jury")
    return created


def state(db: Session, bookings: list[Booking]) -> list[tuple[str, int, int, int]]:
    db.expire_all()
    return [(b.status.value, *local_hours([b])[0], b.sequence) for b in bookings]


@pytest.mark.parametrize(("scope", "cancelled"), [
    ("occurrence", {1}), ("following", {1, 3}), ("series", {0, 1, 3})])
def test_cancel_in_scope(db, w, term, scope, cancelled):
    cancel_in_scope(db, actor=w.trainer, booking=term[1], scope=scope, now=NOW, reason="Grève")
    assert {i for i, b in enumerate(term) if b.cancel_reason == "Grève"} == cancelled
    assert (term[2].cancel_reason, term[2].sequence) == ("Jury", 1)  # never touched again
    assert {i for i, b in enumerate(term) if b.status is CONFIRMED} == {0, 1, 3} - cancelled


def test_cancel_in_scope_leaves_the_past_alone(db, w, term):
    later = at(12, day=MAR16 + timedelta(weeks=1))  # the first two have taken place
    cancel_in_scope(db, actor=w.trainer, booking=term[3], scope="series", now=later, reason="x")
    assert [b.status for b in term] == [CONFIRMED, CONFIRMED, CANCELLED, CANCELLED]


@pytest.mark.parametrize(("scope", "moved"), [
    ("occurrence", {1}), ("following", {1, 3}), ("series", {0, 1, 3})])
def test_move_in_scope_shifts_wall_clock_time(db, w, term, scope, moved):
    second = term[1]
    result = move_in_scope(db, actor=w.trainer, booking=second, scope=scope, now=NOW,
                           policy=POLICY, start=second.start_at + timedelta(hours=1),
                           end=second.end_at + timedelta(hours=1))
    assert {term.index(b) for b in result} == moved
    expected = [("confirmed", 10 if i in moved else 9, (10 if i in moved else 9) - offset,
                 int(i in moved)) for i, offset in enumerate((1, 1, 2, 2))]
    expected[2] = ("cancelled", 9, 7, 1)  # the cancelled occurrence keeps its times
    assert state(db, term) == expected
    assert occupied(db, term[2]) == {(w.eq.id, at(9, day=term[2].start_at.date()),
                                      at(12, day=term[2].start_at.date()), "cancelled")}


def test_a_collision_refuses_the_whole_move(db, w, term):
    last = at(12, day=MAR16 + timedelta(weeks=3))
    blocker = book(db, w.coord, w.eq, last, last + timedelta(hours=1))
    before = state(db, term)
    error = series_refused(db, lambda: move_in_scope(
        db, actor=w.trainer, booking=term[0], scope="series", now=NOW, policy=POLICY,
        start=at(10, day=MAR16), end=at(13, day=MAR16)), "conflict", 409)
    assert [(datetime.fromisoformat(o["start"]), o["error"])
            for o in error.details["occurrences"]] == [(last - timedelta(hours=2), "conflict")]
    assert error.details["conflicts"][0]["booking_id"] == blocker.id
    assert state(db, term) == before


# -- availability ---------------------------------------------------------------------

EASTER_MONDAY, TUE, WED31 = date(2027, 3, 29), date(2027, 3, 30), date(2027, 3, 31)


def test_availability_busy_and_free(db, make, w):
    eq = make.equipment(establishment=w.est, changeover_minutes=30)
    held = book(db, w.trainer, eq, at(10, day=TUE), at(11, day=TUE))
    cancel_booking(db, actor=w.trainer, now=NOW,
                   booking=book(db, w.trainer, eq, at(14, day=TUE), at(15, day=TUE)))
    db.add(Closure(equipment_id=eq.id, start_at=at(8, day=WED31), end_at=at(12, day=WED31),
                   reason="Maintenance préventive"))
    db.flush()
    [result] = availability(db, [eq], at(0, day=EASTER_MONDAY), at(0, day=date(2027, 4, 1)))
    assert [(b.start, b.end, b.reason, b.booking_id) for b in result.busy] == [
        (at(0, day=EASTER_MONDAY), at(0, day=TUE), "holiday", None),
        (at(10, day=TUE), at(11, day=TUE), "booking", held.id),
        (at(11, day=TUE), at(11, 30, TUE), "changeover", held.id),
        (at(8, day=WED31), at(12, day=WED31), "closure", None)]
    assert result.busy[-1].label == "Maintenance préventive"
    assert result.free == [(at(8, day=TUE), at(10, day=TUE)), (at(11, 30, TUE), at(18, day=TUE)),
                           (at(12, day=WED31), at(18, day=WED31))]


def test_availability_window_is_at_most_93_days(db, w):
    assert availability(db, [w.eq], at(0), at(0) + timedelta(days=93))
    for end in (at(0) + timedelta(days=93, minutes=30), at(0)):
        with pytest.raises(DomainError) as caught:
            availability(db, [w.eq], at(0), end)
        assert (caught.value.code, caught.value.details) == ("validation", {"field": "to"})


def test_availability_of_a_line_shows_its_components_closures(db, make, w):
    line = make.equipment(establishment=w.est)
    part = make.equipment(establishment=w.est, parent=line)
    db.add(Closure(equipment_id=part.id, start_at=at(8), end_at=at(18), reason="Panne"))
    db.flush()
    refused(db, "closed", lambda: book(db, w.trainer, line, at(9), at(10)), "Panne")
    [result] = availability(db, [line], at(0), at(0, day=WED + timedelta(days=1)))
    assert result.free == []

