"""The week calendar of a piece of equipment, laid out for the page's grid.

Times are the equipment's local wall-clock times: one row per step from the
earliest opening to the latest closing of the week; each busy period or free
slot becomes a block with its day column, first row and row span.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.services.bookings.availability import availability
from booking.services.equipment import hours
from models import Booking, Equipment


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


@dataclass
class Week:
    equipment: Equipment
    monday: date
    days: list[date]
    times: list[time]
    step: int
    blocks: list[Block] = field(default_factory=list)

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def following(self) -> date:
        return self.monday + timedelta(days=7)


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


def build_week(session: Session, equipment: Equipment, any_day: date, *, now: datetime,
               may_see: Callable[[Booking], bool]) -> Week:
    """``may_see`` says whose booking details the viewer may read; the others
    show as busy periods only."""
    zone = hours.zone_of(equipment)
    monday = monday_of(any_day)
    days = [monday + timedelta(days=n) for n in range(7)]
    first, last = _day_range(equipment)
    step = display_step(equipment)
    rows = math.ceil(((last.hour * 60 + last.minute) - (first.hour * 60 + first.minute)) / step)
    base = datetime.combine(monday, first)
    times = [(base + timedelta(minutes=step * n)).time() for n in range(rows)]
    week = Week(equipment, monday, days, times, step)
    start = hours.wall_clock(monday, time(0), zone)
    end = hours.wall_clock(monday + timedelta(days=7), time(0), zone)
    (result,) = availability(session, [equipment], start, end)
    ids = {b.booking_id for b in result.busy if b.booking_id}
    bookings = {b.id: b for b in session.scalars(select(Booking).where(Booking.id.in_(ids)))
                if may_see(b)} if ids else {}
    for busy in result.busy:
        booking = bookings.get(busy.booking_id) if busy.booking_id else None
        week.blocks.extend(_place(week, zone, busy.start, busy.end, busy.reason,
                                  busy.label or "", booking))
    for free_start, free_end in result.free:
        week.blocks.extend(_free_slots(week, zone, max(free_start, now), free_end))
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


def _free_slots(week: Week, zone: Any, start: datetime, end: datetime) -> list[Block]:
    """One clickable cell per grid step inside a free interval."""
    slots = []
    for index, day in enumerate(week.days, start=1):
        for row, at in enumerate(week.times, start=1):
            cell = hours.wall_clock(day, at, zone)
            if start <= cell and cell + timedelta(minutes=week.step) <= end:
                slots.append(Block("free", index, row, 1, cell,
                                   cell + timedelta(minutes=week.step)))
    return slots
