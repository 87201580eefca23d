"""The periods a quota counts in, and how its hours and periods are written.

Periods are read in the campus's zone (Europe/Paris) whatever the machine's:
a week runs Monday to Sunday, a month is the calendar month, a school year
runs from 1 September to 31 August. A booking counts in the period that
contains its start, for its whole length.

Hours are written by one helper everywhere (messages, pages, reports):
« 12 h 30 » in French, "12.5 h" in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel import Locale
from babel.numbers import format_decimal

from booking.labels import format_day, format_pattern
from booking.services.policy import CAMPUS_ZONE
from models import QuotaPeriod

# The school year begins on this month's first day.
SCHOOL_YEAR_MONTH = 9
NBSP = "\u00a0"


def _midnight(day: date) -> datetime:
    """The first instant of a Paris day (midnight always exists in Paris)."""
    return datetime(day.year, day.month, day.day, tzinfo=CAMPUS_ZONE)


def first_day(period: QuotaPeriod, day: date) -> date:
    """The first day of the period of ``period`` that contains ``day``."""
    if period is QuotaPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period is QuotaPeriod.MONTH:
        return day.replace(day=1)
    year = day.year if day.month >= SCHOOL_YEAR_MONTH else day.year - 1
    return date(year, SCHOOL_YEAR_MONTH, 1)


def next_first_day(period: QuotaPeriod, first: date) -> date:
    """The first day of the period after the one beginning on ``first``."""
    if period is QuotaPeriod.WEEK:
        return first + timedelta(days=7)
    if period is QuotaPeriod.MONTH:
        return date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date(first.year + 1, SCHOOL_YEAR_MONTH, 1)


@dataclass(frozen=True)
class Window:
    """One period of a quota: [start, end) as aware instants (Paris midnights)."""

    period: QuotaPeriod
    first: date  # its first day (Paris)

    @classmethod
    def containing(cls, period: QuotaPeriod, instant: datetime) -> Window:
        return cls(period, first_day(period, instant.astimezone(CAMPUS_ZONE).date()))

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(next_first_day(self.period, self.first))

    @property
    def last(self) -> date:
        """Its last day (Paris), inclusive."""
        return next_first_day(self.period, self.first) - timedelta(days=1)

    def holds(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def shown_in(self, locale: Locale) -> str:
        """As a message parameter: « dans la semaine du lundi 30 novembre 2026 »,
        « en décembre 2026 », « pendant l’année scolaire 2026-2027 »."""
        return _phrase(self, locale)


def _phrase(window: Window, locale: Locale | str) -> str:
    from flask import has_app_context
    from flask_babel import force_locale, pgettext

    locale = Locale.parse(locale)
    day = format_day(window.first, locale)
    month = format_pattern(window.first, "MMMM y", locale)
    first, last = str(window.first.year), str(window.first.year + 1)
    if not has_app_context():
        return {QuotaPeriod.WEEK: f"in the week of {day}", QuotaPeriod.MONTH: f"in {month}",
                QuotaPeriod.SCHOOL_YEAR: f"in the school year {first}–{last}"}[window.period]
    with force_locale(locale):
        if window.period is QuotaPeriod.WEEK:
            return pgettext("quota period", "in the week of %(day)s", day=day)
        if window.period is QuotaPeriod.MONTH:
            return pgettext("quota period", "in %(month)s", month=month)
        return pgettext("quota period", "in the school year %(first)s–%(last)s",
                        first=first, last=last)


def format_hours(minutes: int, locale: Locale | str) -> str:
    """« 12 h 30 », « 12 h » in French; "12.5 h", "12 h" in English."""
    locale = Locale.parse(locale)
    if locale.language == "fr":
        hours, rest = divmod(minutes, 60)
        return f"{hours}{NBSP}h{NBSP}{rest:02d}" if rest else f"{hours}{NBSP}h"
    return f"{format_decimal(minutes / 60, '#,##0.##', locale=locale)}{NBSP}h"


@dataclass(frozen=True)
class Hours:
    """Minutes as a message parameter, written by :func:`format_hours`."""

    minutes: int

    def shown_in(self, locale: Locale) -> str:
        return format_hours(self.minutes, locale)


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (bookings are aligned to minutes)."""
    return int((end - start).total_seconds() // 60)
