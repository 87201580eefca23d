"""What a coordinator should know before deciding a pending booking.

Read-only: the decision itself is ``bookings.decide_booking``. A pending
booking holds its slot, so collisions are normally none; closures declared,
certifications revoked or machines put in maintenance after the request are
what this review is for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session, joinedload

from booking.permissions import is_admin, is_coordinator
from booking.services.bookings.occupancy import (
    MAX_SPAN,
    Collision,
    held_until,
    occupied_equipment,
    related_equipment,
)
from booking.services.bookings.rules import missing_from, required_types
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Certification,
    CertificationType,
    Closure,
    Equipment,
    EquipmentStatus,
    Occupancy,
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
    return reviews(session, [booking])[0]


def reviews(session: Session, bookings: Sequence[Booking]) -> list[Review]:
    """The review of each booking, in order, in three statements however many
    bookings (a page of the queue): one for the trainers' certifications, one
    for the collisions, one for the closures."""
    if not bookings:
        return []
    required = {b.id: required_types(b.equipment) for b in bookings}
    held = _certifications(session, bookings, required)
    found_collisions = _collisions(session, bookings)
    found_closures = _closures(session, bookings)
    results = []
    for booking in bookings:
        related = related_equipment(booking.equipment)
        results.append(Review(
            booking=booking,
            required=required[booking.id],
            missing=missing_from(held.get(booking.trainer_id, []), required[booking.id],
                                 booking.start_at, booking.end_at),
            collisions=found_collisions[booking.id],
            closures=found_closures[booking.id],
            unavailable=[e for e in related if e.status is not EquipmentStatus.ACTIVE],
        ))
    return results


def _certifications(session: Session, bookings: Sequence[Booking],
                    required: dict[int, list[CertificationType]]) -> dict[int, list[Certification]]:
    """The trainers' certifications of the types their bookings require."""
    trainer_ids = {b.trainer_id for b in bookings if b.trainer_id is not None and required[b.id]}
    type_ids = {t.id for types in required.values() for t in types}
    held: dict[int, list[Certification]] = defaultdict(list)
    if trainer_ids and type_ids:
        for cert in session.scalars(select(Certification).where(
                Certification.user_id.in_(trainer_ids),
                Certification.certification_type_id.in_(type_ids))):
            held[cert.user_id].append(cert)
    return held


def _collisions(session: Session, bookings: Sequence[Booking]) -> dict[int, list[Collision]]:
    """occupancy.collisions for each booking (its machines, from its start to
    the end of its changeover, itself excluded), in one statement: the
    windows are OR-ed in SQL, and each row is given back to the bookings it meets."""
    windows = [(b, {e.id for e in occupied_equipment(b.equipment)}, b.start_at,
                held_until(b.equipment, b.end_at)) for b in bookings]
    rows = session.execute(
        select(Occupancy.booking_id, Occupancy.equipment_id, Occupancy.starts_at,
               Occupancy.ends_at, Booking.start_at, Booking.end_at)
        .join(Booking, Booking.id == Occupancy.booking_id)
        .where(Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES), or_(*(
            and_(Occupancy.equipment_id.in_(ids), Occupancy.starts_at < until,
                 Occupancy.starts_at > start - MAX_SPAN, Occupancy.ends_at > start,
                 Occupancy.booking_id != booking.id)
            for booking, ids, start, until in windows)))
        .order_by(Occupancy.starts_at, Booking.id)).all()
    found: dict[int, list[Collision]] = {}
    for booking, ids, start, until in windows:
        seen: dict[int, Collision] = {}
        for row in rows:
            if (row.equipment_id in ids and row.starts_at < until and row.ends_at > start
                    and row.booking_id != booking.id):
                seen.setdefault(row.booking_id, Collision(row.booking_id, row.equipment_id,
                                                          row.start_at, row.end_at,
                                                          row.ends_at))
        found[booking.id] = list(seen.values())
    return found


def _closures(session: Session, bookings: Sequence[Booking]) -> dict[int, list[Closure]]:
    """hours.closures_meeting for each booking (its related machines and its
    establishment, over the booking), in one statement."""
    windows = [(b, {e.id for e in related_equipment(b.equipment)},
                b.equipment.establishment_id) for b in bookings]
    closures = session.scalars(
        select(Closure).where(or_(*(
            and_(or_(Closure.establishment_id == establishment_id,
                     Closure.equipment_id.in_(ids)),
                 Closure.start_at < booking.end_at, Closure.end_at > booking.start_at)
            for booking, ids, establishment_id in windows)))
        .order_by(Closure.start_at, Closure.id)).all()
    return {booking.id: [c for c in closures
                         if (c.establishment_id == establishment_id or c.equipment_id in ids)
                         and c.start_at < booking.end_at and c.end_at > booking.start_at]
            for booking, ids, establishment_id in windows}


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
