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

Used against booked (issue 14, docs/reports.md), in the same rows:
- used hours: of a checked-in booking, from its check-in to its check-out or,
  not checked out, to its booked end (to ``now`` while it runs), clipped to
  the booked slot and to the range (an early check-in or a late check-out is
  not booked time); in machine-hours like the booked hours;
- check-in booked hours: the booked hours of bookings concerned by check-in
  (their machine requires it, or they were checked in): the usage rate is
  used over these;
- counts, per booking (on the booked machine, not its components), of the
  bookings whose start falls in the range: bookings made (any status), late
  cancellations, bookings due (confirmed, completed or no-show, concerned by
  check-in, started before ``now``) and no-shows; rates: no-shows over due,
  late cancellations over made;
- group ``user``: the booker, rows for the users ``people`` allows
  (:func:`booking.services.reports.access.people_scope`).
One more statement reads the counts, aggregated by the database.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from booking.services.bookings.occupancy import MAX_SPAN
from booking.services.equipment import hours
from booking.services.errors import N_, ValidationError
from booking.services.policy import CAMPUS_ZONE, FIRST_DAY, LAST_DAY
from booking.services.reports.access import PeopleScope
from models import (
    Booking,
    BookingPurpose,
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
# Groups of the used-against-booked figures; "user" (the booker) needs a
# PeopleScope, and is a group of the API too.
USER_GROUPS = ("user",)
SHARING = ("own", "other", "company", "none")
SHARING_LABELS = {"own": "owner's establishment", "other": "another establishment",
                  "company": "a company", "none": "no establishment"}
COUNTED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
# A booking of a check-in machine in one of these, once started, was due at the machine.
DUE = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
MAX_DAYS = 400


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    booked_hours: float
    open_hours: float
    # Used against booked (issue 14); defaults keep the rows of before.
    used_hours: float = 0.0
    check_in_booked_hours: float = 0.0
    bookings_count: int = 0
    late_cancellation_count: int = 0
    due_count: int = 0
    no_show_count: int = 0

    @property
    def rate(self) -> float | None:
        return round(self.booked_hours / self.open_hours, 4) if self.open_hours else None

    @property
    def usage_rate(self) -> float | None:
        """Used hours over the booked hours concerned by check-in."""
        return (round(self.used_hours / self.check_in_booked_hours, 4)
                if self.check_in_booked_hours else None)

    @property
    def no_show_rate(self) -> float | None:
        return round(self.no_show_count / self.due_count, 4) if self.due_count else None

    @property
    def late_cancellation_rate(self) -> float | None:
        return (round(self.late_cancellation_count / self.bookings_count, 4)
                if self.bookings_count else None)


@dataclass(frozen=True)
class Booked:
    """The part inside the range of one booking on one machine it occupies."""

    machine_id: int
    start: datetime
    end: datetime
    purpose: str
    company: str  # the company's id, "" for none
    sharing: str  # one of SHARING
    booker: str = ""  # the booker's id
    check_in: bool = False  # concerned by check-in: the machine requires it, or checked in
    used: tuple[datetime, datetime] | None = None  # its used part inside the range


@dataclass(frozen=True)
class Counted:
    """Bookings started in the range, of one machine, booker, purpose and month."""

    machine_id: int  # the booked machine
    booker: str
    purpose: str
    company: str
    sharing: str
    month: int  # index of the range's month (:func:`month_starts`)
    made: int
    late: int
    due: int
    no_show: int


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
    counted: list[Counted] = field(default_factory=list)
    people: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # name, establishment

    def open_hours(self, machine_id: int) -> float:
        return _hours(self.opened[machine_id])

    @property
    def month_bounds(self) -> list[datetime]:
        """The instants of each month's first midnight, then the range's end."""
        return [hours.wall_clock(a, time(0), CAMPUS_ZONE)
                for a, _b in month_starts(self.first, self.last_excluded)] + [self.end]


def _used(slot: Interval, checked_in: datetime | None, checked_out: datetime | None,
          now: datetime | None, bounds: Interval) -> Interval | None:
    """The used part of a booking inside its slot and the range: from its
    check-in to its check-out or, not checked out, to its end (``now`` while
    it runs)."""
    if checked_in is None:
        return None
    until = checked_out or (slot[1] if now is None else min(slot[1], now))
    start = max(checked_in, slot[0], bounds[0])
    end = min(until, slot[1], bounds[1])
    return (start, end) if end > start else None


def _load(session: Session, first: date, last_excluded: date,
          establishment_id: int | None, now: datetime | None = None,
          counts: bool = False) -> _Scope:
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
    booked_machine = aliased(Equipment)
    rows = session.execute(
        select(Occupancy.equipment_id, Booking.start_at, Booking.end_at, Booking.purpose,
               Project.company_id, User.company_id, User.establishment_id,
               Booking.booked_by_id, User.name, Booking.checked_in_at,
               Booking.checked_out_at, booked_machine.check_in_required)
        .join(Booking, Booking.id == Occupancy.booking_id)
        .join(User, User.id == Booking.booked_by_id)
        .join(booked_machine, booked_machine.id == Booking.equipment_id)
        .outerjoin(Project, Project.id == Booking.project_id)
        # The status is the occupancy row's copy of the booking's: a condition on
        # booking.status would lead SQLite to read every confirmed booking of
        # the history through the status index instead of the window's rows.
        .where(Occupancy.equipment_id.in_(ids), Occupancy.booking_status.in_(COUNTED),
               Occupancy.starts_at < end, Occupancy.starts_at > start - MAX_SPAN,
               Booking.end_at > start))
    booked = []
    people: dict[str, tuple[str, int | None]] = {}
    for (machine_id, b_start, b_end, purpose, project_company, booker_company, booker_est,
         booker_id, booker_name, checked_in, checked_out, check_in_required) in rows:
        company = project_company or booker_company
        people[str(booker_id)] = (booker_name, booker_est)
        booked.append(Booked(machine_id, max(b_start, start), min(b_end, end), purpose.value,
                             str(company or ""),
                             _sharing(owner[machine_id], booker_est, company),
                             str(booker_id), bool(check_in_required or checked_in),
                             _used((b_start, b_end), checked_in, checked_out, now,
                                   (start, end))))
    scope = _Scope(first, last_excluded, start, end, machines, opened, booked, company_names,
                   people=people)
    if counts:
        scope.counted = _counted(session, scope, ids, owner, now)
    return scope


def _counted(session: Session, scope: _Scope, ids: list[int], owner: dict[int, int],
             now: datetime | None) -> list[Counted]:
    """The bookings started in the range on the machines in scope, counted by
    the database per machine, booker, purpose, company and month: one
    statement, whatever the number of bookings."""
    bounds = scope.month_bounds
    month = (case(*((Booking.start_at < b, i) for i, b in enumerate(bounds[1:-1])),
                  else_=len(bounds) - 2)
             if len(bounds) > 2 else literal(0))
    started = Booking.start_at < (scope.end if now is None else now)
    concerned = or_(Equipment.check_in_required, Booking.checked_in_at.is_not(None),
                    Booking.status == BookingStatus.NO_SHOW)
    # The month and flags are computed in a subquery and grouped outside it:
    # PostgreSQL would not recognise a CASE with parameters in GROUP BY as the
    # selected one.
    inner = (
        select(Booking.equipment_id, Booking.booked_by_id, Booking.purpose,
               Project.company_id.label("project_company"),
               User.company_id.label("booker_company"), User.establishment_id, User.name,
               month.label("month"),
               case((Booking.cancelled_late, 1), else_=0).label("late"),
               case((and_(Booking.status.in_(DUE), started, concerned), 1),
                    else_=0).label("due"),
               case((and_(Booking.status == BookingStatus.NO_SHOW, started), 1),
                    else_=0).label("no_show"))
        .join(Equipment, Equipment.id == Booking.equipment_id)
        .join(User, User.id == Booking.booked_by_id)
        .outerjoin(Project, Project.id == Booking.project_id)
        .where(Booking.equipment_id.in_(ids), Booking.start_at >= scope.start,
               Booking.start_at < scope.end)
        .subquery())
    keys = (inner.c.equipment_id, inner.c.booked_by_id, inner.c.purpose,
            inner.c.project_company, inner.c.booker_company, inner.c.establishment_id,
            inner.c.name, inner.c.month)
    counted = []
    for (machine_id, booker_id, purpose, project_company, booker_company, booker_est, name,
         month_index, made, late, due, no_show) in session.execute(
            select(*keys, func.count(), func.sum(inner.c.late), func.sum(inner.c.due),
                   func.sum(inner.c.no_show)).group_by(*keys)):
        company = project_company or booker_company
        scope.people.setdefault(str(booker_id), (name, booker_est))
        counted.append(Counted(machine_id, str(booker_id), BookingPurpose(purpose).value,
                               str(company or ""),
                               _sharing(owner[machine_id], booker_est, company),
                               int(month_index), int(made), int(late or 0), int(due or 0),
                               int(no_show or 0)))
    return counted


class _Sums:
    """The figures of one report's rows, by key."""

    def __init__(self) -> None:
        self.booked: dict[str, float] = defaultdict(float)
        self.check_in: dict[str, float] = defaultdict(float)
        self.used: dict[str, float] = defaultdict(float)
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def add_piece(self, key: str, piece: Booked) -> None:
        hours_ = _hours([(piece.start, piece.end)])
        self.booked[key] += hours_
        if piece.check_in:
            self.check_in[key] += hours_
        if piece.used is not None:
            self.used[key] += _hours([piece.used])

    def add_count(self, key: str, c: Counted) -> None:
        figures = self.counts[key]
        for i, n in enumerate((c.made, c.late, c.due, c.no_show)):
            figures[i] += n

    def keys(self) -> set[str]:
        return set(self.booked) | set(self.counts)

    def row(self, key: str, label: str, opened: float) -> Row:
        made, late, due, no_show = self.counts.get(key, (0, 0, 0, 0))
        return Row(key, label, round(self.booked.get(key, 0.0), 2), round(opened, 2),
                   used_hours=round(self.used.get(key, 0.0), 2),
                   check_in_booked_hours=round(self.check_in.get(key, 0.0), 2),
                   bookings_count=made, late_cancellation_count=late, due_count=due,
                   no_show_count=no_show)


def _rows(keys: Iterable[str], labels: dict[str, str], sums: _Sums,
          opened: Callable[[str], float]) -> list[Row]:
    return [sums.row(key, labels[key], opened(key)) for key in keys]


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
    sums = _Sums()
    for piece in scope.booked:
        sums.add_piece(key_of[piece.machine_id], piece)
    for c in scope.counted:
        sums.add_count(key_of[c.machine_id], c)
    return _rows(sorted(labels, key=lambda k: labels[k]), labels, sums, open_by.__getitem__)


def _by_kind(scope: _Scope, group_by: str, people: PeopleScope | None = None) -> list[Row]:
    total_open = sum(scope.open_hours(m.id) for m in scope.machines)
    sums = _Sums()
    labels: dict[str, str] = {}

    def key_of(item: Booked | Counted) -> str | None:
        if group_by == "purpose":
            return labels.setdefault(item.purpose, item.purpose)
        if group_by == "company":
            key = item.company or "none"
            labels[key] = (scope.companies.get(int(item.company), key) if item.company
                           else "—")
            return key
        if group_by == "user":
            name, establishment = scope.people[item.booker]
            if people is None or not people.allows(establishment):
                return None
            labels[item.booker] = name
            return item.booker
        return item.sharing

    for piece in scope.booked:
        key = key_of(piece)
        if key is not None:
            sums.add_piece(key, piece)
    for c in scope.counted:
        key = key_of(c)
        if key is not None:
            sums.add_count(key, c)
    if group_by == "sharing":
        # Always the three categories, in this order, so that charts compare.
        keys = [k for k in SHARING if k != "none" or k in sums.booked]
        return _rows(keys, SHARING_LABELS, sums, lambda _k: total_open)
    # A kind has a row when it has booked hours (a booker, or bookings made too).
    keys_with = sums.keys() if group_by == "user" else set(sums.booked)
    return _rows(sorted(keys_with, key=lambda k: (labels[k], k)), labels, sums,
                 lambda _k: total_open)


def _by_month(scope: _Scope) -> list[Row]:
    months = month_starts(scope.first, scope.last_excluded)
    bounds = scope.month_bounds
    open_by = [0.0] * len(months)
    for intervals in scope.opened.values():
        open_by = [a + b for a, b in zip(open_by, split_hours(intervals, bounds), strict=True)]
    keys = [f"{a:%Y-%m}" for a, _b in months]
    sums = _Sums()
    for key, booked, check_in, used in zip(
            keys,
            split_hours(((p.start, p.end) for p in scope.booked), bounds),
            split_hours(((p.start, p.end) for p in scope.booked if p.check_in), bounds),
            split_hours((p.used for p in scope.booked if p.used is not None), bounds),
            strict=True):
        sums.booked[key], sums.check_in[key], sums.used[key] = booked, check_in, used
    for c in scope.counted:
        sums.add_count(keys[c.month], c)
    return [sums.row(key, key, open_by[i]) for i, key in enumerate(keys)]


def check_groups(groups: Iterable[str], *, people: bool = False) -> None:
    allowed = GROUPS + USER_GROUPS if people else GROUPS
    for group_by in groups:
        if group_by not in allowed:
            raise ValidationError(N_("group_by is one of %(groups)s."), {"field": "group_by"},
                                  groups=", ".join(allowed))


def report(session: Session, *, first: date, last_excluded: date, groups: Iterable[str],
           establishment_id: int | None = None, now: datetime | None = None,
           people: PeopleScope | None = None, counts: bool = False) -> dict[str, list[Row]]:
    """The rows of each group, all from one reading of the range.

    ``counts`` adds the bookings' counts (made, late cancellations, due,
    no-shows: one more statement); the ``user`` group needs ``people``, whose
    figures the reader may see one by one. ``now`` ends the used hours of a
    booking still running and the bookings due; without it, every booking of
    the range is taken as past (a report of a past range).
    """
    wanted = list(groups)
    check_groups(wanted, people=people is not None)
    scope = _load(session, first, last_excluded, establishment_id, now,
                  counts=counts or "user" in wanted)
    result = {}
    for group_by in wanted:
        if group_by in ("equipment", "establishment"):
            result[group_by] = _by_machine(scope, group_by)
        elif group_by == "month":
            result[group_by] = _by_month(scope)
        else:
            result[group_by] = _by_kind(scope, group_by, people)
    return result


def utilisation(session: Session, *, first: date, last_excluded: date, group_by: str,
                establishment_id: int | None = None, now: datetime | None = None,
                people: PeopleScope | None = None, counts: bool = False) -> list[Row]:
    return report(session, first=first, last_excluded=last_excluded, groups=[group_by],
                  establishment_id=establishment_id, now=now, people=people,
                  counts=counts)[group_by]
