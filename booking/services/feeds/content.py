"""What a calendar feed shows: the bookings of its scope in a bounded window.

A feed covers 30 days back and a year ahead. Cancelled, rejected and expired
bookings stay for 30 days after their last change, as STATUS:CANCELLED, so
subscribed calendars remove them. The fingerprint (count and latest change of
the rows shown) gives the ETag: a client that already has the current version
gets a 304 without the calendar being rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from booking.services.bookings.occupancy import MAX_SPAN
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    Equipment,
    Feed,
    FeedScope,
    Occupancy,
    Project,
    User,
)

# Raised when the calendar's layout changes, so clients fetch the new one.
FORMAT_VERSION = 3  # 2: one RDATE per line in VTIMEZONE; 3: VTIMEZONE for the years used
PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
CANCELLED_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class Fingerprint:
    count: int
    last_change: datetime | None
    # Every change of a booking raises its SEQUENCE: the sum moves with them.
    sequences: int = 0

    @property
    def etag(self) -> str:
        stamp = self.last_change.timestamp() if self.last_change else 0
        return f'"v{FORMAT_VERSION}-{self.count}-{self.sequences}-{stamp:.6f}"'


def _scoped(scope: FeedScope, scope_id: int) -> Select[tuple[Booking]]:
    stmt = select(Booking)
    if scope is FeedScope.EQUIPMENT:
        # Every booking that holds the machine (its own, its line's) and, for a
        # line, its components' (booking.services.bookings.occupancy).
        machines = select(Equipment.id).where(
            or_(Equipment.id == scope_id, Equipment.parent_id == scope_id))
        return stmt.where(Booking.id.in_(
            select(Occupancy.booking_id).where(Occupancy.equipment_id.in_(machines))))
    if scope is FeedScope.ESTABLISHMENT:
        return stmt.where(Booking.equipment_id.in_(
            select(Equipment.id).where(Equipment.establishment_id == scope_id)))
    if scope is FeedScope.TRAINER:
        return stmt.where(or_(Booking.trainer_id == scope_id, Booking.booked_by_id == scope_id))
    if scope is FeedScope.PROJECT:
        return stmt.where(Booking.project_id == scope_id)
    return stmt.where(or_(
        Booking.project_id.in_(select(Project.id).where(Project.company_id == scope_id)),
        Booking.booked_by_id.in_(select(User.id).where(User.company_id == scope_id))))


def _window(stmt: Select[tuple[Booking]], now: datetime) -> Select[tuple[Booking]]:
    # The start bounded below too (no booking is longer than MAX_SPAN): the
    # (scope column, start_at) indexes then read the window, not the history.
    return stmt.where(
        Booking.end_at > now - PAST, Booking.start_at < now + AHEAD,
        Booking.start_at > now - PAST - MAX_SPAN,
        or_(Booking.status.in_(SLOT_HOLDING_STATUSES),
            and_(Booking.status.not_in(SLOT_HOLDING_STATUSES),
                 Booking.updated_at > now - CANCELLED_KEPT)))


def scope_bookings(session: Session, scope: FeedScope, scope_id: int,
                   now: datetime) -> list[Booking]:
    """The bookings a calendar of this scope shows at ``now`` (feeds, export files)."""
    stmt = _window(_scoped(scope, scope_id), now).options(
        joinedload(Booking.equipment).joinedload(Equipment.establishment),
        joinedload(Booking.trainer), joinedload(Booking.project),
    ).order_by(Booking.start_at, Booking.id)
    return list(session.scalars(stmt).unique())


def feed_bookings(session: Session, feed: Feed, now: datetime) -> list[Booking]:
    return scope_bookings(session, feed.scope, feed.scope_id, now)


def fingerprint(session: Session, feed: Feed, now: datetime) -> Fingerprint:
    inner = _window(_scoped(feed.scope, feed.scope_id), now).subquery()
    count, last, sequences = session.execute(
        select(func.count(), func.max(inner.c.updated_at),
               func.coalesce(func.sum(inner.c.sequence), 0)).select_from(inner)).one()
    if isinstance(last, str):  # SQLite answers the aggregate as text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return Fingerprint(count, last, int(sequences))
