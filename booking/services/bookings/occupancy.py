"""What a booking holds: the machines it occupies and for how long.

A pilot line runs with all its components, so booking it writes an occupancy
row on the line and on each component. Booking a component writes a row on
that component only: the line is then occupied too, since any booking of the
line would need that component's row, while the sibling components stay free
(a row on the line would make siblings collide there). Every row covers the
start to the end plus the changeover of the booked equipment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import SLOT_HOLDING_STATUSES, Booking, Equipment, Occupancy

# The longest an occupancy row can last: a week's booking plus a day's
# changeover (CHECKs on equipment). Overlap queries add ``starts_at > start -
# MAX_SPAN`` so the (equipment_id, starts_at) index reads only the window's
# neighbourhood, however long the history.
MAX_SPAN = timedelta(days=8)


def occupied_equipment(equipment: Equipment) -> list[Equipment]:
    """The machines whose occupancy rows a booking writes: the booked one and,
    for a line, its components."""
    return [equipment, *equipment.components]


def related_equipment(equipment: Equipment) -> list[Equipment]:
    """The machines a booking needs working and open: those it occupies and,
    for a component, its line."""
    related = occupied_equipment(equipment)
    if equipment.parent is not None:
        related.append(equipment.parent)
    return related


def held_until(equipment: Equipment, end: datetime) -> datetime:
    return end + timedelta(minutes=equipment.changeover_minutes)


def occupancy_rows(booking: Booking, equipment: Equipment) -> list[Occupancy]:
    until = held_until(equipment, booking.end_at)
    return [
        Occupancy(equipment_id=held.id, starts_at=booking.start_at, ends_at=until)
        for held in occupied_equipment(equipment)
    ]


@dataclass(frozen=True)
class Collision:
    booking_id: int
    equipment_id: int
    start: datetime
    end: datetime
    held_until: datetime


def collisions(session: Session, equipment_ids: Iterable[int], start: datetime,
               until: datetime, *, exclude_booking_ids: Iterable[int] = ()) -> list[Collision]:
    """Slot-holding occupancies of these machines that meet [start, until)."""
    stmt = (
        select(Occupancy, Booking)
        .join(Booking, Booking.id == Occupancy.booking_id)
        .where(
            Occupancy.equipment_id.in_(list(equipment_ids)),
            Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES),
            Occupancy.starts_at < until,
            Occupancy.starts_at > start - MAX_SPAN,
            Occupancy.ends_at > start,
        )
        .order_by(Occupancy.starts_at, Booking.id)
    )
    excluded = list(exclude_booking_ids)
    if excluded:
        stmt = stmt.where(Occupancy.booking_id.not_in(excluded))
    seen: dict[int, Collision] = {}
    for occupancy, booking in session.execute(stmt):
        seen.setdefault(booking.id, Collision(booking.id, occupancy.equipment_id,
                                              booking.start_at, booking.end_at,
                                              occupancy.ends_at))
    return list(seen.values())
