"""A series' RFC 5545 rule, read and expanded with bounded work.

Occurrences are expanded from the first start as a wall-clock time of the
equipment's zone (a weekly 09:00 stays 09:00 across daylight saving), and only
up to the booking horizon: the first occurrence beyond it is kept, so that it is
told why it cannot be booked, and none after it is looked for.

dateutil searches for the next occurrence without limit: a rule whose BY-parts
match no day (``BYMONTH=2;BYMONTHDAY=30``) runs towards the year 9999, seconds of
CPU for one request, minutes with ``FREQ=SECONDLY``. So what no booking series
needs is refused before any search, and the search itself stops a few months
past the horizon (:class:`_Bounded`).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from booking.services.equipment import hours
from booking.services.errors import N_, Nn_, ValidationError
from booking.services.policy import Policy

# An occurrence lasts as long as the first booking: repeating within a day chains
# bookings of one machine that one longer booking (or BYHOUR on a daily rule)
# says better, and dateutil walks such rules second by second.
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# Bookings start on a grid of minutes; BYSECOND only multiplies the times dateutil
# builds (every second of a day with BYHOUR and BYMINUTE: 86,400).
UNUSED = ("BYSECOND",)
MAX_INTERVAL = 999
# Months searched past the horizon, for the first occurrence beyond it.
MARGIN_MONTHS = 3
FIELD = {"field": "rrule"}


class _Exhausted(Exception):
    """The search for the next occurrence used up its months."""


class _Bounded(rrule):
    """A parsed rule whose search gives up after entering ``months_left`` months.

    dateutil rebuilds its tables each time its search enters a month (a year for
    YEARLY), whether or not a day of it matches, and reads ``_byeaster`` then:
    this property counts those reads. tests/test_bounded_work.py holds the pinned
    dateutil to it (it counts the months entered, and fails on a runaway search).
    """

    months_left: int

    @classmethod
    def of(cls, parsed: rrule, months: int) -> _Bounded:
        parsed.__class__ = cls  # same layout: rrulestr builds only plain rrules
        bounded: _Bounded = parsed  # type: ignore[assignment]
        bounded.months_left = months + 2  # dateutil reads it twice before searching
        return bounded

    @property  # type: ignore[override]
    def _byeaster(self) -> Any:
        self.months_left -= 1
        if self.months_left < 0:
            raise _Exhausted
        return self.__dict__["_byeaster"]

    @_byeaster.setter
    def _byeaster(self, value: Any) -> None:
        self.__dict__["_byeaster"] = value


def _refuse(template: str, **params: Any) -> ValidationError:
    return ValidationError(template, dict(FIELD), **params)


def _until(value: str, first: datetime, horizon_end: datetime) -> str:
    """UNTIL in UTC, as dateutil wants it when the start is aware: a local time
    is read in the equipment's zone, a date as the whole of that local day. One
    past the horizon (and a few months) ends nothing the horizon does not end:
    it is read as a year past it, so the year 9999 west of UTC cannot overflow."""
    try:
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ")  # noqa: DTZ007 (UTC)
            reference = first.astimezone(UTC).replace(tzinfo=None)
            far = horizon_end.astimezone(UTC).replace(tzinfo=None)
        else:
            if "T" in value:
                moment = datetime.strptime(value, "%Y%m%dT%H%M%S")  # noqa: DTZ007 (local)
            else:
                day = datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 (local)
                moment = datetime.combine(day, time(23, 59, 59))
            reference = first.replace(tzinfo=None)
            far = horizon_end.astimezone(first.tzinfo).replace(tzinfo=None)
    except ValueError:
        raise _refuse(N_("UNTIL is not a valid date: %(value)s"), value=value) from None
    if moment < reference:
        raise _refuse(N_("UNTIL must not come before the first booking (%(start)s)."),
                      start=first)
    moment = min(moment, far + timedelta(days=366))
    if not value.endswith("Z"):
        moment = moment.replace(tzinfo=first.tzinfo).astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _normalise(rule: str, first: datetime, horizon_end: datetime) -> str:
    """The rule without its optional ``RRULE:`` prefix, checked part by part,
    with UNTIL in UTC; ValidationError for what no series needs."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or any(c in text for c in ":\r\n") or "DTSTART" in text.upper():
        raise _refuse(N_("Give one RRULE, without DTSTART."))
    parts = [part.partition("=") for part in text.split(";")]
    names = {name.strip().upper() for name, _, _ in parts}
    if "COUNT" not in names and "UNTIL" not in names:
        raise _refuse(N_("A repeating booking needs an end: UNTIL or COUNT."))
    if {"COUNT", "UNTIL"} <= names:
        raise _refuse(N_("Give UNTIL or COUNT, not both."))
    normalised = []
    for name, _, value in parts:
        name, value = name.strip().upper(), value.strip().upper()
        if name == "FREQ" and value not in FREQUENCIES:
            raise _refuse(N_("A series repeats daily, weekly, monthly or yearly "
                             "(FREQ=DAILY, WEEKLY, MONTHLY or YEARLY), not %(freq)s."),
                          freq=value)
        if name in UNUSED:
            raise _refuse(N_("%(part)s has no use in a series of bookings."), part=name)
        if name == "INTERVAL" and not (value.isascii() and value.isdigit()
                                       and 1 <= int(value) <= MAX_INTERVAL):
            raise _refuse(N_("INTERVAL is a whole number from 1 to %(max)d."),
                          max=MAX_INTERVAL)
        if name == "UNTIL":
            value = _until(value, first, horizon_end)
        normalised.append(f"{name}={value}")
    return ";".join(normalised)


def _months(start: datetime, end: datetime) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def expand(rule: str, start: datetime, end: datetime, zone: ZoneInfo, policy: Policy,
           now: datetime) -> list[tuple[datetime, datetime]]:
    """Occurrences (UTC start, UTC end) of ``rule`` from the first booking, up to
    the first one beyond the horizon."""
    first = start.astimezone(zone)
    horizon_end = now + policy.horizon
    text = _normalise(rule, first, horizon_end)
    # From the first booking to the horizon; a first booking long past (its
    # occurrences are refused as past anyway) searches at most twice the horizon.
    months = min(max(_months(first, horizon_end.astimezone(zone)), 0),
                 2 * policy.horizon_days // 28)
    try:
        recurrence = _Bounded.of(rrulestr(text, dtstart=first), months + MARGIN_MONTHS)
    except (ValueError, TypeError):  # dateutil's words are English: ours, translated
        raise _refuse(N_("This RRULE cannot be read: check its parts (FREQ, INTERVAL, "
                         "BYDAY, COUNT or UNTIL).")) from None
    duration = end - start
    occurrences: list[tuple[datetime, datetime]] = []
    try:
        for local in recurrence:
            if len(occurrences) == policy.max_occurrences:
                raise ValidationError(Nn_("A series has at most %(n)d occurrence.",
                                          "A series has at most %(n)d occurrences."),
                                      dict(FIELD), n=policy.max_occurrences)
            if not hours.exists_locally(local, zone):
                raise _refuse(N_("%(time)s does not exist on %(day)s (the clocks change)."),
                              time=local.time(), day=local.date())
            occurrence_start = local.astimezone(UTC)
            occurrences.append((occurrence_start, occurrence_start + duration))
            if occurrence_start > horizon_end:
                break
    except _Exhausted:
        pass  # nothing more up to the horizon
    except ValueError:  # dateutil, on a date it cannot build
        raise _refuse(N_("This RRULE cannot be read: check its parts (FREQ, INTERVAL, "
                         "BYDAY, COUNT or UNTIL).")) from None
    if not occurrences:
        raise _refuse(N_("This rule gives no occurrence up to the booking horizon "
                         "(%(day)s)."), day=horizon_end.astimezone(zone).date())
    return occurrences
