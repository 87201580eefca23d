"""Local time: opening hours, public holidays and closures of a piece of equipment.

Opening hours are wall-clock times of the equipment's zone; each day's
interval is converted to UTC on its own, so a day of a daylight-saving change
keeps its 08:00–18:00 (and simply has 23 or 25 hours in all).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from booking.services.policy import CAMPUS_ZONE
from models import Closure, Equipment

Interval = tuple[datetime, datetime]


def zone_of(equipment: Equipment) -> ZoneInfo:
    try:
        return ZoneInfo(equipment.establishment.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return CAMPUS_ZONE


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """Every local date that [start, end) touches."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time: the one conversion of the times
    typed in the pages (and of the demo's), so each page reads them alike."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def exists_locally(value: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time skipped by a daylight-saving change."""
    local = value.replace(tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == value.replace(
        tzinfo=None
    )


@lru_cache(maxsize=64)
def _french_holidays(year: int, language: str | None = None) -> dict[date, str]:
    return dict(holidays.France(years=year, language=language))


def holiday_name(day: date, language: str | None = None) -> str | None:
    """The holiday's name, in ``language`` ("fr" or "en_US") when given."""
    return _french_holidays(day.year, language).get(day)


def holidays_between(first: date, last: date) -> list[tuple[date, str]]:
    found = []
    for year in range(first.year, last.year + 1):
        for day, name in sorted(_french_holidays(year).items()):
            if first <= day <= last:
                found.append((day, name))
    return found


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with touching or overlapping intervals joined."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def subtract(intervals: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """``intervals`` minus ``holes``; both may be unsorted."""
    result = []
    holes = merge(holes)
    for start, end in merge(intervals):
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]


def opening_intervals(equipment: Equipment, start: datetime, end: datetime, *,
                      skip_holidays: bool) -> list[Interval]:
    """Opening intervals (UTC, merged) that meet [start, end)."""
    zone = zone_of(equipment)
    by_weekday: dict[int, list[tuple[time, time]]] = {}
    for hours in equipment.opening_hours:
        by_weekday.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    intervals = []
    for day in _days_around(start, end, zone):
        if skip_holidays and holiday_name(day) is not None:
            continue
        for opens, closes in by_weekday.get(day.weekday(), ()):
            intervals.append((wall_clock(day, opens, zone), wall_clock(day, closes, zone)))
    return clip(merge(intervals), start, end)


def _days_around(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def holiday_intervals(equipment: Equipment, start: datetime, end: datetime) -> list[
        tuple[datetime, datetime, str]]:
    """Whole local days of French public holidays in [start, end), unless the
    equipment opens on holidays."""
    if equipment.open_on_holidays:
        return []
    zone = zone_of(equipment)
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    return [
        (wall_clock(day, time(0), zone), wall_clock(day + timedelta(days=1), time(0), zone), name)
        for day, name in holidays_between(first, last)
    ]


def closures_meeting(session: Session, equipment_ids: Iterable[int], establishment_id: int,
                     start: datetime, end: datetime) -> list[Closure]:
    """Closures of these machines or of their establishment that meet [start, end)."""
    ids = list(equipment_ids)
    return list(session.scalars(
        select(Closure)
        .where(
            or_(Closure.establishment_id == establishment_id, Closure.equipment_id.in_(ids)),
            Closure.start_at < end,
            Closure.end_at > start,
        )
        .order_by(Closure.start_at)
    ))
