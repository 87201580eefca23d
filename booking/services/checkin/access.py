"""Who checks a booking in and out at the machine, and who sees and acts on an
incident reported there.

A booking is checked in and out by its trainer (its booker when it names no
trainer), by a coordinator of the machine's establishment, or by an admin.
Whoever may not see the booking (another company) gets a 404, as for the
booking itself (booking.services.bookings.access.view).

An incident is seen by its reporter and by those who manage the machine;
only the latter put the machine in maintenance from it or mark it resolved.
Anyone else gets a 404.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import Select, and_, or_, select

from booking.permissions import coordinates, rule
from booking.services.equipment.hours import zone_of
from models import Booking, BookingStatus, Equipment, User
from models.incident import Incident


def at_the_machine(booking: Booking) -> User | None:
    """Whose check-in it is: the trainer, or the booker of a booking without one.
    Their certifications are checked, whoever presses the button."""
    return booking.trainer if booking.trainer is not None else booking.booked_by


@rule(Booking, "check_in")
def check_in(user: User, booking: Booking) -> bool:
    person = at_the_machine(booking)
    return ((person is not None and person.id == user.id)
            or coordinates(user, booking.equipment.establishment_id))


@rule(Incident, "view")
def view_incident(user: User, incident: Incident) -> bool:
    return incident.reported_by_id == user.id or manage_incident(user, incident)


@rule(Incident, "manage")
def manage_incident(user: User, incident: Incident) -> bool:
    """Put the machine in maintenance, mark the incident resolved."""
    return coordinates(user, incident.equipment.establishment_id)


def bookings_at_the_machine(user: User, equipment: Equipment,
                            now: datetime) -> Select[tuple[Booking]]:
    """The bookings the machine's page offers ``user`` to check in or out: those
    of today (the machine's day) not over yet, and any checked in but not out
    (from the last day); a component's page lists its line's too (a line's
    booking holds its components). Their own only (as trainer, or as booker of
    a booking without one), unless they coordinate the machine's establishment."""
    zone = zone_of(equipment)
    local = now.astimezone(zone)
    day_ends = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    stmt = (select(Booking)
            .where(Booking.equipment_id.in_([e.id for e in (equipment, equipment.parent) if e]),
                   Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED)),
                   Booking.start_at < day_ends, Booking.start_at > now - timedelta(days=1),
                   or_(Booking.end_at > now,
                       and_(Booking.checked_in_at.is_not(None),
                            Booking.checked_out_at.is_(None))))
            .order_by(Booking.start_at, Booking.id))
    if coordinates(user, equipment.establishment_id):
        return stmt
    return stmt.where(or_(Booking.trainer_id == user.id,
                          and_(Booking.trainer_id.is_(None), Booking.booked_by_id == user.id)))
