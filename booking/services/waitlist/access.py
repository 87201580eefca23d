"""Who may join the waiting list, and who sees, leaves and claims an entry.

Everyone who books may join (a company, for the sessions of its projects:
the booking service's rules decide that when the entry is checked). An entry
is its owner's: they alone leave and claim it. The coordinators of the
machine's establishment, and admins, see the entries of its machines.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from booking.permissions import coordinates, is_admin, is_coordinator, rule
from models import SLOT_HOLDING_STATUSES, Booking, Equipment, User, WaitlistEntry


@rule(WaitlistEntry, "join")
def join(user: User, entry: WaitlistEntry | type) -> bool:
    return True


@rule(Booking, "wait_for")
def wait_for(user: User, booking: Booking) -> bool:
    """Wait in line for a slot someone else holds (the calendar's « Attendre
    ce créneau »); the entry is checked as a booking when it is made."""
    return (booking.status in SLOT_HOLDING_STATUSES and booking.booked_by_id != user.id
            and booking.trainer_id != user.id and join(user, WaitlistEntry))


@rule(WaitlistEntry, "view")
def view(user: User, entry: WaitlistEntry) -> bool:
    return entry.user_id == user.id or coordinates(user, entry.equipment.establishment_id)


@rule(WaitlistEntry, "leave", "claim")
def own(user: User, entry: WaitlistEntry) -> bool:
    return entry.user_id == user.id


@rule(Equipment, "see_waitlist")
def see_line(user: User, equipment: Equipment) -> bool:
    """Who waits for a machine's slots: the coordinators of its owner, admins."""
    return coordinates(user, equipment.establishment_id)


def listed_entries(user: User) -> Select[tuple[WaitlistEntry]]:
    """The entries ``user`` sees: their own; a coordinator's establishment's
    machines' too; every entry for an admin."""
    stmt = select(WaitlistEntry)
    if is_admin(user):
        return stmt
    if is_coordinator(user) and user.establishment_id is not None:
        of_theirs = select(Equipment.id).where(
            Equipment.establishment_id == user.establishment_id)
        return stmt.where((WaitlistEntry.user_id == user.id)
                          | WaitlistEntry.equipment_id.in_(of_theirs))
    return stmt.where(WaitlistEntry.user_id == user.id)
