"""The month calendar of a piece of equipment: per day, its bookings and how
much of its opening time is still free (one availability() call for the
whole month)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from booking.equipment.week import CLOSING, busy_label, load_bookings, monday_of
from booking.services.bookings.availability import availability
from booking.services.equipment import hours
from models import Booking, Equipment


@dataclass(frozen=True)
class Entry:
    """A booking of the day (``booking`` None when the viewer may not read it)."""

    start: datetime  # local wall-clock time
    end: datetime
    booking: Booking | None


@dataclass
class MonthDay:
    day: date
    in_month: bool
    entries: list[Entry] = field(default_factory=list)
    closures: list[str] = field(default_factory=list)  # reasons, holiday names
    open_minutes: int = 0
    free_minutes: int = 0

    @property
    def state(self) -> str:
        """closed (not open, or closed all its opening time), full, partly or free."""
        if self.open_minutes == 0 or (self.free_minutes == 0 and not self.entries):
            return "closed"
        if self.free_minutes == 0:
            return "full"
        return "free" if self.free_minutes >= self.open_minutes else "partly"


@dataclass
class Month:
    first: date  # the 1st of the month
    weeks: list[list[MonthDay]]

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def following(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def _minutes(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    return sum(int((min(e, end) - max(s, start)).total_seconds() // 60)
               for s, e in intervals if s < end and start < e)


def build_month(session: Session, equipment: Equipment, any_day: date, *,
                may_see: Callable[[Booking], bool]) -> Month:
    zone = hours.zone_of(equipment)
    first = any_day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start_day = monday_of(first)
    end_day = monday_of(following - timedelta(days=1)) + timedelta(days=7)
    days = [start_day + timedelta(days=n) for n in range((end_day - start_day).days)]
    window = (hours.wall_clock(start_day, time(0), zone), hours.wall_clock(end_day, time(0), zone))
    (result,) = availability(session, [equipment], *window)
    bookings = load_bookings(session, {b.booking_id for b in result.busy if b.booking_id},
                             may_see)
    opening = hours.opening_intervals(equipment, *window, skip_holidays=False)
    shown = []
    for day in days:
        day_start = hours.wall_clock(day, time(0), zone)
        day_end = hours.wall_clock(day + timedelta(days=1), time(0), zone)
        cell = MonthDay(day, day.month == first.month,
                        open_minutes=_minutes(opening, day_start, day_end),
                        free_minutes=_minutes(result.free, day_start, day_end))
        for busy in result.busy:
            if not (busy.start < day_end and day_start < busy.end):
                continue
            if busy.reason == "booking":
                cell.entries.append(Entry(busy.start.astimezone(zone), busy.end.astimezone(zone),
                                          bookings.get(busy.booking_id or 0)))
            elif busy.reason in CLOSING:
                label = busy_label(busy.reason, busy.label, max(busy.start, day_start)
                                   .astimezone(zone))
                if label and label not in cell.closures:
                    cell.closures.append(label)
        shown.append(cell)
    return Month(first, [shown[n:n + 7] for n in range(0, len(shown), 7)])
