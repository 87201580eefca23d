"""« Quand puis-je ? »: the ranges of a period where a machine is free and a
trainer certified for it on those days is free too (issue 13, point 3).

A range is a stretch of the machine's free time (availability(): opening
hours, bookings and their changeover, closures, holidays), on its slot grid,
at least ``minutes`` long, with the trainers who may run the whole of it: they
hold every type the machine (and, for a line, each component) requires, by
one certification per type for every day of it (days read in Europe/Paris, as
the booking rule reads them), and no booking of theirs, widened by the travel
from its establishment, meets it. A range is cut where that set of trainers
changes, and where a certification a listed trainer relies on ends even if
another one takes over (a booking must be covered by one certification per
type, so one across the change would be refused).

Who is searched:

- ``trainer_id``: that trainer only; the ranges where they are free and
  certified. A trainer who asks without ``trainer_id`` and without saying
  ``with_trainer`` (true or false) searches for themselves; ``with_trainer=False``
  said aloud is their machine-only search.
- ``with_trainer``: only the ranges where at least one certified trainer is free
  (the coordinator planning a project), listing them.
- neither: the machine's free ranges, with the free certified trainers (maybe none).

A company sees the ranges but never the trainers (they do not see the
trainers' schedules): without ``with_trainer`` its ranges are the machine's
free ranges, uncut; with it, the ranges where some certified trainer is free
throughout, trainer_ids empty. It may not name a trainer (403).

The work is bounded: the period by availability.MAX_WINDOW, the machines by
MAX_MACHINES, and the statements do not grow with the machines or trainers
(machines, trainers, certifications, availability's two, and busy_periods'
per establishment searched).
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.permissions import TRAINING_ROLES, is_company, is_trainer, may_train
from booking.services.bookings.availability import availability, check_window
from booking.services.bookings.rules import required_types
from booking.services.bookings.trainers import busy_periods
from booking.services.equipment import hours
from booking.services.errors import N_, Forbidden, NotFound, ValidationError
from booking.services.policy import CAMPUS_ZONE
from models import (
    Certification,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    User,
)

MAX_MACHINES = 60
Interval = tuple[datetime, datetime]


class SlotRange(NamedTuple):
    """A range (a named tuple: a search makes thousands of them)."""

    equipment: Equipment
    start: datetime  # aware, with the machine's local offset
    end: datetime
    trainer_ids: tuple[int, ...]  # empty for a company reader


@dataclass
class Slots:
    items: list[SlotRange] = field(default_factory=list)
    # False for a company: the trainers are not named (trainer_ids stay empty).
    shows_trainers: bool = True
    trainer_id: int | None = None  # the trainer searched for, when one is


def shows_trainers(actor: User) -> bool:
    """Who may read which trainers are free: everyone but companies (trainers,
    coordinators and admins see every booking; a company sees only its own)."""
    return not is_company(actor)


def find_slots(session: Session, *, actor: User, now: datetime, start: datetime,
               end: datetime, minutes: int, equipment_ids: Sequence[int] | None = None,
               category: EquipmentCategory | None = None, establishment_id: int | None = None,
               trainer_id: int | None = None, with_trainer: bool | None = None) -> Slots:
    """The ranges, earliest first (then by machine code); see the module's docstring."""
    check_window(start, end)
    if minutes < 1:
        raise ValidationError(N_("Give a length of at least one minute."), {"field": "minutes"})
    if equipment_ids and category is not None:
        raise ValidationError(N_("Choose machines or a category, not both."),
                              {"field": "category"})
    if not equipment_ids and category is None and establishment_id is None:
        raise ValidationError(N_("Choose a machine, a category or an establishment."),
                              {"field": "equipment_id"})
    named = shows_trainers(actor)
    if trainer_id is not None and not named:
        raise Forbidden(N_("The trainers' schedules are not shown to companies."))
    if trainer_id is None and with_trainer is None and is_trainer(actor):
        trainer_id = actor.id
    machines = _machines(session, equipment_ids, category, establishment_id, minutes)
    result = Slots(shows_trainers=named, trainer_id=trainer_id)
    begin, end = max(start, now).astimezone(UTC), end.astimezone(UTC)
    if not machines or begin >= end:
        return result
    needs_trainers = named or bool(with_trainer)
    types = {m.id: tuple(t.id for t in required_types(m)) for m in machines}
    certified = (_certified(session, trainer_id, set(types.values()), begin, end)
                 if needs_trainers else {})
    # Machines of one establishment requiring the same types share their trainers'
    # timeline: it is built once per such group, not once per machine.
    groups = {(m.establishment_id, types[m.id]) for m in machines} if needs_trainers else set()
    busy = _busy(session, groups, certified, begin, end)
    timelines = {(place, needed): _timeline(
        {t: _minus(stretches, busy[place].get(t, []))
         for t, stretches in certified[needed].items()}, begin, end)
        for place, needed in groups}
    empty = ([begin], [frozenset()])
    length = timedelta(minutes=minutes)
    must_have_trainer = trainer_id is not None or bool(with_trainer)
    listed: dict[frozenset[int], tuple[int, ...]] = {}
    grids = _Grids(begin, end)
    for free in availability(session, machines, begin, end):
        machine = free.equipment
        zone = hours.zone_of(machine)
        slot = machine.slot_minutes
        taken = {b.start for b in free.busy if b.reason == "booking"}
        changeover = timedelta(minutes=machine.changeover_minutes)
        times, present = timelines.get((machine.establishment_id, types[machine.id]), empty)
        for s, e in free.free:
            # Before another booking, the range's changeover must fit too.
            s, e = max(s, begin), e - changeover if e in taken else e
            if e - s < length:
                continue
            grid = grids.of(s, e, zone, slot)
            i = bisect.bisect_right(times, s) - 1
            while i < len(times) and times[i] < e:
                people = present[i]
                if people or not must_have_trainer:
                    a = grid.up(max(s, times[i]))
                    b = grid.down(min(e, times[i + 1]) if i + 1 < len(times) else e)
                    if b - a >= length:
                        if people not in listed:
                            listed[people] = tuple(sorted(people)) if named else ()
                        result.items.append(SlotRange(machine, a, b, listed[people]))
                i += 1
    # Stable: the machines came in the order of their codes.
    result.items.sort(key=attrgetter("start"))
    return result


def _machines(session: Session, equipment_ids: Sequence[int] | None,
              category: EquipmentCategory | None, establishment_id: int | None,
              minutes: int) -> list[Equipment]:
    """The machines searched, in service and able to take ``minutes``. Named
    machines must exist (404) and allow that length (422 naming ``minutes``);
    those of a category or a site that cannot are left out."""
    stmt = select(Equipment).options(
        selectinload(Equipment.opening_hours), selectinload(Equipment.establishment),
        selectinload(Equipment.parent), selectinload(Equipment.required_certification_types),
        selectinload(Equipment.components).selectinload(Equipment.required_certification_types),
    ).order_by(Equipment.code).limit(MAX_MACHINES + 1)
    if equipment_ids:
        ids = sorted(set(equipment_ids))
        if len(ids) > MAX_MACHINES:
            raise ValidationError(N_("Search at most %(n)d machines at a time."),
                                  {"field": "equipment_id"}, n=MAX_MACHINES)
        stmt = stmt.where(Equipment.id.in_(ids))
    else:
        stmt = stmt.where(Equipment.status == EquipmentStatus.ACTIVE)
    if category is not None:
        stmt = stmt.where(Equipment.category == category)
    if establishment_id is not None:
        stmt = stmt.where(Equipment.establishment_id == establishment_id)
    found = list(session.scalars(stmt))
    if equipment_ids:
        if len(found) < len(set(equipment_ids)):
            raise NotFound(N_("Not found."))
        for machine in found:
            _check_length(machine, minutes)
        return [m for m in found if m.status is EquipmentStatus.ACTIVE]
    if len(found) > MAX_MACHINES:
        raise ValidationError(
            N_("More than %(n)d machines match: choose an establishment or a category."),
            {"field": "establishment_id" if establishment_id is None else "category"},
            n=MAX_MACHINES)
    return [m for m in found if _fits(m, minutes)]


def _fits(machine: Equipment, minutes: int) -> bool:
    return (machine.min_minutes <= minutes <= machine.max_minutes
            and minutes % machine.slot_minutes == 0)


def _check_length(machine: Equipment, minutes: int) -> None:
    if not _fits(machine, minutes):
        raise ValidationError(
            N_("A booking of %(equipment)s lasts from %(min)d to %(max)d minutes, in steps "
               "of %(slot)d minutes: %(minutes)d minutes does not fit."),
            {"field": "minutes", "equipment_id": machine.id, "min_minutes": machine.min_minutes,
             "max_minutes": machine.max_minutes, "slot_minutes": machine.slot_minutes},
            equipment=machine.name, min=machine.min_minutes, max=machine.max_minutes,
            slot=machine.slot_minutes, minutes=minutes)


def _certified(session: Session, trainer_id: int | None, needs: set[tuple[int, ...]],
               start: datetime, end: datetime) -> dict[tuple[int, ...], dict[int, list[Interval]]]:
    """Per set of required types, per trainer (booking.permissions.may_train)
    holding each of them somewhere in [start, end): the stretches one
    certification per type covers. Each stretch stands alone, so a range
    never spans two of them. The candidates are read from the certifications
    (one query); only a machine requiring nothing makes every trainer one."""
    if trainer_id is not None:
        trainer = session.get(User, trainer_id)
        if trainer is None or not may_train(trainer):
            raise ValidationError(N_("Choose an active trainer."), {"field": "trainer_id"})
    wanted = sorted({t for needed in needs for t in needed})
    trainers = select(User.id).where(User.active.is_(True), User.role.in_(TRAINING_ROLES))
    if trainer_id is not None:
        trainers = trainers.where(User.id == trainer_id)
    held: dict[tuple[int, int], list[Interval]] = defaultdict(list)
    if wanted:
        rows = session.execute(select(
            Certification.user_id, Certification.certification_type_id,
            Certification.valid_from, Certification.valid_until).where(
            Certification.user_id.in_(trainers.scalar_subquery()),
            Certification.certification_type_id.in_(wanted),
            Certification.revoked_at.is_(None),
            Certification.valid_until >= start.astimezone(CAMPUS_ZONE).date(),
            Certification.valid_from <= end.astimezone(CAMPUS_ZONE).date()))
        for user_id, type_id, valid_from, valid_until in rows:
            held[user_id, type_id].append(
                (_day_start(valid_from), _day_start(valid_until + timedelta(days=1))))
    everyone = list(session.scalars(trainers)) if () in needs else []
    found: dict[tuple[int, ...], dict[int, list[Interval]]] = {}
    for needed in needs:
        if not needed:
            found[needed] = {t: [(start, end)] for t in everyone}
            continue
        mine: dict[int, list[Interval]] = {}
        for user_id in {u for u, t in held if t == needed[0]}:
            stretches = [(start, end)]
            for type_id in needed:
                stretches = [(max(a, c), min(b, d)) for a, b in stretches
                             for c, d in held.get((user_id, type_id), ())
                             if max(a, c) < min(b, d)]
            if stretches:
                mine[user_id] = sorted(set(stretches))
        found[needed] = mine
    return found


def _day_start(day: date) -> datetime:
    return hours.wall_clock(day, time(0), CAMPUS_ZONE)


def _busy(session: Session, groups: set[tuple[int, tuple[int, ...]]],
          certified: dict[tuple[int, ...], dict[int, list[Interval]]], start: datetime,
          end: datetime) -> dict[int, dict[int, list[Interval]]]:
    """Per establishment searched, per trainer: when they are held there."""
    wanted: dict[int, set[int]] = defaultdict(set)
    for place, needed in groups:
        wanted[place].update(certified[needed])
    found: dict[int, dict[int, list[Interval]]] = {}
    for place, trainer_ids in sorted(wanted.items()):
        periods = busy_periods(session, sorted(trainer_ids), place, start, end)
        found[place] = {t: hours.merge((b.start, b.end) for b in held)
                        for t, held in periods.items() if held}
    return found


def _minus(stretches: list[Interval], holes: list[Interval]) -> list[Interval]:
    """Each stretch minus the (merged, sorted) holes, stretches kept apart."""
    if not holes:
        return stretches
    ends = [e for _, e in holes]
    result = []
    for start, end in stretches:
        cursor = start
        for h_start, h_end in holes[bisect.bisect_right(ends, start):]:
            if h_start >= end:
                break
            if h_start > cursor:
                result.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def _timeline(people: dict[int, list[Interval]], start: datetime, end: datetime
              ) -> tuple[list[datetime], list[frozenset[int]]]:
    """[start, end) cut where the set of present people changes, or where a
    stretch of one who stays present ends (another one takes over): the
    instants where each piece begins, and who is present throughout it."""
    events: list[tuple[datetime, int, int]] = []  # (when, +1 or -1, who)
    for who, stretches in people.items():
        for s, e in stretches:
            events.append((s, 1, who))
            events.append((e, -1, who))
    events.sort(key=itemgetter(0))
    count: dict[int, int] = defaultdict(int)
    i = 0
    while i < len(events) and events[i][0] <= start:
        _apply(count, events[i])
        i += 1
    times, present = [start], [frozenset(count)]
    while i < len(events) and events[i][0] < end:
        when, ended = events[i][0], set()
        while i < len(events) and events[i][0] == when:
            if events[i][1] < 0:
                ended.add(events[i][2])
            _apply(count, events[i])
            i += 1
        now_present = frozenset(count)
        if now_present != present[-1] or ended & now_present:
            times.append(when)
            present.append(now_present)
    return times, present


def _apply(count: dict[int, int], event: tuple[datetime, int, int]) -> None:
    count[event[2]] += event[1]
    if not count[event[2]]:
        del count[event[2]]


class _Grid:
    """A machine's local slot grid (steps of ``slot`` minutes from local
    midnight) over one free interval. Where the zone keeps one offset
    throughout (every interval but one across a change of daylight saving),
    the local time is the UTC time plus that offset: no zone conversion per
    instant, which would cost more than the rest of the search."""

    __slots__ = ("offset", "slot", "tz", "zone")

    def __init__(self, zone: ZoneInfo, slot: int, offset: timedelta | None) -> None:
        self.zone, self.slot, self.offset = zone, slot, offset
        self.tz: Any = zone if offset is None else timezone(offset)

    def up(self, value: datetime) -> datetime:
        """The first grid instant at or after ``value``, with the machine's offset."""
        return self._snap(value, up=True)

    def down(self, value: datetime) -> datetime:
        return self._snap(value, up=False)

    def _snap(self, value: datetime, *, up: bool) -> datetime:
        tz = self.tz
        local = (value.astimezone(tz) if self.offset is None
                 else (value + self.offset).replace(tzinfo=tz))
        into = local.hour * 60 + local.minute
        if not (local.second or local.microsecond) and into % self.slot == 0:
            return local  # most ends are on the grid already (opening hours, bookings)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        step = timedelta(minutes=self.slot)
        steps = -((midnight - local) // step) if up else (local - midnight) // step
        return (midnight + steps * step).astimezone(tz)


class _Grids:
    """The grids of the search, one per zone, slot and offset; for each UTC
    day of the search, the zone's offset when it keeps one all day."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.first = start.date()
        self.days = (end.date() - self.first).days + 1
        self.offsets: dict[ZoneInfo, list[timedelta | None]] = {}
        self.grids: dict[tuple[ZoneInfo, int, timedelta | None], _Grid] = {}

    def _offsets(self, zone: ZoneInfo) -> list[timedelta | None]:
        if zone not in self.offsets:
            marks = [datetime.combine(self.first + timedelta(days=n), time(0), tzinfo=UTC)
                     .astimezone(zone).utcoffset() for n in range(self.days + 1)]
            self.offsets[zone] = [a if a == b else None for a, b in itertools.pairwise(marks)]
        return self.offsets[zone]

    def of(self, start: datetime, end: datetime, zone: ZoneInfo, slot: int) -> _Grid:
        """The grid of an interval (UTC) of the search."""
        if start.tzinfo is not UTC:
            start, end = start.astimezone(UTC), end.astimezone(UTC)
        day = (start.date() - self.first).days
        offset = None
        if (end - timedelta(microseconds=1)).date() == start.date() and 0 <= day < self.days:
            offset = self._offsets(zone)[day]
        key = (zone, slot, offset)
        if key not in self.grids:
            self.grids[key] = _Grid(zone, slot, offset)
        return self.grids[key]
