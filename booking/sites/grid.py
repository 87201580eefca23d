"""The calendar of a whole establishment, laid out for its two pages.

Day: one row per machine (a pilot line followed by its components), one
column per time step of the day; each busy period becomes an item with its
first column and column span, each free step a cell that can be booked.
Week: one row per machine, one cell per day listing its bookings and
closures. Busy periods come from one availability() call for all machines;
times are the establishment's wall-clock times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, subqueryload

from booking.equipment.week import display_step, load_bookings, monday_of
from booking.services.bookings.availability import Availability, availability
from booking.services.equipment import hours
from booking.services.policy import CAMPUS_ZONE
from models import Booking, Equipment, EquipmentStatus, Establishment

DEFAULT_DAY = (time(8), time(18))


@dataclass(frozen=True)
class Row:
    equipment: Equipment
    component: bool  # shown indented under its line


@dataclass(frozen=True)
class Item:
    """A busy period of one machine: a booking (``booking`` None when the
    viewer may not read it), its changeover, a closure or a public holiday."""

    kind: str
    start: datetime  # local wall-clock time, aware
    end: datetime
    label: str = ""
    booking: Booking | None = None
    col: int = 1  # day view only: 1-based first column and column span
    span: int = 1
    clash: bool = False  # a booking and a closure over the same time, each half drawn

    @property
    def whole_day(self) -> bool:
        return (self.start.time() == time(0) and self.end.time() == time(0)
                and self.end.date() > self.start.date())


@dataclass(frozen=True)
class Cell:
    """A background step of a machine's row in the day view."""

    col: int
    start: datetime  # local
    state: str  # free (bookable), short (free, no start), off (outside opening hours), past, busy
    end: datetime | None = None


@dataclass(frozen=True)
class Head:
    col: int
    span: int
    label: str


@dataclass
class DayGrid:
    day: date
    rows: list[Row]
    times: list[time]
    step: int
    heads: list[Head]
    items: dict[int, list[Item]] = field(default_factory=dict)
    cells: dict[int, list[Cell]] = field(default_factory=dict)
    # Per column (0-based): its start and end as "HH:MM". Every row shares
    # them, so the page formats them once, not once per cell.
    labels: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class WeekGrid:
    monday: date
    days: list[date]
    rows: list[Row]
    # (equipment id, 0-based day) -> items of that local day
    cells: dict[tuple[int, int], list[Item]] = field(default_factory=dict)
    open_days: dict[int, set[int]] = field(default_factory=dict)  # weekdays it opens

    @cached_property
    def shown(self) -> list[tuple[int, date]]:
        """The days worth a column: those when a machine opens or something
        happens (a weekend when the whole site is shut is left out). Cached:
        the page reads it on every row, and it goes through every cell."""
        opens = set().union(*self.open_days.values()) if self.open_days else set()
        busy = {index for _machine, index in self.cells}
        days = [(n, d) for n, d in enumerate(self.days) if d.weekday() in opens or n in busy]
        return days or list(enumerate(self.days))


def zone_of_site(establishment: Establishment) -> ZoneInfo:
    try:
        return ZoneInfo(establishment.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return CAMPUS_ZONE


def machines_of(session: Session, establishment: Establishment) -> list[Row]:
    """Every machine of the establishment still in service (active or under
    maintenance), each pilot line followed by its components; a component
    whose line is not listed stands on its own."""
    machines = list(session.scalars(
        select(Equipment).where(Equipment.establishment_id == establishment.id,
                                Equipment.status != EquipmentStatus.RETIRED)
        # availability() reads each machine's components and line: loaded here,
        # in one statement each, rather than one per machine. Not selectinload:
        # it sends one statement per 500 machines, and a region's site has more.
        .options(subqueryload(Equipment.opening_hours), joinedload(Equipment.establishment),
                 subqueryload(Equipment.components), joinedload(Equipment.parent))
        .order_by(Equipment.name, Equipment.code)))
    ids = {m.id for m in machines}
    children: dict[int, list[Equipment]] = {}
    for machine in machines:
        if machine.parent_id in ids:
            children.setdefault(machine.parent_id, []).append(machine)
    rows = []
    for machine in machines:
        if machine.parent_id in ids:
            continue
        rows.append(Row(machine, component=False))
        rows.extend(Row(c, component=True)
                    for c in sorted(children.get(machine.id, []), key=lambda c: c.code))
    return rows


def _bookings(session: Session, results: Iterable[Availability],
              may_see: Callable[[Booking], bool]) -> dict[int, Booking]:
    # With what the grid, the detail panel and the rules read, loaded once.
    return load_bookings(session, {b.booking_id for r in results for b in r.busy
                                   if b.booking_id}, may_see)


def _items(result: Availability, bookings: dict[int, Booking], zone: ZoneInfo) -> list[Item]:
    return [Item(busy.reason, busy.start.astimezone(zone), busy.end.astimezone(zone),
                 _label(busy, zone), bookings.get(busy.booking_id) if busy.booking_id else None)
            for busy in result.busy]


def _label(busy: Any, zone: ZoneInfo) -> str:
    """A holiday's name in the reader's language; other labels as they come."""
    if busy.reason == "holiday":
        language = "fr" if get_locale().language == "fr" else "en_US"
        return hours.holiday_name(busy.start.astimezone(zone).date(), language) or busy.label
    return busy.label or ""


def _day_range(machines: list[Equipment], weekday: int) -> tuple[time, time]:
    """From the earliest opening to the latest closing of that weekday (or, on
    a day when nothing opens, of the whole week)."""
    hours = [h for m in machines for h in m.opening_hours]
    today = [h for h in hours if h.weekday == weekday] or hours
    if not today:
        return DEFAULT_DAY
    return min(h.opens for h in today), max(h.closes for h in today)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _heads(times: list[time], step: int) -> list[Head]:
    """Column headers: one per hour when the step divides an hour, so the
    labels stay readable; else one per step."""
    if 60 % step:
        return [Head(n, 1, t.strftime("%H:%M")) for n, t in enumerate(times, start=1)]
    starts = [n for n, t in enumerate(times, start=1) if n == 1 or t.minute == 0]
    bounds = [*starts, len(times) + 1]
    return [Head(s, bounds[i + 1] - s, times[s - 1].strftime("%H:%M"))
            for i, s in enumerate(starts)]


def build_day(session: Session, establishment: Establishment, day: date, *, now: datetime,
              may_see: Callable[[Booking], bool]) -> DayGrid:
    zone = zone_of_site(establishment)
    rows = machines_of(session, establishment)
    machines = [r.equipment for r in rows]
    first, last = _day_range(machines, day.weekday())
    step = min((display_step(m) for m in machines), default=30)
    count = max(1, math.ceil((_minutes(last) - _minutes(first)) / step))
    base = datetime.combine(day, first)
    times = [(base + timedelta(minutes=step * n)).time() for n in range(count)]
    grid = DayGrid(day, rows, times, step, _heads(times, step))
    if not machines:
        return grid
    window = (hours.wall_clock(day, time(0), zone),
              hours.wall_clock(day + timedelta(days=1), time(0), zone))
    results = availability(session, machines, *window)
    bookings = _bookings(session, results, may_see)
    starts = [datetime.combine(day, t, tzinfo=zone) for t in times]
    grid_end = starts[0] + timedelta(minutes=step * count)
    grid.labels = [(at.strftime("%H:%M"), (at + timedelta(minutes=step)).strftime("%H:%M"))
                   for at in starts]
    for result in results:
        machine = result.equipment
        placed = []
        for item in _items(result, bookings, zone):
            s, e = max(item.start, starts[0]), min(item.end, grid_end)
            if s >= e:
                continue
            col = int((s - starts[0]).total_seconds() // 60 // step) + 1
            last_col = math.ceil((e - starts[0]).total_seconds() / 60 / step)
            placed.append(Item(item.kind, item.start, item.end, item.label, item.booking,
                               col, max(1, last_col - col + 1)))
        grid.items[machine.id] = _mark_clashes(placed)
        # Read once per machine, not once per cell.
        taken = {b.start for b in result.busy if b.reason == "booking"}
        grid.cells[machine.id] = [
            Cell(n, at, _state(machine, result, taken, at, step, now),
                 at + timedelta(minutes=step))
            for n, at in enumerate(starts, start=1)]
    return grid


def _state(machine: Equipment, result: Availability, taken: set[datetime], at: datetime,
           step: int, now: datetime) -> str:
    end = at + timedelta(minutes=step)
    shortest = timedelta(minutes=max(machine.min_minutes, step))
    for s, e in result.free:
        if s <= at and end <= e:
            on_grid = _minutes(at.time()) % machine.slot_minutes == 0
            if at < now or not on_grid:
                return "past"
            # A start only when the machine's minimum duration fits before e.
            # Before another booking the new one's changeover must fit too.
            changeover = machine.changeover_minutes if e in taken else 0
            return "free" if at + shortest + timedelta(minutes=changeover) <= e else "short"
    if any(s < end and at < e for s, e in result.free) or any(
            b.start < end and at < b.end for b in result.busy):
        return "busy"
    return "off"


def _mark_clashes(items: list[Item]) -> list[Item]:
    bookings = [i for i in items if i.kind == "booking"]
    closing = [i for i in items if i.kind in ("closure", "holiday")]

    def clashes(item: Item) -> bool:
        others = closing if item.kind == "booking" else bookings if item in closing else []
        return any(item.start < o.end and o.start < item.end for o in others)

    return [replace(i, clash=True) if clashes(i) else i for i in items]


def build_week(session: Session, establishment: Establishment, any_day: date, *,
               may_see: Callable[[Booking], bool]) -> WeekGrid:
    zone = zone_of_site(establishment)
    monday = monday_of(any_day)
    days = [monday + timedelta(days=n) for n in range(7)]
    rows = machines_of(session, establishment)
    machines = [r.equipment for r in rows]
    grid = WeekGrid(monday, days, rows)
    grid.open_days = {m.id: {h.weekday for h in m.opening_hours} for m in machines}
    if not machines:
        return grid
    results = availability(session, machines, hours.wall_clock(monday, time(0), zone),
                           hours.wall_clock(monday + timedelta(days=7), time(0), zone))
    bookings = _bookings(session, results, may_see)
    # Each day's bounds, computed once for every item of every machine.
    bounds = [(index, datetime.combine(day, time(0), tzinfo=zone),
               datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))
              for index, day in enumerate(days)]
    for result in results:
        for item in _items(result, bookings, zone):
            if item.kind == "changeover":
                continue  # the day view shows it; here it would only add noise
            for index, day_start, day_end in bounds:
                if item.start < day_end and day_start < item.end:
                    grid.cells.setdefault((result.equipment.id, index), []).append(
                        Item(item.kind, max(item.start, day_start), min(item.end, day_end),
                             item.label, item.booking))
    return grid
