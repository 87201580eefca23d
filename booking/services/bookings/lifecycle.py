"""Time moves bookings on: undecided pending bookings expire, past ones complete;
and projects follow their sessions: started, then completed.

Every function is idempotent: they only touch rows still in the old status,
so a job that runs twice (or two schedulers by mistake) changes nothing more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Exists, and_, exists, or_, select
from sqlalchemy.orm import Session

from booking.services import audit
from booking.services.messaging import notifications
from models import Booking, BookingStatus, Equipment, Project, ProjectStatus


def expire_overdue_pending(session: Session, *, now: datetime) -> list[Booking]:
    """Pending bookings past their decision deadline expire and free their slot."""
    overdue = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.status == BookingStatus.PENDING,
                Booking.decision_deadline.is_not(None),
                Booking.decision_deadline <= now,
            )
            .order_by(Booking.id)
            .with_for_update(skip_locked=True)
        )
    )
    for booking in overdue:
        booking.status = BookingStatus.EXPIRED
        booking.sequence += 1
        booking.updated_at = now
        booking.decided_at = now
        booking.decision_reason = "no decision before the deadline"
        audit.record(session, actor=None, action="booking.expire", object_type="booking",
                     object_id=booking.id, now=now)
        notifications.booking_changed(session, booking, now=now)
    session.flush()
    return overdue


def awaiting_check_in() -> ColumnElement[bool]:
    """The booking (of the enclosing query) is of a machine that requires
    check-in and nobody checked in: the no-show job's to decide
    (bookings.no_show), never completed here, even once it has ended."""
    return and_(Booking.checked_in_at.is_(None),
                exists().where(Equipment.id == Booking.equipment_id,
                               Equipment.check_in_required.is_(True)))


def complete_past_bookings(session: Session, *, now: datetime) -> list[Booking]:
    """Confirmed bookings whose end has passed become completed, but for those
    awaiting a check-in (released as no-shows by their own job)."""
    done = list(
        session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.CONFIRMED, Booking.end_at <= now,
                   ~awaiting_check_in())
            .order_by(Booking.id)
            .with_for_update(skip_locked=True)
        )
    )
    for booking in done:
        booking.status = BookingStatus.COMPLETED
        booking.updated_at = now
        audit.record(session, actor=None, action="booking.complete", object_type="booking",
                     object_id=booking.id, now=now)
    session.flush()
    return done


def _has_session(*conditions: ColumnElement[bool]) -> Exists:
    """The project of the enclosing query has a session meeting ``conditions``."""
    return exists().where(Booking.project_id == Project.id, *conditions)


def _advance(session: Session, project: Project, status: ProjectStatus, now: datetime,
             notify: bool = True) -> None:
    before = project.status
    project.status = status
    project.updated_at = now
    audit.record(session, actor=None, action="project.status", object_type="project",
                 object_id=project.id, now=now, before=before.value, after=status.value)
    if notify:
        notifications.project_changed(session, project, now=now)


def advance_projects(session: Session, *, now: datetime, notify: bool = True
                     ) -> tuple[int, int]:
    """Projects follow their sessions; answers (started, completed).

    A project is completed once it has a session done (completed, or confirmed
    and ended: the job that completes bookings may not have run yet) and none
    still to come (pending or confirmed, ending after ``now``); a scheduled
    project goes straight there, with one message. A scheduled project whose
    first confirmed session has started is in progress. Pending sessions do not
    count as started: they expire before they start unless approved.
    """
    done = _has_session(or_(
        Booking.status == BookingStatus.COMPLETED,
        and_(Booking.status == BookingStatus.CONFIRMED, Booking.end_at <= now,
             ~awaiting_check_in())))
    to_come = _has_session(Booking.status.in_(
        (BookingStatus.PENDING, BookingStatus.CONFIRMED)), Booking.end_at > now)
    begun = _has_session(Booking.status.in_(
        (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)), Booking.start_at <= now)
    completed = list(session.scalars(
        select(Project)
        .where(Project.status.in_((ProjectStatus.SCHEDULED, ProjectStatus.IN_PROGRESS)),
               done, ~to_come)
        .order_by(Project.id)
        .with_for_update(skip_locked=True)))
    for project in completed:
        _advance(session, project, ProjectStatus.COMPLETED, now, notify)
    session.flush()
    started = list(session.scalars(
        select(Project)
        .where(Project.status == ProjectStatus.SCHEDULED, begun)
        .order_by(Project.id)
        .with_for_update(skip_locked=True)))
    for project in started:
        _advance(session, project, ProjectStatus.IN_PROGRESS, now, notify)
    session.flush()
    return len(started), len(completed)
