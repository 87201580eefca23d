"""The trainer is a resource: a booking holds its trainer from start to end,
plus the travel time when the trainer's other booking is at another
establishment. Bookings of one group (one request, several machines) share
their trainer; bookings without a trainer hold nobody.

The check here names the other booking in the refusal; the database's guard
(migration 0010: exclusion constraint and trigger on PostgreSQL, triggers on
SQLite) has the last word under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, contains_eager

from booking.labels import Period
from booking.permissions import may
from booking.services.bookings.occupancy import MAX_SPAN
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_, Nn_, TrainerBusy
from booking.services.sharing.travel import TravelTable
from models import MAX_TRAVEL_MINUTES, SLOT_HOLDING_STATUSES, Booking, Equipment, User

MAX_TRAVEL = timedelta(minutes=MAX_TRAVEL_MINUTES)


@dataclass(frozen=True)
class TrainerClash:
    booking: Booking
    travel_minutes: int
    # The two bookings themselves meet (else only the travel between them does).
    overlaps: bool


def _holding_near(trainer_ids: Iterable[int], start: datetime, end: datetime) -> tuple:
    """The trainers' slot-holding bookings that could meet [start, end) once the
    longest travel is added, bounded so (trainer_id, start_at) is read narrowly."""
    return (Booking.trainer_id.in_(list(trainer_ids)),
            Booking.status.in_(SLOT_HOLDING_STATUSES),
            Booking.start_at < end + MAX_TRAVEL,
            Booking.start_at > start - MAX_SPAN - MAX_TRAVEL,
            Booking.end_at > start - MAX_TRAVEL)


def _near(session: Session, trainer_ids: Iterable[int], start: datetime, end: datetime, *,
          group_id: str | None = None,
          exclude_booking_ids: Iterable[int] = ()) -> list[Booking]:
    """The trainers' slot-holding bookings that could meet [start, end) once
    the longest travel is added, read through (trainer_id, start_at)."""
    stmt = (
        select(Booking).join(Booking.equipment).options(contains_eager(Booking.equipment))
        .where(*_holding_near(trainer_ids, start, end))
        .order_by(Booking.start_at, Booking.id))
    excluded = list(exclude_booking_ids)
    if excluded:
        stmt = stmt.where(Booking.id.not_in(excluded))
    if group_id is not None:
        stmt = stmt.where(or_(Booking.group_id.is_(None), Booking.group_id != group_id))
    return list(session.scalars(stmt))


def trainer_clashes(session: Session, trainer_id: int, equipment: Equipment, start: datetime,
                    end: datetime, *, group_id: str | None = None,
                    exclude_booking_ids: Iterable[int] = ()) -> list[TrainerClash]:
    """The trainer's bookings that a booking of ``equipment`` from ``start`` to
    ``end`` would meet, travel time included."""
    near = _near(session, [trainer_id], start, end, group_id=group_id,
                 exclude_booking_ids=exclude_booking_ids)
    if not near:
        return []
    table = TravelTable(session, equipment.establishment_id,
                        [b.equipment.establishment_id for b in near])
    found = []
    for other in near:
        travel = timedelta(minutes=table.to(other.equipment.establishment_id))
        if other.start_at < end + travel and start < other.end_at + travel:
            found.append(TrainerClash(other, int(travel.total_seconds() // 60),
                                      other.start_at < end and start < other.end_at))
    # A booking at the same time says more than one a trip away: named first.
    found.sort(key=lambda clash: (not clash.overlaps, clash.booking.start_at))
    return found


@dataclass(frozen=True)
class Busy:
    """A stretch a trainer cannot start or end a booking in at one place."""

    trainer_id: int
    start: datetime
    end: datetime


def busy_periods(session: Session, trainer_ids: Iterable[int], establishment_id: int,
                 start: datetime, end: datetime) -> dict[int, list[Busy]]:
    """For planning (the slot search): per trainer, the periods they are held
    at a machine of ``establishment_id``, each other booking widened by the
    travel between its establishment and that one. Two queries."""
    ids = list(trainer_ids)
    found: dict[int, list[Busy]] = {i: [] for i in ids}
    if not ids:
        return found
    # Columns, not entities: a planning search reads every trainer's bookings
    # of four weeks, and building objects was most of its cost.
    rows = session.execute(
        select(Booking.trainer_id, Booking.start_at, Booking.end_at, Equipment.establishment_id)
        .join(Equipment, Equipment.id == Booking.equipment_id)
        .where(*_holding_near(ids, start, end))).all()
    table = TravelTable(session, establishment_id, [row[3] for row in rows])
    for trainer_id, other_start, other_end, where in rows:
        travel = timedelta(minutes=table.to(where))
        found[trainer_id].append(Busy(trainer_id, other_start - travel, other_end + travel))
    for periods in found.values():
        periods.sort(key=lambda busy: busy.start)
    return found


def check_trainer(session: Session, equipment: Equipment, start: datetime, end: datetime,
                  trainer: User | None, *, group_id: str | None = None,
                  exclude_booking_ids: Iterable[int] = (), actor: User | None = None) -> None:
    """Refuse with 409 ``trainer_busy`` when the trainer is held elsewhere."""
    if trainer is None:
        return
    found = trainer_clashes(session, trainer.id, equipment, start, end, group_id=group_id,
                            exclude_booking_ids=exclude_booking_ids)
    if found:
        raise busy_error(found, trainer, equipment, actor)


def busy_error(found: list[TrainerClash], trainer: User, equipment: Equipment,
               actor: User | None) -> TrainerBusy:
    zone = zone_of(equipment)
    conflicts = []
    for clash in found:
        other = clash.booking
        item = {"booking_id": other.id,
                "start": other.start_at.astimezone(zone).isoformat(),
                "end": other.end_at.astimezone(zone).isoformat(),
                "equipment_id": other.equipment_id,
                "establishment_id": other.equipment.establishment_id,
                "travel_minutes": clash.travel_minutes}
        if actor is not None and may(actor, "view", other):
            item["title"] = other.title
        conflicts.append(item)
    details = {"conflicts": conflicts, "trainer_id": trainer.id}
    first = found[0]
    other = first.booking
    when = Period(other.start_at.astimezone(zone), other.end_at.astimezone(zone))
    params = {"trainer": trainer.name, "when": when, "equipment": other.equipment.name,
              "booking": other.id, "minutes": first.travel_minutes,
              "establishment": other.equipment.establishment.name}
    yourself = actor is not None and actor.id == trainer.id
    if not first.overlaps:
        template = (Nn_("You have a booking at %(establishment)s %(when)s: the trip between "
                        "the two sites takes %(minutes)d minute.",
                        "You have a booking at %(establishment)s %(when)s: the trip between "
                        "the two sites takes %(minutes)d minutes.", count="minutes")
                    if yourself else
                    Nn_("%(trainer)s has a booking at %(establishment)s %(when)s: the trip "
                        "between the two sites takes %(minutes)d minute.",
                        "%(trainer)s has a booking at %(establishment)s %(when)s: the trip "
                        "between the two sites takes %(minutes)d minutes.", count="minutes"))
        return TrainerBusy(template, details, **params)
    if "title" in conflicts[0]:
        template = (N_("You already have a booking %(when)s: “%(title)s” on %(equipment)s.")
                    if yourself else
                    N_("%(trainer)s already has a booking %(when)s: “%(title)s” on "
                       "%(equipment)s."))
        return TrainerBusy(template, details, title=other.title, **params)
    template = (N_("You already have a booking %(when)s on %(equipment)s.") if yourself else
                N_("%(trainer)s already has a booking %(when)s on %(equipment)s."))
    return TrainerBusy(template, details, **params)

