"""Bounded work per request (issue 10): a recurrence rule is searched up to the
booking horizon and never beyond, whatever its BY-parts; rules no booking series
needs (finer than daily, INTERVAL out of range, COUNT with UNTIL, an UNTIL before
the first booking or out of the calendar) are refused before any search. The
work is counted in months dateutil enters (its ``_iterinfo.rebuild``), never timed."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from dateutil import rrule as dateutil_rrule
from flask import Flask
from sqlalchemy.orm import Session

from booking.services.bookings.operations import BookingRequest
from booking.services.bookings.series import create_series
from booking.services.policy import Policy
from models import Role
from tests.conftest import NOW, csrf_token_of
from tests.test_booking_rules import POLICY, at, counts, refused

# From January 2027 to the horizon in February 2028, 3 months past it to see the
# horizon pass, and the first month entered; the next one is refused. Before the
# fix: until the year 9999 (96,000 months for a daily rule, ~9 s).
MONTHS_FOR_THE_HORIZON = 1 + 13 + 3 + 1


class Runaway(Exception):
    """The search went on far past the horizon (before the fix: towards 9999)."""


@pytest.fixture
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def w(make: Any) -> SimpleNamespace:
    est = make.establishment()
    return SimpleNamespace(trainer=make.user(Role.TRAINER, establishment=est),
                           eq=make.equipment(establishment=est))


def _hanging(signum: int, frame: Any) -> None:
    raise Runaway("no answer after a minute")


@pytest.fixture
def months(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of months dateutil entered, in a one-item list; a runaway search
    is stopped (and fails the test) rather than left running for seconds. The
    alarm only guards against a hang (INTERVAL=0 loops on one day): never an
    assertion on time."""
    entered = [0]
    rebuild = dateutil_rrule._iterinfo.rebuild

    def counting(self: Any, year: int, month: int) -> None:
        entered[0] += 1
        if entered[0] > 1000:
            raise Runaway(f"still searching in {year}-{month:02d}")
        rebuild(self, year, month)

    monkeypatch.setattr(dateutil_rrule._iterinfo, "rebuild", counting)
    previous = signal.signal(signal.SIGALRM, _hanging)
    signal.alarm(60)
    try:
        yield entered
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def series(db: Session, w: SimpleNamespace, rule: str, *, skip: bool = False,
           policy: Policy = POLICY) -> Any:
    request = BookingRequest(w.eq.id, at(9), at(12), "Cours")
    return create_series(db, actor=w.trainer, request=request, rule=rule, skip_conflicts=skip,
                         now=NOW, policy=policy)


@pytest.mark.usefixtures("_app_context")
@pytest.mark.parametrize("rule", [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1",  # the probe's rule, daily
    "FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31;COUNT=1",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1",
    "FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1;COUNT=1",
    "FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=1",  # from a Wednesday: never a Tuesday
    "FREQ=MONTHLY;INTERVAL=12;BYMONTH=2;UNTIL=20991231",  # from January: never February
])
def test_rule_matching_no_day_is_refused_at_the_horizon(db, w, months, rule):
    error = refused(db, "validation", lambda: series(db, w, rule), "16 février 2028")
    assert error.details == {"field": "rrule"}
    assert months[0] <= MONTHS_FOR_THE_HORIZON


@pytest.mark.usefixtures("_app_context")
@pytest.mark.parametrize(("rule", "says"), [
    ("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", "SECONDLY"),  # the probe's own rule
    ("FREQ=MINUTELY;BYHOUR=9;COUNT=2", "MINUTELY"),
    ("FREQ=HOURLY;COUNT=2", "HOURLY"),
    ("FREQ=DAILY;COUNT=2;BYSECOND=0,30", "BYSECOND"),
    ("FREQ=DAILY;INTERVAL=0;BYDAY=TU;COUNT=2", "INTERVAL"),  # dateutil: an endless loop
    ("FREQ=DAILY;INTERVAL=-1;COUNT=3", "INTERVAL"),  # dateutil: an error while iterating
    ("FREQ=DAILY;INTERVAL=1000;COUNT=3", "INTERVAL"),
    ("FREQ=DAILY;INTERVAL=x;COUNT=3", "INTERVAL"),
    ("FREQ=WEEKLY;COUNT=2;UNTIL=20270301", "COUNT"),
    ("FREQ=WEEKLY;UNTIL=00010101T000000", "UNTIL"),  # was a 500 (overflow)
    ("FREQ=WEEKLY;UNTIL=00010101T000000Z", "UNTIL"),
    ("FREQ=WEEKLY;UNTIL=20270112", "UNTIL"),  # the day before the first booking
    ("FREQ=WEEKLY;UNTIL=20270113T075959Z", "UNTIL"),  # 09:00 in Paris is 08:00 UTC
    ("FREQ=WEEKLY;UNTIL=20270113T085959", "UNTIL"),
    ("FREQ=WEEKLY;UNTIL=2027", "UNTIL"),
    ("FREQ=WEEKLY;COUNT=2;EXDATE:20270120T090000", "RRULE"),
])
def test_rule_parts_out_of_bounds_are_refused_before_any_search(db, w, months, rule, says):
    error = refused(db, "validation", lambda: series(db, w, rule), says)
    assert (error.details, months[0]) == ({"field": "rrule"}, 0)


@pytest.mark.usefixtures("_app_context")
def test_series_stops_at_the_first_occurrence_beyond_the_horizon(db, w, months):
    """Wednesdays 9:00 from 13 January; the horizon (30 days from NOW, 12 January
    08:00 UTC) ends on 11 February: five are booked, the sixth is told why not, and
    none after it is expanded."""
    before = counts(db)
    result = series(db, w, "FREQ=WEEKLY;COUNT=300", skip=True, policy=Policy(horizon_days=30))
    assert [b.start_at for b in result.created] == [at(9) + timedelta(weeks=n) for n in range(5)]
    assert [(s.start, s.error.code) for s in result.skipped] == [
        (at(9) + timedelta(weeks=5), "horizon")]
    assert counts(db)[0] == before[0] + 5
    assert months[0] <= 3


@pytest.mark.usefixtures("_app_context")
def test_until_on_the_first_day_gives_that_occurrence(db, w):
    result = series(db, w, "FREQ=WEEKLY;UNTIL=20270113T080000Z")
    assert [b.start_at for b in result.created] == [at(9)]


@pytest.mark.parametrize(("rule", "says"), [
    ("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", "SECONDLY"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", "16 février 2028"),
    ("FREQ=WEEKLY;UNTIL=00010101T000000", "UNTIL"),  # was a 500
])
def test_the_form_preview_puts_the_refusal_next_to_the_rule(client, login, now, w, months,
                                                            rule, says):
    login(w.trainer)
    token = csrf_token_of(client.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True))
    answer = client.post("/bookings/new", data={
        "csrf_token": token, "equipment": w.eq.id, "day": "2027-01-13", "start": "09:00",
        "end": "12:00", "title": "Cours", "purpose": "training", "repeat": "custom",
        "rrule": rule, "preview": "1"})
    assert answer.status_code == 200
    assert says in answer.get_data(as_text=True)
    assert months[0] <= MONTHS_FOR_THE_HORIZON
