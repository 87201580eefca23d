"""Each kind of inbox item as a query, limited to what the user coordinates.

A coordinator sees the items of their establishment, an admin every item,
anyone else none: the same scope as ``coordinated_establishments`` and the
approval queue (``pending_for``), so the inbox never lists what its reader may
not act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased, joinedload

from booking.permissions import is_admin, is_staff
from booking.services.bookings.approvals import pending_for
from booking.services.bookings.no_show import flag_count, flag_window, person
from booking.services.policy import Policy
from models import (
    Booking,
    BookingStatus,
    CertificationRequest,
    CertificationRequestStatus,
    Closure,
    Equipment,
    Incident,
    Project,
    ProjectStatus,
    User,
)
from models.project import project_equipment

ACTIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def _establishment_is(user: User, column: Any) -> ColumnElement[bool]:
    """``column`` (an establishment id) is one ``user`` coordinates."""
    if is_admin(user):
        return true()
    if is_staff(user) and user.establishment_id is not None:
        return column == user.establishment_id
    return false()


def approvals(user: User) -> Select[Any]:
    """Pending bookings the user decides (the approval queue's query)."""
    return pending_for(user)


def project_requests(user: User) -> Select[tuple[Project]]:
    """Projects awaiting a decision that ask for a machine of the user's
    establishment, or name no machine (then every coordinator may take it)."""
    machine = aliased(Equipment)
    asks_here = exists().where(
        project_equipment.c.project_id == Project.id,
        machine.id == project_equipment.c.equipment_id,
        _establishment_is(user, machine.establishment_id))
    names_none = ~exists().where(project_equipment.c.project_id == Project.id)
    scope = true() if is_admin(user) else (or_(asks_here, names_none) if is_staff(user)
                                           else false())
    return (select(Project).where(Project.status == ProjectStatus.REQUESTED, scope)
            .options(joinedload(Project.company), joinedload(Project.requested_by))
            .order_by(Project.created_at, Project.id))


def certification_requests(user: User) -> Select[tuple[CertificationRequest]]:
    """Open requests for a machine of the user's establishment, or from one of
    its trainers."""
    machine, trainer = aliased(Equipment), aliased(User)
    return (select(CertificationRequest)
            .join(trainer, trainer.id == CertificationRequest.user_id)
            .outerjoin(machine, machine.id == CertificationRequest.equipment_id)
            .where(CertificationRequest.status == CertificationRequestStatus.REQUESTED,
                   or_(_establishment_is(user, machine.establishment_id),
                       _establishment_is(user, trainer.establishment_id)))
            .options(joinedload(CertificationRequest.user),
                     joinedload(CertificationRequest.certification_type),
                     joinedload(CertificationRequest.equipment))
            .order_by(CertificationRequest.created_at, CertificationRequest.id))


def closes(closure: type[Closure] | Any, booking_equipment: Any) -> ColumnElement[bool]:
    """``closure`` closes what a booking of ``booking_equipment`` needs: its
    establishment, the machine, its line, or one of its components
    (bookings.occupancy.related_equipment, as SQL)."""
    component = aliased(Equipment)
    return or_(
        closure.establishment_id == booking_equipment.establishment_id,
        closure.equipment_id == booking_equipment.id,
        closure.equipment_id == booking_equipment.parent_id,
        exists().where(component.id == closure.equipment_id,
                       component.parent_id == booking_equipment.id))


def closure_hits(user: User, now: datetime, closure_ids: list[int] | None = None,
                 imported: bool = False) -> Select[tuple[Booking, Closure]]:
    """(booking, closure) pairs: pending or confirmed bookings not yet over that
    a closure overlaps, soonest first; only these closures when ``closure_ids``
    is given, only imported ones (with a source UID) when ``imported``."""
    stmt = (select(Booking, Closure)
            .join(Equipment, Equipment.id == Booking.equipment_id)
            .join(Closure, and_(Closure.start_at < Booking.end_at,
                                Closure.end_at > Booking.start_at,
                                closes(Closure, Equipment)))
            .where(Booking.status.in_(ACTIVE), Booking.end_at > now,
                   _establishment_is(user, Equipment.establishment_id))
            .options(joinedload(Booking.equipment), joinedload(Booking.booked_by),
                     joinedload(Booking.trainer))
            .order_by(Booking.start_at, Booking.id, Closure.start_at, Closure.id))
    if closure_ids is not None:
        stmt = stmt.where(Closure.id.in_(closure_ids))
    if imported:
        stmt = stmt.where(Closure.source_uid.is_not(None))
    return stmt


def flagged(user: User, now: datetime) -> Select[tuple[Booking]]:
    """Bookings still to come whose trainer will not be certified on the day
    (the flag the certification watch sets)."""
    return (select(Booking)
            .join(Equipment, Equipment.id == Booking.equipment_id)
            .where(Booking.certification_flag.is_(True), Booking.status.in_(ACTIVE),
                   Booking.start_at > now, _establishment_is(user, Equipment.establishment_id))
            .options(joinedload(Booking.equipment), joinedload(Booking.trainer))
            .order_by(Booking.start_at, Booking.id))


def trainer_clashes(user: User, now: datetime) -> Select[tuple[Booking]]:
    """Bookings still to come whose trainer was booked twice before the trainer
    guard existed (migration 0010 flags them): one of each pair must move."""
    return (select(Booking)
            .join(Equipment, Equipment.id == Booking.equipment_id)
            .where(Booking.trainer_clash.is_(True), Booking.status.in_(ACTIVE),
                   Booking.start_at > now, _establishment_is(user, Equipment.establishment_id))
            .options(joinedload(Booking.equipment), joinedload(Booking.trainer))
            .order_by(Booking.start_at, Booking.id))


def repeated_no_shows(user: User, now: Any, policy: Policy, since: Any = None) -> Select[Any]:
    """People (``user_id``) with at least ``policy.no_show_flag_count``
    no-shows starting within ``policy.no_show_flag_days`` days (``no_shows``,
    the last one's start ``last_at``), one of them on a machine of an
    establishment the user coordinates (bookings.no_show counts them).
    ``since`` is the window's start when ``now`` is a bound parameter."""
    who = person()
    here = case((_establishment_is(user, Equipment.establishment_id), 1), else_=0)
    return (select(who.label("user_id"), func.count().label("no_shows"),
                   func.max(Booking.start_at).label("last_at"))
            .join(Equipment, Equipment.id == Booking.equipment_id)
            .where(Booking.status == BookingStatus.NO_SHOW,
                   Booking.start_at >= (flag_window(now, policy) if since is None else since),
                   Booking.start_at <= now)
            .group_by(who)
            .having(func.count() >= flag_count(policy), func.max(here) == 1))


def open_incidents(user: User) -> Select[tuple[Incident]]:
    """Incidents not yet resolved on a machine of the user's establishment,
    the oldest first."""
    return (select(Incident)
            .join(Equipment, Equipment.id == Incident.equipment_id)
            .where(Incident.resolved_at.is_(None),
                   _establishment_is(user, Equipment.establishment_id))
            .options(joinedload(Incident.equipment), joinedload(Incident.reported_by))
            .order_by(Incident.reported_at, Incident.id))
