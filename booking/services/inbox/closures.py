"""Bookings a closure falls on, and what a coordinator does about each: tell
its people, or cancel it with the closure as the reason (moving is the move
form's work). The closure stays whatever is decided: bookings made before it
are neither cancelled nor moved behind their people's backs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.bookings.operations import cancel_booking
from booking.services.errors import N_, InvalidState
from booking.services.inbox.queries import ACTIVE, closes, closure_hits
from booking.services.inbox.summary import LIST_LIMIT, Hit, group_hits
from booking.services.messaging.notifications import closure_notice
from models import Booking, Closure, Equipment, User


def hits_of(session: Session, user: User, closures: Sequence[Closure], *,
            now: datetime) -> list[Hit]:
    """The pending or confirmed bookings still to come that these closures
    fall on, among those ``user`` coordinates."""
    if not closures:
        return []
    return group_hits(session.execute(
        closure_hits(user, now, [c.id for c in closures])).unique())


def all_hits(session: Session, user: User, *, now: datetime, imported: bool = False,
             limit: int = LIST_LIMIT) -> list[Hit]:
    """The first ``limit`` bookings any closure (any imported one) falls on."""
    rows = session.execute(closure_hits(user, now, imported=imported).limit(limit * 4))
    return group_hits(rows.unique())[:limit]


def _require_hit(session: Session, booking: Booking, closure: Closure, now: datetime) -> None:
    """The closure falls on the booking, which is still to come and active."""
    hit = session.scalar(
        select(Booking.id).join(Equipment, Equipment.id == Booking.equipment_id)
        .join(Closure, Closure.id == closure.id)
        .where(Booking.id == booking.id, Booking.status.in_(ACTIVE), Booking.end_at > now,
               Closure.start_at < Booking.end_at, Closure.end_at > Booking.start_at,
               closes(Closure, Equipment)))
    if hit is None:
        raise InvalidState(N_("This closure no longer falls on this booking: nothing to do."),
                           {"booking_id": booking.id, "closure_id": closure.id})


def notify_of_closure(session: Session, *, actor: User, booking: Booking, closure: Closure,
                      now: datetime) -> int:
    """E-mail the booker and the trainer that the closure falls on their
    booking; the number of messages queued (0 when they were already told of
    this closure for these times)."""
    require(actor, "notify_closure", booking,
            N_("Only the coordinators of the establishment tell of its closures."))
    _require_hit(session, booking, closure, now)
    queued = closure_notice(session, booking, closure, now=now)
    audit.record(session, actor=actor, action="booking.closure_notice", object_type="booking",
                 object_id=booking.id, now=now, closure_id=closure.id, queued=queued)
    return queued


def cancel_for_closure(session: Session, *, actor: User, booking: Booking, closure: Closure,
                       now: datetime, reason: str) -> Booking:
    """Cancel through the bookings service, the closure given as the reason
    (its people are told by that service, as for any cancellation)."""
    require(actor, "cancel", booking)
    _require_hit(session, booking, closure, now)
    return cancel_booking(session, actor=actor, booking=booking, now=now, reason=reason)
