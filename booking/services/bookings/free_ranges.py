"""« Trouver N h libres »: the first free ranges of a given length across
machines, from one availability() call (so the work is bounded by the
window, at most availability.MAX_WINDOW, whatever the number of machines)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from booking.services.bookings.availability import availability, check_window
from booking.services.equipment import hours
from models import Equipment, EquipmentStatus

PER_MACHINE = 3
LIMIT = 12


@dataclass(frozen=True)
class FreeRange:
    equipment: Equipment
    start: datetime  # aware, in the machine's zone
    end: datetime


def _on_grid(value: datetime, equipment: Equipment) -> datetime:
    """The first instant at or after ``value`` on the machine's local slot grid."""
    zone = hours.zone_of(equipment)
    local = value.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=equipment.slot_minutes)
    return midnight + -((midnight - local) // step) * step


def first_free_ranges(session: Session, machines: Iterable[Equipment], *, start: datetime,
                      end: datetime, minutes: int, now: datetime,
                      limit: int = LIMIT) -> list[FreeRange]:
    """Ranges of ``minutes`` that each machine in service could take, earliest
    first, at most PER_MACHINE per machine and ``limit`` in all. A machine
    whose slots or durations cannot hold that length is left out; before
    another booking the range's changeover must fit too, as the booking needs it."""
    start = max(start, now)
    check_window(start, end)
    candidates = [m for m in machines if m.status is EquipmentStatus.ACTIVE
                  and m.min_minutes <= minutes <= m.max_minutes
                  and minutes % m.slot_minutes == 0]
    if not candidates:
        return []
    length = timedelta(minutes=minutes)
    found: list[FreeRange] = []
    for result in availability(session, candidates, start, end):
        machine = result.equipment
        zone = hours.zone_of(machine)
        taken = {b.start for b in result.busy if b.reason == "booking"}
        mine = 0
        for free_start, free_end in result.free:
            begin = _on_grid(max(free_start, start), machine)
            changeover = timedelta(minutes=machine.changeover_minutes if free_end in taken else 0)
            if begin + length + changeover <= free_end:
                found.append(FreeRange(machine, begin.astimezone(zone),
                                       (begin + length).astimezone(zone)))
                mine += 1
                if mine == PER_MACHINE:
                    break
    found.sort(key=lambda r: (r.start, r.equipment.name))
    return found[:limit]
