"""A machine joining or leaving a pilot line, with the occupancy rows kept true.

A line booking writes a row on the line and on each component the line has when
it is made (:mod:`booking.services.bookings.occupancy`). So:

- a machine joining a line gets a row for each booking of the line that still
  holds it (changeover included), as if it had been a component then; this is
  refused (409, naming both bookings) where one of the machine's own holds meets
  one of those;
- a machine leaving its line (for none or for another) is refused while bookings
  of the line still hold it: they were made with it and would silently lose it.

The machines concerned are locked first, and a new booking locks the equipment it
books (``operations.resolve``), so no booking slips between the check and the
change; the overlap guard has the last word on the rows added.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from booking.services.bookings.operations import OVERLAP_GUARD
from booking.services.equipment import hours
from booking.services.errors import N_, Conflict
from models import SLOT_HOLDING_STATUSES, Booking, Equipment, Occupancy

# Bookings named in a refusal: the first ones are enough to act on.
MAX_NAMED = 50


def change_line(session: Session, machine: Equipment, line: Equipment | None,
                now: datetime) -> None:
    """Make ``machine`` a component of ``line`` (None: of no line)."""
    old = machine.parent
    if old is line:
        return
    if machine.id is None:  # a new machine: nothing holds it yet, but it needs an id
        session.add(machine)
        session.flush()
    involved = sorted(m.id for m in (machine, old, line) if m is not None)
    session.execute(select(Equipment.id).where(Equipment.id.in_(involved))
                    .order_by(Equipment.id).with_for_update())
    if old is not None:
        _refuse_leaving(session, machine, old, now)
    if line is not None:
        _join(session, machine, line, now)
    machine.parent = line


def _line_rows(line: Equipment, now: datetime) -> Any:
    """The rows of the line's own bookings that hold it from ``now`` on."""
    return (select(Occupancy).join(Booking, Booking.id == Occupancy.booking_id)
            .where(Occupancy.equipment_id == line.id, Booking.equipment_id == line.id,
                   Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES),
                   Occupancy.ends_at > now))


def _refuse_leaving(session: Session, machine: Equipment, line: Equipment,
                    now: datetime) -> None:
    held = list(session.scalars(
        select(Occupancy).join(Booking, Booking.id == Occupancy.booking_id)
        .where(Occupancy.equipment_id == machine.id, Booking.equipment_id == line.id,
               Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES), Occupancy.ends_at > now)
        .order_by(Occupancy.starts_at).limit(MAX_NAMED)))
    if not held:
        return
    zone = hours.zone_of(line)
    raise Conflict(
        N_("%(equipment)s cannot leave %(line)s while bookings of the line hold it, "
           "the first one %(booking)d from %(start)s: cancel or move them first."),
        {"field": "parent_id", "conflicts": [
            {"booking_id": o.booking_id, "equipment_id": machine.id,
             "start": o.starts_at.astimezone(zone).isoformat(),
             "held_until": o.ends_at.astimezone(zone).isoformat()} for o in held]},
        equipment=machine.name, line=line.name, booking=held[0].booking_id,
        start=held[0].starts_at.astimezone(zone))


def _join(session: Session, machine: Equipment, line: Equipment, now: datetime) -> None:
    line_row = _line_rows(line, now).subquery()
    of_line = aliased(Occupancy, line_row)
    own = aliased(Occupancy)
    meeting = list(session.execute(
        select(own, of_line)
        .where(own.equipment_id == machine.id,
               own.booking_status.in_(SLOT_HOLDING_STATUSES),
               own.starts_at < of_line.ends_at, own.ends_at > of_line.starts_at)
        .order_by(own.starts_at, own.booking_id).limit(MAX_NAMED)))
    zone = hours.zone_of(line)
    if meeting:
        mine, theirs = meeting[0]
        raise Conflict(
            N_("%(equipment)s cannot join %(line)s: its booking %(booking)d holds it from "
               "%(start)s to %(end)s, while the line's booking %(line_booking)d holds the "
               "line (changeover included)."),
            {"field": "parent_id", "conflicts": [
                {"booking_id": m.booking_id, "equipment_id": machine.id,
                 "start": m.starts_at.astimezone(zone).isoformat(),
                 "held_until": m.ends_at.astimezone(zone).isoformat(),
                 "line_booking_id": t.booking_id} for m, t in meeting]},
            equipment=machine.name, line=line.name, booking=mine.booking_id,
            start=mine.starts_at.astimezone(zone), end=mine.ends_at.astimezone(zone),
            line_booking=theirs.booking_id)
    already = exists().where(Occupancy.booking_id == of_line.booking_id,
                             Occupancy.equipment_id == machine.id)
    rows = [Occupancy(booking_id=r.booking_id, booking_status=r.booking_status,
                      equipment_id=machine.id, starts_at=r.starts_at, ends_at=r.ends_at)
            for r in session.scalars(select(of_line).where(~already))]
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError as exc:
        if OVERLAP_GUARD not in str(exc.orig):
            raise
        raise Conflict(N_("%(equipment)s was booked while it was joining %(line)s: "
                          "try again."), {"field": "parent_id", "conflicts": []},
                       equipment=machine.name, line=line.name) from None

