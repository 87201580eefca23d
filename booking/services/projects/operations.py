"""Industrial teaching projects: a company requests, a coordinator decides,
its company or a coordinator may cancel it.

Each operation starts with its permission (projects.access); then it checks
the data and the project's state, writes, flushes, audits, and tells the
company contact of each new status (notifications.project_changed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.permissions import may, may_train_projects, require
from booking.services import audit
from booking.services.accounts.access import active_trainers
from booking.services.bookings.operations import ACTIVE, cancel_booking
from booking.services.bookings.rules import missing_from, required_types
from booking.services.equipment.hours import wall_clock
from booking.services.errors import N_, Forbidden, InvalidState, NotFound, ValidationError
from booking.services.messaging import notifications
from booking.services.messaging.requests import project_requested
from booking.services.policy import CAMPUS_ZONE
from booking.services.projects.access import FINAL
from models import (
    Booking,
    Certification,
    CertificationType,
    Equipment,
    Project,
    ProjectStatus,
    Sector,
    User,
)

CANNOT_CANCEL = N_("This project is “%(status)s”: it can no longer be cancelled.")


def _equipment(session: Session, ids: list[int]) -> list[Equipment]:
    wanted = sorted(set(ids))
    found = list(session.scalars(select(Equipment).where(Equipment.id.in_(wanted)))) \
        if wanted else []
    missing = sorted(set(wanted) - {e.id for e in found})
    if missing:
        raise ValidationError(N_("No equipment with the ids %(ids)s."),
                              {"field": "equipment_ids", "missing": missing},
                              ids=", ".join(map(str, missing)))
    return sorted(found, key=lambda e: e.id)


def request_project(session: Session, *, actor: User, now: datetime, title: str,
                    learners: int, wanted_from: date, wanted_to: date,
                    equipment_ids: list[int] | None = None, description: str = "",
                    objectives: str = "", contact_name: str = "", contact_email: str = "",
                    contact_phone: str = "", sector: Sector = Sector.OTHER,
                    notify: bool = True) -> Project:
    """A company user requests a project for their company; it starts as requested
    (and its coordinators are told, unless ``notify`` is False: the demo)."""
    require(actor, "request", Project, N_("Only a company account requests projects."))
    if not title.strip():
        raise ValidationError(N_("The project needs a title."), {"field": "title"})
    if learners < 1:
        raise ValidationError(N_("A project has at least one learner."), {"field": "learners"})
    if wanted_from > wanted_to:
        raise ValidationError(N_("wanted_to comes before wanted_from."),
                              {"fields": ["wanted_from", "wanted_to"]})
    project = Project(
        company_id=actor.company_id, requested_by_id=actor.id, title=title,
        description=description, objectives=objectives, learners=learners,
        wanted_from=wanted_from, wanted_to=wanted_to, contact_name=contact_name,
        contact_email=contact_email, contact_phone=contact_phone,
        status=ProjectStatus.REQUESTED, created_at=now, updated_at=now, sector=sector,
        equipment=_equipment(session, equipment_ids or []),
    )
    session.add(project)
    session.flush()
    audit.record(session, actor=actor, action="project.request", object_type="project",
                 object_id=project.id, now=now, company_id=project.company_id,
                 equipment_ids=[e.id for e in project.equipment])
    if notify:
        project_requested(session, project, now=now)
    return project


def _awaiting_decision(session: Session, project: Project) -> None:
    # Lock the row (PostgreSQL): of two concurrent decisions, the second sees the first.
    session.refresh(project, with_for_update=True)
    if project.status is not ProjectStatus.REQUESTED:
        raise InvalidState(N_("This project is “%(status)s”: it is no longer awaiting a "
                              "decision."), {"status": project.status.value}, status=project.status)


def _decide(project: Project, *, actor: User, now: datetime, status: ProjectStatus,
            reason: str | None) -> None:
    project.status = status
    project.decided_by_id = actor.id
    project.decided_at = now
    project.decision_reason = reason or None
    project.updated_at = now


def approve_project(session: Session, project: Project, *, actor: User, now: datetime,
                    trainer_id: int, reason: str | None = None, notify: bool = True) -> Project:
    """Approve a requested project and assign its trainer (an active trainer account)."""
    require(actor, "decide", project)
    _awaiting_decision(session, project)
    trainer = session.get(User, trainer_id)
    if trainer is None or not may_train_projects(trainer):
        raise ValidationError(N_("User %(id)s is not an active trainer."),
                              {"field": "trainer_id"}, id=trainer_id)
    _decide(project, actor=actor, now=now, status=ProjectStatus.APPROVED, reason=reason)
    project.trainer_id = trainer.id
    session.flush()
    audit.record(session, actor=actor, action="project.approve", object_type="project",
                 object_id=project.id, now=now, reason=reason or None, trainer_id=trainer.id)
    if notify:
        notifications.project_changed(session, project, now=now, reason=reason)
    return project


def reject_project(session: Session, project: Project, *, actor: User, now: datetime,
                   reason: str) -> Project:
    require(actor, "decide", project)
    if not reason.strip():
        raise ValidationError(N_("Say why the project is rejected."), {"field": "reason"})
    _awaiting_decision(session, project)
    _decide(project, actor=actor, now=now, status=ProjectStatus.REJECTED, reason=reason)
    session.flush()
    audit.record(session, actor=actor, action="project.reject", object_type="project",
                 object_id=project.id, now=now, reason=reason)
    notifications.project_changed(session, project, now=now, reason=reason)
    return project


def sessions_to_cancel(session: Session, project: Project, now: datetime) -> list[Booking]:
    """The project's pending and confirmed sessions that have not started yet
    (one under way is left to finish)."""
    return list(session.scalars(
        select(Booking).where(Booking.project_id == project.id, Booking.status.in_(ACTIVE),
                              Booking.start_at > now)
        .order_by(Booking.start_at, Booking.id)))


def check_cancellable(actor: User, project: Project) -> None:
    """Who may cancel, then whether the project still can be: the checks
    cancel_project makes before it writes, which pages ask before showing the
    confirm step. NotFound, Forbidden, or InvalidState for a project over."""
    if not may(actor, "view", project):
        raise NotFound(N_("No project %(id)d."), id=project.id)
    if not (may(actor, "decide", project) or may(actor, "request", Project)):
        raise Forbidden(N_("Only the project's company or a coordinator may cancel it."))
    if project.status in FINAL:
        raise InvalidState(CANNOT_CANCEL, {"status": project.status.value},
                           status=project.status)
    if not may(actor, "cancel", project):
        raise Forbidden(N_("The project's sessions have begun: ask a coordinator to cancel it."),
                        {"status": project.status.value})


def cancel_project(session: Session, project: Project, *, actor: User, now: datetime,
                   reason: str) -> list[Booking]:
    """Cancel the project and, through bookings.cancel_booking (its rules, its
    messages), its sessions still to come; answers the sessions cancelled.

    Another company's project is a NotFound; a trainer, or a company once the
    sessions have begun, a Forbidden; a project already over, an InvalidState.
    A session the actor may not cancel (booked by someone else, on a machine of
    another establishment) refuses the whole cancellation, naming it.
    """
    check_cancellable(actor, project)
    if not reason.strip():
        raise ValidationError(N_("Say why the project is cancelled."), {"field": "reason"})
    session.refresh(project, with_for_update=True)  # against a concurrent decision
    check_cancellable(actor, project)
    sessions = sessions_to_cancel(session, project, now)
    for booking in sessions:
        if not may(actor, "cancel", booking):
            raise Forbidden(N_("You may not cancel the session “%(title)s” on %(equipment)s: "
                               "ask a coordinator of %(establishment)s to cancel the project."),
                            {"booking_id": booking.id}, title=booking.title,
                            equipment=booking.equipment.name,
                            establishment=booking.equipment.establishment.name)
    for booking in sessions:
        cancel_booking(session, actor=actor, booking=booking, now=now, reason=reason)
    before = project.status
    project.status = ProjectStatus.CANCELLED
    project.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="project.cancel", object_type="project",
                 object_id=project.id, now=now, reason=reason, before=before.value,
                 booking_ids=[b.id for b in sessions])
    notifications.project_changed(session, project, now=now, reason=reason)
    return sessions


@dataclass(frozen=True)
class TrainerFit:
    """An active trainer and what they lack to run the project's sessions: each
    required type not held over the whole wanted period, with the last day
    they held it (None if never)."""

    trainer: User
    missing: list[tuple[CertificationType, date | None]]

    @property
    def certified(self) -> bool:
        return not self.missing


def trainer_fits(session: Session, project: Project) -> list[TrainerFit]:
    """Every active trainer, by name, checked (rule 5) against the types required
    by each wanted machine and its components, for every day from wanted_from
    to wanted_to (Paris days, both included)."""
    # A constant number of statements, however many machines and trainers: the
    # machines with their components and required types, the trainers (with the
    # establishment the page shows), and all their certifications of those types.
    wanted = [e.id for e in project.equipment]
    machines = session.scalars(
        select(Equipment).where(Equipment.id.in_(wanted))
        .options(selectinload(Equipment.required_certification_types),
                 selectinload(Equipment.components)
                 .selectinload(Equipment.required_certification_types))).all() \
        if wanted else []
    types: dict[int, CertificationType] = {}
    for equipment in machines:
        for ctype in required_types(equipment):
            types.setdefault(ctype.id, ctype)
    needed = sorted(types.values(), key=lambda t: t.code)
    start = wall_clock(project.wanted_from, time(0), CAMPUS_ZONE)
    end = wall_clock(project.wanted_to + timedelta(days=1), time(0), CAMPUS_ZONE)
    trainers = session.scalars(
        active_trainers().options(selectinload(User.establishment))).all()
    held: dict[int, list[Certification]] = defaultdict(list)
    if needed and trainers:
        for cert in session.scalars(select(Certification).where(
                Certification.user_id.in_([t.id for t in trainers]),
                Certification.certification_type_id.in_([t.id for t in needed]))):
            held[cert.user_id].append(cert)
    return [TrainerFit(trainer, missing_from(held[trainer.id], needed, start, end))
            for trainer in trainers]
