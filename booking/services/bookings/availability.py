"""Busy and free periods of equipment over a window.

Busy: bookings that hold the machine (split into the booking itself and its
changeover), closures and public holidays. Free: opening hours minus busy,
not split into slots; none while the machine, its line or a component of it is
not active (in maintenance or retired: booking rule 3 refuses it). Many
machines are answered with one query each for occupancies and closures, not
one per machine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, bindparam, cast, literal, null, or_, select, union_all
from sqlalchemy.orm import Session, selectinload

from booking.services.bookings.occupancy import MAX_SPAN, occupied_equipment, related_equipment
from booking.services.equipment import hours
from booking.services.errors import N_, ValidationError
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    Closure,
    Equipment,
    EquipmentStatus,
    Occupancy,
    UTCDateTime,
)

MAX_WINDOW = timedelta(days=93)


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime
    reason: str  # booking, changeover, closure, holiday
    booking_id: int | None = None
    label: str | None = None


@dataclass
class Availability:
    equipment: Equipment
    busy: list[Busy] = field(default_factory=list)
    free: list[tuple[datetime, datetime]] = field(default_factory=list)


def check_window(start: datetime, end: datetime) -> None:
    if start >= end:
        raise ValidationError(N_("“to” must come after “from”."), {"field": "to"})
    if end - start > MAX_WINDOW:
        raise ValidationError(N_("Ask for at most 93 days at a time."), {"field": "to"})


# Built once: on this hot path, building the expression each call cost as much
# as running it. Only the columns the answer needs; no entity is loaded. The
# occupancy rows and the closures come in one statement (one round trip):
# ``kind`` 0 for a held slot, 1 for a closure, the other's columns NULL.
_HELD = (
    select(literal(0).label("kind"), Occupancy.equipment_id,
           cast(null(), Integer).label("establishment_id"), Booking.id.label("booking_id"),
           Booking.start_at, Booking.end_at, Occupancy.ends_at,
           cast(null(), String).label("reason"), Occupancy.starts_at.label("sort_at"))
    .join(Booking, Booking.id == Occupancy.booking_id)
    .where(Occupancy.equipment_id.in_(bindparam("ids", expanding=True)),
           Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES),
           Occupancy.starts_at < bindparam("end"), Occupancy.starts_at > bindparam("lower"),
           Occupancy.ends_at > bindparam("start"))
)
_CLOSURES = select(
    literal(1), Closure.equipment_id, Closure.establishment_id, cast(null(), Integer),
    Closure.start_at, Closure.end_at, cast(null(), UTCDateTime()), Closure.reason,
    Closure.start_at,
).where(
    or_(Closure.equipment_id.in_(bindparam("ids", expanding=True)),
        Closure.establishment_id.in_(bindparam("establishments", expanding=True))),
    Closure.start_at < bindparam("end"), Closure.end_at > bindparam("start"),
)
HELD_AND_CLOSED = union_all(_HELD, _CLOSURES).order_by("kind", "sort_at")


def availability(session: Session, equipment: Iterable[Equipment], start: datetime,
                 end: datetime) -> list[Availability]:
    check_window(start, end)
    machines = list(equipment)
    # A line is busy when any of its components is (a component's booking
    # writes no row on the line); a closure of a line closes its components.
    occupied = {m.id: {e.id for e in occupied_equipment(m)} for m in machines}
    related = {m.id: {e.id for e in related_equipment(m)} for m in machines}
    ids = sorted(set().union(*related.values())) if machines else []
    params = {"ids": ids, "start": start, "end": end, "lower": start - MAX_SPAN}
    occupancies: dict[int, list[Any]] = defaultdict(list)
    closures = []
    for row in session.execute(HELD_AND_CLOSED, {
            **params, "establishments": sorted({e.establishment_id for e in machines})}):
        if row.kind:
            closures.append(row)
        else:
            occupancies[row.equipment_id].append(row)
    results = []
    for machine in machines:
        held: dict[int, Any] = {}
        for equipment_id in sorted(occupied[machine.id]):
            for row in occupancies[equipment_id]:
                held.setdefault(row.booking_id, row)
        mine = [c for c in closures if c.equipment_id in related[machine.id]
                or c.establishment_id == machine.establishment_id]
        result = _one(machine, list(held.values()), mine, start, end)
        if any(e.status is not EquipmentStatus.ACTIVE for e in related_equipment(machine)):
            result.free = []
        results.append(result)
    return results


def _one(machine: Equipment, held: list[Any], closures: list[Any],
         start: datetime, end: datetime) -> Availability:
    """``held``: rows (booking_id, start_at, end_at, ends_at incl. changeover);
    ``closures``: rows (start_at, end_at, reason)."""
    result = Availability(machine)
    for row in held:
        result.busy.append(Busy(max(row.start_at, start), min(row.end_at, end),
                                "booking", row.booking_id))
        if row.ends_at > row.end_at and row.end_at < end:
            result.busy.append(Busy(max(row.end_at, start), min(row.ends_at, end),
                                    "changeover", row.booking_id))
    for closure in closures:
        result.busy.append(Busy(max(closure.start_at, start), min(closure.end_at, end),
                                "closure", label=closure.reason))
    holidays, open_outside_holidays = _calendar(
        tuple((h.weekday, h.opens, h.closes) for h in machine.opening_hours),
        hours.zone_of(machine), machine.open_on_holidays, start, end,
        # Equal instants in other zones are other keys: the clipped ends keep
        # the caller's zone, as before.
        (start.tzinfo, end.tzinfo))
    # The holidays' entries were built once; bookings and closures are few.
    holes = [(b.start, b.end) for b in result.busy if b.start < b.end]
    result.busy = [b for b in result.busy if b.start < b.end]
    result.busy.extend(holidays)
    result.busy.sort(key=lambda b: (b.start, b.end))
    result.free = hours.subtract(open_outside_holidays, holes) if holes else list(
        open_outside_holidays)
    return result


@lru_cache(maxsize=512)
def _calendar(weekly: tuple[tuple[int, time, time], ...], zone: ZoneInfo,
              open_on_holidays: bool, start: datetime, end: datetime, _zones: Any
              ) -> tuple[tuple[Busy, ...], tuple[tuple[datetime, datetime], ...]]:
    """The part of a machine's availability that only its week, zone and
    window decide: the holidays as busy entries, and the opening intervals
    minus them. Opening hours day by day in local time were most of the
    Python time of availability; machines sharing hours (a site's usually
    do) and repeated windows (a week's view, the booking form) reuse it."""
    shape = SimpleNamespace(
        establishment=SimpleNamespace(timezone=zone.key), open_on_holidays=open_on_holidays,
        opening_hours=[SimpleNamespace(weekday=w, opens=o, closes=c) for w, o, c in weekly])
    holidays = tuple(
        Busy(max(h_start, start), min(h_end, end), "holiday", label=name)
        for h_start, h_end, name in hours.holiday_intervals(shape, start, end)  # type: ignore[arg-type]
        if h_start < end and h_end > start and max(h_start, start) < min(h_end, end))
    opening = hours.opening_intervals(shape, start, end, skip_holidays=False)  # type: ignore[arg-type]
    return holidays, tuple(hours.subtract(opening, [(b.start, b.end) for b in holidays]))


def load_with_hours(session: Session, ids: Iterable[int]) -> list[Equipment]:
    return list(session.scalars(
        select(Equipment).where(Equipment.id.in_(list(ids)))
        .options(selectinload(Equipment.opening_hours), selectinload(Equipment.establishment),
                 selectinload(Equipment.components), selectinload(Equipment.parent))
        .order_by(Equipment.code)
    ))


def next_free_slots(session: Session, equipment: Equipment, *, after: datetime,
                    minutes: int, limit: int = 5, horizon: timedelta = timedelta(days=42)
                    ) -> list[tuple[datetime, datetime]]:
    """The first free periods of ``minutes`` from ``after`` on, on the slot
    grid, inside opening hours and clear of bookings, changeovers, closures and
    holidays (certifications are not considered)."""
    zone = hours.zone_of(equipment)
    step = timedelta(minutes=equipment.slot_minutes)
    length = timedelta(minutes=max(minutes, equipment.min_minutes))
    found: list[tuple[datetime, datetime]] = []
    window_start = after
    while len(found) < limit and window_start < after + horizon:
        window_end = window_start + timedelta(days=14)
        (result,) = availability(session, [equipment], window_start, window_end)
        for free_start, free_end in result.free:
            start = _on_grid(free_start, zone, step)
            if start + length <= free_end:
                found.append((start, start + length))
                if len(found) == limit:
                    break
        window_start = window_end
    return found


def _on_grid(value: datetime, zone: ZoneInfo, step: timedelta) -> datetime:
    """The first instant at or after ``value`` on the local slot grid."""
    local = value.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -((midnight - local) // step)  # ceiling division
    return (midnight + steps * step).astimezone(value.tzinfo)
