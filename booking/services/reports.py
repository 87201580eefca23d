"""Utilisation: booked hours against open hours, in machine-hours.

Definitions (docs/reports.md):
- a machine is a piece of equipment; a line booking occupies the line and each
  of its components, so each of them counts its hours;
- booked hours: the part inside the range of confirmed and completed bookings
  (changeover excluded, pending not yet counted);
- open hours: opening hours of each machine over the range, in its local time
  (a daylight-saving day keeps its wall-clock hours), minus closures of the
  machine or its establishment and, unless it opens then, public holidays;
- rate: booked over open, None when nothing was open.
The range is [from, to) of local dates in Europe/Paris.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from booking.services import calendar
from booking.services.errors import N_, ValidationError
from booking.services.occupancy import MAX_SPAN
from models import (
    Booking,
    BookingStatus,
    Closure,
    Company,
    Equipment,
    Establishment,
    Occupancy,
    Project,
    User,
)

GROUPS = ("equipment", "establishment", "purpose", "company")
COUNTED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
MAX_DAYS = 400


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    booked_hours: float
    open_hours: float

    @property
    def rate(self) -> float | None:
        return round(self.booked_hours / self.open_hours, 4) if self.open_hours else None


def _hours(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    return sum((e - s).total_seconds() for s, e in intervals) / 3600


def range_bounds(first: date, last_excluded: date) -> tuple[datetime, datetime]:
    if first >= last_excluded:
        raise ValidationError(N_("“to” must come after “from”."), {"field": "to"})
    if (last_excluded - first).days > MAX_DAYS:
        raise ValidationError(N_("A report covers at most %(n)d days."), {"field": "to"},
                              n=MAX_DAYS)
    zone = calendar.CERTIFICATION_ZONE
    return calendar.wall_clock(first, time(0), zone), calendar.wall_clock(last_excluded,
                                                                           time(0), zone)


def open_hours(machine: Equipment, closures: list[Closure], start: datetime,
               end: datetime) -> float:
    opening = calendar.opening_intervals(machine, start, end, skip_holidays=False)
    holes = [(c.start_at, c.end_at) for c in closures
             if c.equipment_id == machine.id or c.establishment_id == machine.establishment_id]
    holes += [(s, e) for s, e, _ in calendar.holiday_intervals(machine, start, end)]
    return _hours(calendar.subtract(opening, holes))


def utilisation(session: Session, *, first: date, last_excluded: date, group_by: str,
                establishment_id: int | None = None) -> list[Row]:
    if group_by not in GROUPS:
        raise ValidationError(N_("group_by is one of equipment, establishment, purpose, "
                                 "company."), {"field": "group_by"})
    start, end = range_bounds(first, last_excluded)
    stmt = select(Equipment).options(selectinload(Equipment.opening_hours),
                                     selectinload(Equipment.establishment))
    if establishment_id is not None:
        stmt = stmt.where(Equipment.establishment_id == establishment_id)
    machines = list(session.scalars(stmt.order_by(Equipment.code)))
    ids = [m.id for m in machines]
    closures = list(session.scalars(select(Closure).where(
        or_(Closure.equipment_id.in_(ids),
            Closure.establishment_id.in_({m.establishment_id for m in machines})),
        Closure.start_at < end, Closure.end_at > start)))
    opened = {m.id: open_hours(m, closures, start, end) for m in machines}

    booked: dict[tuple[int, str, str], float] = defaultdict(float)
    company_names = {row.id: row.name for row in session.execute(select(Company.id,
                                                                         Company.name))}
    rows = session.execute(
        select(Occupancy.equipment_id, Booking.start_at, Booking.end_at, Booking.purpose,
               Project.company_id, User.company_id)
        .join(Booking, Booking.id == Occupancy.booking_id)
        .join(User, User.id == Booking.booked_by_id)
        .outerjoin(Project, Project.id == Booking.project_id)
        .where(Occupancy.equipment_id.in_(ids), Booking.status.in_(COUNTED),
               Occupancy.starts_at < end, Occupancy.starts_at > start - MAX_SPAN,
               Booking.end_at > start))
    for machine_id, b_start, b_end, purpose, project_company, booker_company in rows:
        hours = _hours([(max(b_start, start), min(b_end, end))])
        company = project_company or booker_company
        booked[(machine_id, purpose.value, str(company or ""))] += hours
    return _group(group_by, machines, opened, booked, company_names)


def _group(group_by: str, machines: list[Equipment], opened: dict[int, float],
           booked: dict[tuple[int, str, str], float], companies: dict[int, str]) -> list[Row]:
    total_open = sum(opened.values())
    sums: dict[str, float] = defaultdict(float)
    labels: dict[str, str] = {}
    open_by: dict[str, float] = defaultdict(float)
    by_id = {m.id: m for m in machines}
    if group_by == "equipment":
        for m in machines:
            labels[str(m.id)] = f"{m.code} — {m.name}"
            open_by[str(m.id)] = opened[m.id]
    elif group_by == "establishment":
        for m in machines:
            est: Establishment = m.establishment
            labels[str(est.id)] = f"{est.code} — {est.name}"
            open_by[str(est.id)] += opened[m.id]
    for (machine_id, purpose, company), hours in booked.items():
        if group_by == "equipment":
            key = str(machine_id)
        elif group_by == "establishment":
            key = str(by_id[machine_id].establishment_id)
        elif group_by == "purpose":
            key = labels.setdefault(purpose, purpose)
        else:
            key = company or "none"
            labels[key] = companies.get(int(company), key) if company else "—"
        sums[key] += hours
    keys = labels.keys() if group_by in ("equipment", "establishment") else sums.keys()
    return [Row(key, labels[key], round(sums[key], 2),
                round(open_by[key] if group_by in ("equipment", "establishment")
                      else total_open, 2))
            for key in sorted(keys, key=lambda k: labels[k])]


def month_starts(first: date, last_excluded: date) -> list[tuple[date, date]]:
    """[first, next month) … pieces of the range, for per-month figures."""
    pieces = []
    cursor = first
    while cursor < last_excluded:
        following = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        pieces.append((cursor, min(following, last_excluded)))
        cursor = following
    return pieces
