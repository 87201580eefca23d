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

Groups: ``equipment`` and ``establishment`` (their own open hours);
``purpose``, ``company`` and ``sharing`` (booked hours of that kind against
the open hours of every machine in scope); ``month`` (one row per calendar
month of the range, Europe/Paris, even an empty one: bookings and opening
intervals that cross a month's first midnight are split there, exactly).
``sharing`` says who used the machine: ``own`` (the booker belongs to the
machine's establishment), ``other`` (to another establishment), ``company``
(the booking is for a company's project, or a company user booked it), and
``none`` (a booker attached to no establishment; listed only when it has hours).

All groups of one report come from the same rows (:func:`report`): the open
hours are computed once per machine, and the booked part reads only the
range's occupancy rows through the (equipment_id, starts_at) index.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from booking.services.bookings.occupancy import MAX_SPAN
from booking.services.equipment import hours
from booking.services.errors import N_, ValidationError
from booking.services.policy import CAMPUS_ZONE, FIRST_DAY, LAST_DAY
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

GROUPS = ("equipment", "establishment", "purpose", "company", "month", "sharing")
SHARING = ("own", "other", "company", "none")
SHARING_LABELS = {"own": "owner's establishment", "other": "another establishment",
                  "company": "a company", "none": "no establishment"}
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


@dataclass(frozen=True)
class Booked:
    """The part inside the range of one booking on one machine it occupies."""

    machine_id: int
    start: datetime
    end: datetime
    purpose: str
    company: str  # the company's id, "" for none
    sharing: str  # one of SHARING


def _hours(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    return sum((e - s).total_seconds() for s, e in intervals) / 3600


def check_range(first: date, last_excluded: date) -> None:
    """The one rule of a report's range, for the pages, the CSV and the API:
    supported years, "to" after "from", at most MAX_DAYS days."""
    if not (FIRST_DAY <= first <= LAST_DAY and FIRST_DAY <= last_excluded <= LAST_DAY):
        raise ValidationError(N_("Choose dates between %(first)s and %(last)s."),
                              {"fields": ["from", "to"]}, first=FIRST_DAY.year,
                              last=LAST_DAY.year)
    if first >= last_excluded:
        raise ValidationError(N_("“to” must come after “from”."), {"field": "to"})
    if (last_excluded - first).days > MAX_DAYS:
        raise ValidationError(N_("A report covers at most %(n)d days."), {"field": "to"},
                              n=MAX_DAYS)


def range_bounds(first: date, last_excluded: date) -> tuple[datetime, datetime]:
    check_range(first, last_excluded)
    zone = CAMPUS_ZONE
    return hours.wall_clock(first, time(0), zone), hours.wall_clock(last_excluded,
                                                                           time(0), zone)


Interval = tuple[datetime, datetime]


def open_intervals(machine: Equipment, closures: list[Closure], start: datetime,
                   end: datetime, cache: dict[tuple[object, ...], list[Interval]] | None = None
                   ) -> list[Interval]:
    """Opening hours minus closures and holidays. Machines with the same week
    and zone share their opening and holiday intervals through ``cache`` (most
    of a campus opens Monday to Friday 08:00–18:00)."""
    cache = {} if cache is None else cache
    zone = hours.zone_of(machine).key
    week = (zone, *((h.weekday, h.opens, h.closes) for h in machine.opening_hours))
    if week not in cache:
        cache[week] = hours.opening_intervals(machine, start, end, skip_holidays=False)
    if (zone, machine.open_on_holidays) not in cache:
        cache[(zone, machine.open_on_holidays)] = [
            (s, e) for s, e, _ in hours.holiday_intervals(machine, start, end)]
    holes = [(c.start_at, c.end_at) for c in closures
             if c.equipment_id == machine.id or c.establishment_id == machine.establishment_id]
    return hours.subtract(cache[week], holes + cache[(zone, machine.open_on_holidays)])


def open_hours(machine: Equipment, closures: list[Closure], start: datetime,
               end: datetime) -> float:
    return _hours(open_intervals(machine, closures, start, end))


def month_starts(first: date, last_excluded: date) -> list[tuple[date, date]]:
    """[first, next month) … pieces of the range, for per-month figures."""
    pieces = []
    cursor = first
    while cursor < last_excluded:
        following = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        pieces.append((cursor, min(following, last_excluded)))
        cursor = following
    return pieces


def split_hours(intervals: Iterable[tuple[datetime, datetime]],
                bounds: Sequence[datetime]) -> list[float]:
    """Hours of ``intervals`` inside each [bounds[i], bounds[i + 1]); an
    interval across a bound is cut there."""
    seconds = [0.0] * (len(bounds) - 1)
    for start, end in intervals:
        i = max(bisect_right(bounds, start) - 1, 0)
        start = max(start, bounds[0])
        while start < end and i < len(seconds):
            piece_end = min(end, bounds[i + 1])
            if piece_end > start:
                seconds[i] += (piece_end - start).total_seconds()
            start, i = max(start, piece_end), i + 1
    return [s / 3600 for s in seconds]


def _sharing(owner: int, booker_establishment: int | None, company: int | None) -> str:
    if company is not None:
        return "company"
    if booker_establishment is None:
        return "none"
    return "own" if booker_establishment == owner else "other"


@dataclass
class _Scope:
    first: date
    last_excluded: date
    start: datetime
    end: datetime
    machines: list[Equipment]
    opened: dict[int, list[Interval]]
    booked: list[Booked]
    companies: dict[int, str]

    def open_hours(self, machine_id: int) -> float:
        return _hours(self.opened[machine_id])


def _load(session: Session, first: date, last_excluded: date,
          establishment_id: int | None) -> _Scope:
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
    cache: dict[tuple[object, ...], list[Interval]] = {}
    opened = {m.id: open_intervals(m, closures, start, end, cache) for m in machines}
    owner = {m.id: m.establishment_id for m in machines}
    company_names = {row.id: row.name for row in session.execute(select(Company.id,
                                                                         Company.name))}
    rows = session.execute(
        select(Occupancy.equipment_id, Booking.start_at, Booking.end_at, Booking.purpose,
               Project.company_id, User.company_id, User.establishment_id)
        .join(Booking, Booking.id == Occupancy.booking_id)
        .join(User, User.id == Booking.booked_by_id)
        .outerjoin(Project, Project.id == Booking.project_id)
        # The status is the occupancy row's copy of the booking's: a condition on
        # booking.status would lead SQLite to read every confirmed booking of
        # the history through the status index instead of the window's rows.
        .where(Occupancy.equipment_id.in_(ids), Occupancy.booking_status.in_(COUNTED),
               Occupancy.starts_at < end, Occupancy.starts_at > start - MAX_SPAN,
               Booking.end_at > start))
    booked = []
    for machine_id, b_start, b_end, purpose, project_company, booker_company, booker_est in rows:
        company = project_company or booker_company
        booked.append(Booked(machine_id, max(b_start, start), min(b_end, end), purpose.value,
                             str(company or ""),
                             _sharing(owner[machine_id], booker_est, company)))
    return _Scope(first, last_excluded, start, end, machines, opened, booked, company_names)


def _rows(keys: Iterable[str], labels: dict[str, str], booked: dict[str, float],
          opened: Callable[[str], float]) -> list[Row]:
    return [Row(key, labels[key], round(booked.get(key, 0.0), 2), round(opened(key), 2))
            for key in keys]


def _by_machine(scope: _Scope, group_by: str) -> list[Row]:
    labels: dict[str, str] = {}
    open_by: dict[str, float] = defaultdict(float)
    key_of: dict[int, str] = {}
    for m in scope.machines:
        if group_by == "equipment":
            key, label = str(m.id), f"{m.code} — {m.name}"
        else:
            est: Establishment = m.establishment
            key, label = str(est.id), f"{est.code} — {est.name}"
        key_of[m.id] = key
        labels[key] = label
        open_by[key] += scope.open_hours(m.id)
    sums: dict[str, float] = defaultdict(float)
    for piece in scope.booked:
        sums[key_of[piece.machine_id]] += _hours([(piece.start, piece.end)])
    return _rows(sorted(labels, key=lambda k: labels[k]), labels, sums, open_by.__getitem__)


def _by_kind(scope: _Scope, group_by: str) -> list[Row]:
    total_open = sum(scope.open_hours(m.id) for m in scope.machines)
    sums: dict[str, float] = defaultdict(float)
    labels: dict[str, str] = {}
    for piece in scope.booked:
        if group_by == "purpose":
            key = labels.setdefault(piece.purpose, piece.purpose)
        elif group_by == "company":
            key = piece.company or "none"
            labels[key] = (scope.companies.get(int(piece.company), key) if piece.company
                           else "—")
        else:
            key = piece.sharing
        sums[key] += _hours([(piece.start, piece.end)])
    if group_by == "sharing":
        # Always the three categories, in this order, so that charts compare.
        keys = [k for k in SHARING if k != "none" or k in sums]
        return _rows(keys, SHARING_LABELS, sums, lambda _k: total_open)
    return _rows(sorted(sums, key=lambda k: labels[k]), labels, sums, lambda _k: total_open)


def _by_month(scope: _Scope) -> list[Row]:
    zone = CAMPUS_ZONE
    months = month_starts(scope.first, scope.last_excluded)
    bounds = [hours.wall_clock(a, time(0), zone) for a, _b in months] + [scope.end]
    open_by = [0.0] * len(months)
    for intervals in scope.opened.values():
        open_by = [a + b for a, b in zip(open_by, split_hours(intervals, bounds), strict=True)]
    booked = split_hours(((p.start, p.end) for p in scope.booked), bounds)
    keys = [f"{a:%Y-%m}" for a, _b in months]
    return [Row(key, key, round(booked[i], 2), round(open_by[i], 2))
            for i, key in enumerate(keys)]


def report(session: Session, *, first: date, last_excluded: date, groups: Iterable[str],
           establishment_id: int | None = None) -> dict[str, list[Row]]:
    """The rows of each group, all from one reading of the range."""
    wanted = list(groups)
    for group_by in wanted:
        if group_by not in GROUPS:
            raise ValidationError(N_("group_by is one of %(groups)s."), {"field": "group_by"},
                                  groups=", ".join(GROUPS))
    scope = _load(session, first, last_excluded, establishment_id)
    result = {}
    for group_by in wanted:
        if group_by in ("equipment", "establishment"):
            result[group_by] = _by_machine(scope, group_by)
        elif group_by == "month":
            result[group_by] = _by_month(scope)
        else:
            result[group_by] = _by_kind(scope, group_by)
    return result


def utilisation(session: Session, *, first: date, last_excluded: date, group_by: str,
                establishment_id: int | None = None) -> list[Row]:
    return report(session, first=first, last_excluded=last_excluded, groups=[group_by],
                  establishment_id=establishment_id)[group_by]
