"""Creating, moving, cancelling, approving and rejecting bookings.

Every function checks the whole of PRODUCT.md's rules (booking.services.bookings.rules)
and then writes the booking and its occupancy rows in one savepoint; the
database's overlap guard has the last word, and a refusal it raises becomes a
409 ``conflict`` with nothing written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, joinedload

from booking.database import begin_write
from booking.permissions import is_company, is_trainer, may, may_train, require
from booking.services import audit
from booking.services.agreements.gate import require_agreement
from booking.services.bookings.access import needs_approval
from booking.services.bookings.occupancy import (
    collisions,
    held_until,
    occupancy_rows,
    occupied_equipment,
)
from booking.services.bookings.rules import Slot, check_all, conflict_error
from booking.services.bookings.trainers import busy_error, trainer_clashes
from booking.services.bookings.windows import check_cancel_deadline
from booking.services.errors import (
    N_,
    Forbidden,
    InvalidState,
    Nn_,
    NotFound,
    TrainerBusy,
    ValidationError,
)
from booking.services.messaging import notifications
from booking.services.policy import Policy
from booking.services.projects.access import BOOKABLE
from booking.services.sharing.quotas import QuotaVerdict, check_quotas
from models import (
    Booking,
    BookingPurpose,
    BookingSeries,
    BookingStatus,
    Equipment,
    Project,
    ProjectStatus,
    User,
)

ACTIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
OVERLAP_GUARD = "xcl_occupancy_no_overlap"
TRAINER_GUARD = "xcl_booking_trainer_busy"
DEADLOCK_DETECTED = "40P01"


@dataclass(frozen=True)
class BookingRequest:
    """What a user asks for; times are aware datetimes."""

    equipment_id: int
    start: datetime
    end: datetime
    title: str
    purpose: BookingPurpose = BookingPurpose.TRAINING
    trainer_id: int | None = None
    project_id: int | None = None
    participants: int | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A request with its objects loaded and its people decided."""

    equipment: Equipment
    trainer: User | None
    project: Project | None
    override: bool


def resolve(session: Session, actor: User, request: BookingRequest) -> Resolved:
    """Load what the request names and settle who trains; checks that do not
    depend on the time (who may book, project, trainer, capacity)."""
    # Key-share locked (PostgreSQL): a machine joining or leaving a line locks the
    # machine and the lines (services/equipment/lines.py), so this booking reads
    # the components after that change, or the change sees this booking's rows.
    equipment = load_for_booking(session, request.equipment_id)
    if equipment is None:
        raise NotFound(N_("No equipment %(id)d."), id=request.equipment_id)
    require(actor, "book", equipment)
    if not request.title.strip():
        raise ValidationError(N_("Give the booking a title."), {"field": "title"})
    if request.participants is not None:
        if request.participants < 0:
            raise ValidationError(N_("The number of participants cannot be negative."),
                                  {"field": "participants"})
        if equipment.capacity is not None and request.participants > equipment.capacity:
            raise ValidationError(
                Nn_("%(equipment)s takes at most %(capacity)d learner, not %(n)d.",
                    "%(equipment)s takes at most %(capacity)d learners, not %(n)d.",
                    count="capacity"),
                {"field": "participants"}, equipment=equipment.name,
                capacity=equipment.capacity, n=request.participants)
    project = _project(session, actor, request.project_id)
    trainer = _trainer(session, actor, request.trainer_id, project)
    override = False
    if request.override_reason is not None and request.override_reason.strip():
        if not may(actor, "override", equipment):
            raise Forbidden(N_("Only a coordinator may override a missing certification."))
        override = True
    return Resolved(equipment, trainer, project, override)


def load_for_booking(session: Session, equipment_id: int) -> Equipment | None:
    """The machine with what the rules read of it (establishment, line,
    components, opening hours, required certifications) in one statement,
    instead of one lazy load each. Only the machine's row is locked."""
    return session.scalars(
        select(Equipment).where(Equipment.id == equipment_id)
        .options(joinedload(Equipment.establishment), joinedload(Equipment.parent),
                 joinedload(Equipment.components), joinedload(Equipment.opening_hours),
                 joinedload(Equipment.required_certification_types))
        .with_for_update(read=True, key_share=True, of=Equipment)
    ).unique().one_or_none()


def _project(session: Session, actor: User, project_id: int | None) -> Project | None:
    if project_id is None:
        if is_company(actor):
            raise ValidationError(N_("A company books the sessions of one of its projects: "
                                     "name the project."), {"field": "project_id"})
        return None
    project = session.get(Project, project_id)
    if project is None or not may(actor, "view", project):
        raise NotFound(N_("No project %(id)d."), id=project_id)
    if project.status not in BOOKABLE:
        raise InvalidState(N_("Project “%(title)s” is “%(status)s”: only an approved project "
                              "gets sessions."), {"status": project.status.value},
                           title=project.title, status=project.status)
    require_agreement(session, project)  # signed, or waived (issue 15)
    return project


def _trainer(session: Session, actor: User, trainer_id: int | None,
             project: Project | None) -> User | None:
    if trainer_id is None:
        if is_trainer(actor):
            return actor
        return project.trainer if project is not None else None
    trainer = session.get(User, trainer_id)
    if trainer is None or not may_train(trainer):
        raise ValidationError(N_("No active trainer %(id)d."), {"field": "trainer_id"},
                              id=trainer_id)
    if not may(actor, "book_for_others", Booking) and trainer.id != actor.id and (
            project is None or trainer.id != project.trainer_id):
        raise Forbidden(N_("Only a coordinator books for another trainer."))
    return trainer


def decision_deadline(equipment: Equipment, start: datetime, now: datetime) -> datetime:
    """A pending booking must be decided within the equipment's delay, and
    before it starts."""
    return min(now + timedelta(hours=equipment.approval_deadline_hours), start)


def new_uid(policy: Policy) -> str:
    return f"{uuid.uuid4()}@{policy.uid_domain}"


def create_booking(session: Session, *, actor: User, request: BookingRequest, now: datetime,
                   policy: Policy, series: BookingSeries | None = None,
                   resolved: Resolved | None = None, notify: bool = True,
                   group_id: str | None = None) -> Booking:
    begin_write(session)
    resolved = resolved or resolve(session, actor, request)
    equipment = resolved.equipment
    slot = Slot(equipment, request.start, request.end)
    check_all(session, slot, trainer=resolved.trainer, now=now, policy=policy,
              check_certification=not resolved.override, actor=actor, group_id=group_id)
    verdict = check_quotas(session, actor=actor, equipment=equipment, start=request.start,
                           end=request.end, now=now)
    pending = needs_approval(actor, equipment, resolved.project) or verdict.needs_approval
    booking = Booking(
        uid=new_uid(policy), equipment=equipment, start_at=request.start, end_at=request.end,
        title=request.title.strip(), purpose=request.purpose,
        status=BookingStatus.PENDING if pending else BookingStatus.CONFIRMED,
        booked_by=actor, trainer=resolved.trainer, project=resolved.project,
        participants=request.participants, sequence=0,
        # The server defaults' values, given: the API answers from this object
        # after the commit without reading the row back (api/bookings.py).
        trainer_clash=False, cancelled_late=False,
        # By id: the relationship would cascade the new booking into the session
        # before _write adds it inside its savepoint.
        series_id=series.id if series is not None else None, group_id=group_id,
        override_reason=request.override_reason if resolved.override else None,
        decision_deadline=decision_deadline(equipment, request.start, now) if pending else None,
        created_at=now, updated_at=now,
    )
    booking.occupancies = occupancy_rows(booking, equipment)
    _write(session, slot, lambda: session.add(booking),
           trainer_refusal=lambda: _trainer_refusal(session, slot, resolved.trainer, actor,
                                                    group_id, []))
    audit.record(session, actor=actor, action="booking.create", object_type="booking",
                 object_id=booking.id, now=now, status=booking.status.value,
                 start=request.start.isoformat(), end=request.end.isoformat(),
                 equipment_id=equipment.id, **({"group_id": group_id} if group_id else {}))
    _audit_quota_overrides(session, actor, booking, verdict, now)
    if resolved.override:
        audit.record(session, actor=actor, action="booking.override_certification",
                     object_type="booking", object_id=booking.id, now=now,
                     reason=request.override_reason)
    if resolved.project is not None and resolved.project.status is ProjectStatus.APPROVED:
        resolved.project.status = ProjectStatus.SCHEDULED
        resolved.project.updated_at = now
        audit.record(session, actor=actor, action="project.status", object_type="project",
                     object_id=resolved.project.id, now=now, before="approved",
                     after="scheduled")
        if notify:
            notifications.project_changed(session, resolved.project, now=now)
    if notify:
        notifications.booking_changed(session, booking, now=now)
    return booking


def _audit_quota_overrides(session: Session, actor: User, booking: Booking,
                           verdict: QuotaVerdict, now: datetime) -> None:
    for quota in verdict.overridden:
        audit.record(session, actor=actor, action="booking.quota_override",
                     object_type="booking", object_id=booking.id, now=now, quota_id=quota.id)


def _trainer_refusal(session: Session, slot: Slot, trainer: User | None, actor: User,
                     group_id: str | None, exclude_ids: list[int]) -> Exception:
    """The trainer guard's refusal, naming the booking that won the race."""
    found = (trainer_clashes(session, trainer.id, slot.equipment, slot.start, slot.end,
                             group_id=group_id, exclude_booking_ids=exclude_ids)
             if trainer is not None else [])
    if found and trainer is not None:
        return busy_error(found, trainer, slot.equipment, actor)
    return TrainerBusy(N_("The trainer was booked elsewhere at the same moment."),
                       {"conflicts": []})


def _write(session: Session, slot: Slot, apply: Callable[[], None],
           exclude_id: int | None = None,
           trainer_refusal: Callable[[], Exception] | None = None) -> None:
    """Make the changes (``apply``) and flush them inside one savepoint, so
    that the overlap guard's refusal rolls back exactly them and becomes a
    409 conflict naming the winner (``trainer_busy`` for the trainer's guard)."""
    try:
        with session.begin_nested():
            apply()
            session.flush()
    except DBAPIError as exc:
        if not _refused_by_guard(exc):
            raise
        # The race's winner has committed by now: name it if we can see it. The
        # machine's own conflict comes first, as in check_all (the trainer's
        # trigger runs before the occupancy rows reach the machine's guard).
        equipment = slot.equipment
        found = collisions(session, [e.id for e in occupied_equipment(equipment)],
                           slot.start, held_until(equipment, slot.end),
                           exclude_booking_ids=[exclude_id] if exclude_id else [])
        if not found and trainer_refusal is not None and TRAINER_GUARD in str(exc.orig):
            raise trainer_refusal() from None
        raise conflict_error(found, equipment, slot.zone) from None


def _refused_by_guard(exc: DBAPIError) -> bool:
    """The exclusion constraint or trigger; or, on PostgreSQL, the deadlock two
    waiters on one slot can reach when the transaction they waited for rolls
    back (each then waits for the other): either way the slot was taken."""
    if isinstance(exc, IntegrityError):
        return OVERLAP_GUARD in str(exc.orig) or TRAINER_GUARD in str(exc.orig)
    return getattr(exc.orig, "sqlstate", None) == DEADLOCK_DETECTED


def _require_active(booking: Booking, now: datetime) -> None:
    if booking.status not in ACTIVE:
        raise InvalidState(N_("This booking is “%(status)s” and can no longer change."),
                           {"status": booking.status.value}, status=booking.status)
    if booking.end_at <= now:
        raise InvalidState(N_("This booking has already taken place."),
                           {"status": booking.status.value})


def move_booking(session: Session, *, actor: User, booking: Booking, now: datetime,
                 policy: Policy, start: datetime | None = None, end: datetime | None = None,
                 title: str | None = None, notify: bool = True) -> Booking:
    """Move and/or retitle; a move re-checks every rule against the others.
    ``notify=False``: the caller tells the people (a series moved in one mail)."""
    begin_write(session)
    require(actor, "change", booking)
    _require_active(booking, now)
    changes: dict[str, object] = {}
    new_title = booking.title if title is None else title.strip()
    if not new_title:
        raise ValidationError(N_("Give the booking a title."), {"field": "title"})
    new_start, new_end = start or booking.start_at, end or booking.end_at
    moved = (new_start, new_end) != (booking.start_at, booking.end_at)
    equipment = booking.equipment
    slot = Slot(equipment, new_start, new_end)
    if moved and booking.project is not None:
        require_agreement(session, booking.project)  # signed, or waived (issue 15)
    if moved:
        # Checked before anything changes: the checks' queries flush the session.
        # An override covers only the dates a coordinator approved; a move by
        # someone who may not override is checked again.
        overridden = booking.override_reason is not None and may(actor, "override", equipment)
        check_all(session, slot, trainer=booking.trainer, now=now, policy=policy,
                  check_certification=not overridden, exclude_booking_ids=[booking.id],
                  actor=actor, group_id=booking.group_id)
        verdict = check_quotas(session, actor=actor, equipment=equipment, start=new_start,
                               end=new_end, now=now, booked_by=booking.booked_by,
                               exclude_booking_ids=[booking.id])
    else:
        verdict = QuotaVerdict()
    # Inside what was approved (same machine and trainer, no earlier start,
    # no later end): the approval holds. Anything else is decided again.
    inside = booking.start_at <= new_start and new_end <= booking.end_at
    if new_title != booking.title:
        changes["title"] = [booking.title, new_title]
    if moved:
        changes["start"] = [booking.start_at.isoformat(), new_start.isoformat()]
        changes["end"] = [booking.end_at.isoformat(), new_end.isoformat()]
    occupancies = list(booking.occupancies)  # loaded before the savepoint
    was = (booking.start_at, booking.end_at)

    def apply() -> None:
        booking.title = new_title
        if not moved:
            return
        booking.start_at, booking.end_at = new_start, new_end
        for occupancy in occupancies:
            occupancy.starts_at = new_start
            occupancy.ends_at = held_until(equipment, new_end)
        if booking.override_reason is not None and not may(actor, "override", equipment):
            booking.override_reason = None  # checked again above: no longer an override
        if booking.status is BookingStatus.CONFIRMED and not inside and (
                needs_approval(actor, equipment, booking.project) or verdict.needs_approval):
            # A coordinator approved other times: the new ones need a decision too.
            booking.status = BookingStatus.PENDING
            booking.decision_deadline = decision_deadline(equipment, new_start, now)
        # Moved: the guard checks it again like any booking (migration 0010).
        booking.trainer_clash = False

    _write(session, slot, apply, exclude_id=booking.id,
           trainer_refusal=lambda: _trainer_refusal(session, slot, booking.trainer, actor,
                                                    booking.group_id, [booking.id]))
    if not changes:
        return booking
    booking.sequence += 1
    booking.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="booking.update", object_type="booking",
                 object_id=booking.id, now=now, changes=changes)
    _audit_quota_overrides(session, actor, booking, verdict, now)
    if notify and moved:
        notifications.booking_moved(session, [(booking, *was)], now=now)
    elif notify:
        notifications.booking_changed(session, booking, now=now)
    return booking


def cancel_booking(session: Session, *, actor: User, booking: Booking, now: datetime,
                   reason: str | None = None, notify: bool = True) -> Booking:
    """Cancel: the row stays with its reason, the slot is freed, SEQUENCE rises.
    ``notify=False``: nobody is told (the demo campus)."""
    require(actor, "cancel", booking)
    _require_active(booking, now)
    late = check_cancel_deadline(booking, actor=actor, now=now)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_late = late
    booking.cancelled_at = now
    booking.cancelled_by_id = actor.id
    booking.cancel_reason = (reason or "").strip() or None
    booking.sequence += 1
    booking.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="booking.cancel", object_type="booking",
                 object_id=booking.id, now=now, reason=booking.cancel_reason,
                 **({"late": True} if late else {}))
    if notify:
        notifications.booking_changed(session, booking, now=now, reason=booking.cancel_reason)
    return booking


def decide_booking(session: Session, *, actor: User, booking: Booking, approve: bool,
                   now: datetime, reason: str | None = None) -> Booking:
    """Approve or reject a pending booking (coordinator of the owner, or admin)."""
    require(actor, "decide", booking)
    if booking.status is not BookingStatus.PENDING:
        raise InvalidState(N_("Only a pending booking can be approved or rejected; this one "
                              "is “%(status)s”."), {"status": booking.status.value},
                           status=booking.status)
    booking.status = BookingStatus.CONFIRMED if approve else BookingStatus.REJECTED
    booking.decided_by_id = actor.id
    booking.decided_at = now
    booking.decision_reason = (reason or "").strip() or None
    booking.sequence += 1
    booking.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="booking.approve" if approve else "booking.reject",
                 object_type="booking", object_id=booking.id, now=now,
                 reason=booking.decision_reason)
    notifications.booking_changed(session, booking, now=now, reason=booking.decision_reason)
    return booking


def with_times(request: BookingRequest, start: datetime, end: datetime) -> BookingRequest:
    return replace(request, start=start, end=end)
