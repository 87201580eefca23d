"""What a coordinator should know before deciding a pending booking.

Read-only: the decision itself is ``bookings.decide_booking``. A pending
booking holds its slot, so collisions are normally none; closures declared,
certifications revoked or machines put in maintenance after the request are
what this review is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session, joinedload

from booking.permissions import is_admin, is_coordinator
from booking.services.bookings.occupancy import (
    Collision,
    collisions,
    held_until,
    occupied_equipment,
    related_equipment,
)
from booking.services.bookings.rules import missing_certifications, required_types
from booking.services.equipment import hours
from models import (
    Booking,
    BookingStatus,
    CertificationType,
    Closure,
    Equipment,
    EquipmentStatus,
    User,
)


@dataclass
class Review:
    booking: Booking
    # Each required type the trainer lacks for the booking's days, with the
    # last day they held it (None if never).
    missing: list[tuple[CertificationType, date | None]] = field(default_factory=list)
    required: list[CertificationType] = field(default_factory=list)
    collisions: list[Collision] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    unavailable: list[Equipment] = field(default_factory=list)

    @property
    def clear(self) -> bool:
        return not (self.missing or self.collisions or self.closures or self.unavailable)


def review(session: Session, booking: Booking) -> Review:
    equipment = booking.equipment
    held = occupied_equipment(equipment)
    related = related_equipment(equipment)
    required = required_types(equipment)
    return Review(
        booking=booking,
        required=required,
        missing=missing_certifications(session, booking.trainer, required, booking.start_at,
                                       booking.end_at),
        collisions=collisions(session, [e.id for e in held], booking.start_at,
                              held_until(equipment, booking.end_at),
                              exclude_booking_ids=[booking.id]),
        closures=hours.closures_meeting(session, [e.id for e in related],
                                           equipment.establishment_id, booking.start_at,
                                           booking.end_at),
        unavailable=[e for e in related if e.status is not EquipmentStatus.ACTIVE],
    )


def pending_for(user: User) -> Select[Any]:
    """Pending bookings ``user`` may decide (booking.permissions.decide_booking:
    an admin, or a coordinator of the owning establishment), soonest deadline
    first, then soonest start."""
    stmt = (
        select(Booking)
        .join(Equipment, Equipment.id == Booking.equipment_id)
        .where(Booking.status == BookingStatus.PENDING)
        .options(
            joinedload(Booking.equipment).selectinload(Equipment.components)
            .selectinload(Equipment.required_certification_types),
            joinedload(Booking.equipment).selectinload(Equipment.required_certification_types),
            joinedload(Booking.equipment).joinedload(Equipment.establishment),
            joinedload(Booking.equipment).joinedload(Equipment.parent),
            joinedload(Booking.booked_by), joinedload(Booking.trainer),
            joinedload(Booking.project),
        )
        .order_by(Booking.decision_deadline.asc().nulls_last(), Booking.start_at, Booking.id)
    )
    if is_admin(user):
        return stmt
    if is_coordinator(user):
        return stmt.where(Equipment.establishment_id == user.establishment_id)
    return stmt.where(false())
