"""The day and week calendars of a piece of equipment, laid out for the page's grid.

Times are the equipment's local wall-clock times: one row per step from the
earliest opening to the latest closing of the week; each busy period or free
slot becomes a block with its day column, first row and row span.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session, subqueryload

from booking.services.bookings.availability import availability
from booking.services.equipment import hours
from models import Booking, Equipment

# Busy periods that close the machine: drawn beside a booking they overlap.
CLOSING = ("closure", "holiday")


@dataclass(frozen=True)
class Block:
    kind: str  # booking, changeover, closure, holiday, free
    day: int  # 1-based column
    row: int  # 1-based row
    span: int
    start: datetime
    end: datetime
    label: str = ""
    booking: Booking | None = None
    # A free cell: whether a booking of the machine's minimum duration fits from here.
    bookable: bool = False
    # A booking and a closure over the same time: each takes half of the column.
    clash: bool = False


@dataclass
class Week:
    """A run of days (7 for the week view, 1 for the day view)."""

    equipment: Equipment
    monday: date  # the first day shown
    days: list[date]
    times: list[time]
    step: int
    blocks: list[Block] = field(default_factory=list)

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=len(self.days))

    @property
    def following(self) -> date:
        return self.monday + timedelta(days=len(self.days))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def display_step(equipment: Equipment) -> int:
    """A row is the slot, or the smallest multiple of it of at least 30
    minutes: every row then starts on the booking grid."""
    slot = equipment.slot_minutes
    return slot * math.ceil(30 / slot) if slot < 30 else slot


def _day_range(equipment: Equipment) -> tuple[time, time]:
    hours = equipment.opening_hours
    if not hours:
        return time(8), time(18)
    return min(h.opens for h in hours), max(h.closes for h in hours)


def busy_label(reason: str, label: str | None, start: datetime) -> str:
    """A holiday's name in the reader's language; other labels as they come."""
    if reason == "holiday":
        language = "fr" if get_locale().language == "fr" else "en_US"
        return hours.holiday_name(start.date(), language) or label or ""
    return label or ""


def load_bookings(session: Session, ids: set[int],
                  may_see: Callable[[Booking], bool]) -> dict[int, Booking]:
    """The bookings the viewer may read, with what the grid and the detail
    panel show (and the permission rules read) loaded in one statement each."""
    if not ids:
        return {}
    # Not selectinload: it sends one statement per 500 people or machines, and
    # a site's week has thousands of bookings (sites/grid.py). Nor joinedload:
    # each of those rows would carry its people and machine again. A subquery
    # load reads each distinct one once, in one statement per relationship.
    found = session.scalars(select(Booking).where(Booking.id.in_(ids)).options(
        subqueryload(Booking.trainer), subqueryload(Booking.project),
        subqueryload(Booking.booked_by), subqueryload(Booking.equipment)))
    return {b.id: b for b in found if may_see(b)}


def build_week(session: Session, equipment: Equipment, any_day: date, *, now: datetime,
               may_see: Callable[[Booking], bool]) -> Week:
    """``may_see`` says whose booking details the viewer may read; the others
    show as busy periods only."""
    return build_days(session, equipment, monday_of(any_day), 7, now=now, may_see=may_see)


def build_days(session: Session, equipment: Equipment, first_day: date, count: int, *,
               now: datetime, may_see: Callable[[Booking], bool]) -> Week:
    zone = hours.zone_of(equipment)
    days = [first_day + timedelta(days=n) for n in range(count)]
    first, last = _day_range(equipment)
    step = display_step(equipment)
    rows = math.ceil(((last.hour * 60 + last.minute) - (first.hour * 60 + first.minute)) / step)
    base = datetime.combine(first_day, first)
    times = [(base + timedelta(minutes=step * n)).time() for n in range(rows)]
    week = Week(equipment, first_day, days, times, step)
    start = hours.wall_clock(first_day, time(0), zone)
    end = hours.wall_clock(first_day + timedelta(days=count), time(0), zone)
    (result,) = availability(session, [equipment], start, end)
    bookings = load_bookings(session, {b.booking_id for b in result.busy if b.booking_id},
                             may_see)
    for busy in result.busy:
        booking = bookings.get(busy.booking_id) if busy.booking_id else None
        label = busy_label(busy.reason, busy.label, busy.start.astimezone(zone))
        week.blocks.extend(_place(week, zone, busy.start, busy.end, busy.reason, label, booking))
    shortest = timedelta(minutes=max(equipment.min_minutes, step))
    changeover = timedelta(minutes=equipment.changeover_minutes)
    taken = {b.start for b in result.busy if b.reason == "booking"}
    for free_start, free_end in result.free:
        # Before another booking the new one's changeover must fit too.
        needed = shortest + (changeover if free_end in taken else timedelta(0))
        week.blocks.extend(_free_slots(week, zone, max(free_start, now), free_end, needed))
    week.blocks = _mark_clashes(week.blocks)
    return week


def _place(week: Week, zone: Any, start: datetime, end: datetime, kind: str, label: str,
           booking: Booking | None) -> list[Block]:
    """Blocks of [start, end), cut at day boundaries and clipped to the rows."""
    blocks = []
    for index, day in enumerate(week.days, start=1):
        day_start = hours.wall_clock(day, week.times[0], zone) if week.times else None
        if day_start is None:
            break
        day_end = day_start + timedelta(minutes=week.step * len(week.times))
        s, e = max(start, day_start), min(end, day_end)
        if s >= e:
            continue
        row = int((s - day_start).total_seconds() // 60 // week.step) + 1
        last_row = math.ceil((e - day_start).total_seconds() / 60 / week.step)
        blocks.append(Block(kind, index, row, max(1, last_row - row + 1), s, e, label, booking))
    return blocks


def _free_slots(week: Week, zone: Any, start: datetime, end: datetime,
                shortest: timedelta) -> list[Block]:
    """One cell per grid step inside a free interval; a cell is a start to
    offer only when the machine's minimum duration fits before the interval
    ends (17:30 is no start before an 18:00 close when a booking lasts an hour)."""
    slots = []
    for index, day in enumerate(week.days, start=1):
        for row, at in enumerate(week.times, start=1):
            cell = hours.wall_clock(day, at, zone)
            if start <= cell and cell + timedelta(minutes=week.step) <= end:
                slots.append(Block("free", index, row, 1, cell,
                                   cell + timedelta(minutes=week.step),
                                   bookable=cell + shortest <= end))
    return slots


def _mark_clashes(blocks: list[Block]) -> list[Block]:
    def meets(a: Block, b: Block) -> bool:
        return a.day == b.day and a.start < b.end and b.start < a.end

    taken = [b for b in blocks if b.kind == "booking"]
    closing = [b for b in blocks if b.kind in CLOSING]
    clashing = {id(b) for b in taken for c in closing if meets(b, c)}
    clashing |= {id(c) for c in closing for b in taken if meets(b, c)}
    return [replace(b, clash=True) if id(b) in clashing else b for b in blocks]
