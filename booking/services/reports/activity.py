"""Activity: what the platform did over a range, beside its utilisation.

Definitions (the range is [from, to) of local dates in Europe/Paris, as for
utilisation; a booking belongs to the range its start falls in, and counts once
whatever machines it occupies):
- sessions: confirmed and completed bookings; learners trained: the sum of the
  participants of completed ones (a booking without a number counts none);
- sessions per trainer: the same sessions, by the booking's trainer (bookings
  without a trainer are left out), with the learners of the completed ones;
- cancellations: cancelled bookings, and of those the late ones (cancelled by
  a coordinator after the machine's cancellation deadline); expired: pending
  bookings that expired undecided;
- certifications granted: granted (``granted_at``) inside the range, revoked
  since or not; expiring: not revoked and ending within the next 30 days
  (``valid_until`` from today to today + 30 inclusive: the window of the
  certification expiry warnings), renewed since or not;
- with an establishment: the bookings of its equipment, the certifications of
  its people.
Each figure is one aggregate query: nothing here reads the history row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from booking.services.policy import CAMPUS_ZONE, EXPIRING_WITHIN
from booking.services.reports.utilisation import COUNTED, range_bounds
from models import Booking, BookingStatus, Certification, Equipment, User


@dataclass(frozen=True)
class TrainerSessions:
    trainer_id: int
    name: str
    sessions: int
    completed: int
    learners: int


@dataclass(frozen=True)
class Activity:
    first: date
    last_excluded: date
    sessions: int
    completed_sessions: int
    learners_trained: int
    per_trainer: list[TrainerSessions]
    cancellations: int
    late_cancellations: int
    expired_pending: int
    certifications_granted: int
    certifications_expiring: int
    expiring_from: date
    expiring_until: date  # inclusive


def _in_scope(stmt: Any, establishment_id: int | None) -> Any:
    if establishment_id is None:
        return stmt
    return stmt.join(Equipment, Equipment.id == Booking.equipment_id).where(
        Equipment.establishment_id == establishment_id)


def activity(session: Session, first: date, last_excluded: date,
             establishment_id: int | None = None, *, now: datetime | None = None) -> Activity:
    """The activity figures of the range. The 30 days of expiring certifications
    start on ``now``'s date in Europe/Paris, or without ``now`` on the day after
    the range (a report of a past range then looks at what followed it)."""
    start, end = range_bounds(first, last_excluded)
    in_range = (Booking.start_at >= start, Booking.start_at < end)

    late = func.coalesce(func.sum(case((Booking.cancelled_late, 1), else_=0)), 0)
    by_status: dict[BookingStatus, tuple[int, int, int]] = {
        status: (count, learners, late_count)
        for status, count, learners, late_count in session.execute(
            _in_scope(select(Booking.status, func.count(Booking.id),
                             func.coalesce(func.sum(Booking.participants), 0), late),
                      establishment_id)
            .where(*in_range).group_by(Booking.status))}

    # The statuses are counted, not filtered: a WHERE on the status would lead
    # SQLite to read every confirmed booking of the history through the status
    # index, where the range reads only the period's through ix_booking_start_at.
    completed = Booking.status == BookingStatus.COMPLETED
    sessions = func.sum(case((Booking.status.in_(COUNTED), 1), else_=0))
    per_trainer = [
        TrainerSessions(trainer_id, name, int(held), int(done or 0), int(learners or 0))
        for trainer_id, name, held, done, learners in session.execute(
            _in_scope(select(User.id, User.name, sessions,
                             func.sum(case((completed, 1), else_=0)),
                             func.sum(case((completed, Booking.participants), else_=0))),
                      establishment_id)
            .join(User, User.id == Booking.trainer_id)
            .where(*in_range)
            .group_by(User.id, User.name)
            .having(sessions > 0)
            .order_by(sessions.desc(), User.name, User.id))]

    def certifications(*conditions: Any) -> int:
        stmt = select(func.count(Certification.id)).where(*conditions)
        if establishment_id is not None:
            stmt = stmt.join(User, User.id == Certification.user_id).where(
                User.establishment_id == establishment_id)
        return session.scalar(stmt) or 0

    today = (now.astimezone(CAMPUS_ZONE).date() if now is not None
             else last_excluded)
    until = today + EXPIRING_WITHIN

    def count(*statuses: BookingStatus) -> int:
        return sum(by_status.get(s, (0, 0, 0))[0] for s in statuses)

    return Activity(
        first=first, last_excluded=last_excluded,
        sessions=count(*COUNTED),
        completed_sessions=count(BookingStatus.COMPLETED),
        learners_trained=int(by_status.get(BookingStatus.COMPLETED, (0, 0, 0))[1]),
        per_trainer=per_trainer,
        cancellations=count(BookingStatus.CANCELLED),
        late_cancellations=int(by_status.get(BookingStatus.CANCELLED, (0, 0, 0))[2]),
        expired_pending=count(BookingStatus.EXPIRED),
        certifications_granted=certifications(Certification.granted_at >= start,
                                               Certification.granted_at < end),
        certifications_expiring=certifications(Certification.revoked_at.is_(None),
                                               Certification.valid_until >= today,
                                               Certification.valid_until <= until),
        expiring_from=today, expiring_until=until,
    )
