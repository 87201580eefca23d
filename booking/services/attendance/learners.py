"""A project's learners: entered by its company (or staff), edited and removed
while the project runs, and erased (GDPR) on request or after the retention
period (booking.services.attendance.retention).

Erasure blanks the names and the e-mail and sets ``erased_at``: the row stays,
with its marks, so that the project's counts and hours do not change. Audit
entries never carry a learner's personal data (ids and public only).

More learners than the project announced (``Project.learners``) are taken:
a group grows; the project page says so (:func:`over_announced`).
"""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, InvalidState, ValidationError
from booking.services.inputs import text_problem
from models import AttendanceMark, Learner, LearnerPublic, Project, User

NAME_MAX = 120
EMAIL_MAX = 254
PROJECT_OVER = N_("This project is over: its learners can no longer be changed.")


def learners_of(session: Session, project: Project, *, erased: bool = True) -> list[Learner]:
    """The project's learners by name (erased ones last, by id)."""
    stmt = select(Learner).where(Learner.project_id == project.id)
    if not erased:
        stmt = stmt.where(Learner.erased_at.is_(None))
    rows = list(session.scalars(stmt.order_by(Learner.id)))
    return sorted(rows, key=lambda lr: (lr.erased_at is not None, lr.last_name.casefold(),
                                        lr.first_name.casefold(), lr.id))


def over_announced(session: Session, project: Project) -> bool:
    """More learners entered than the project announced."""
    return len(learners_of(session, project, erased=False)) > project.learners


def _name(value: str | None, field: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError(N_("This field is required."), {"field": field})
    if len(text) > NAME_MAX:
        raise ValidationError(N_("Write at most %(max)d characters."), {"field": field},
                              max=NAME_MAX)
    problem = text_problem(text)
    if problem is not None:
        raise ValidationError(problem, {"field": field})
    return text


def _email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX or text_problem(text) is not None:
        raise ValidationError(N_("“%(value)s” is not a valid e-mail address."),
                              {"field": "email"}, value=text[:EMAIL_MAX])
    try:
        # No DNS look-up: the platform may run on a closed network.
        return validate_email(text, check_deliverability=False,
                              test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(N_("“%(value)s” is not a valid e-mail address."),
                              {"field": "email"}, value=text) from exc


def _public(value: LearnerPublic | str | None) -> LearnerPublic:
    try:
        return LearnerPublic(value)
    except ValueError as exc:
        raise ValidationError(N_("Choose one of the proposed values."),
                              {"field": "public"}) from exc


def add_learner(session: Session, *, actor: User, project: Project, now: datetime,
                first_name: str, last_name: str, public: LearnerPublic | str,
                email: str | None = None) -> Learner:
    begin_write(session)
    require(actor, "manage_learners", project, PROJECT_OVER)
    learner = Learner(project_id=project.id, first_name=_name(first_name, "first_name"),
                      last_name=_name(last_name, "last_name"), email=_email(email),
                      public=_public(public), created_by_id=actor.id, created_at=now)
    learner.project = project
    session.add(learner)
    session.flush()
    audit.record(session, actor=actor, action="learner.add", object_type="learner",
                 object_id=learner.id, now=now, project_id=project.id,
                 public=learner.public.value)
    return learner


def update_learner(session: Session, *, actor: User, learner: Learner, now: datetime,
                   first_name: str, last_name: str, public: LearnerPublic | str,
                   email: str | None = None) -> Learner:
    begin_write(session)
    require(actor, "edit", learner, PROJECT_OVER)
    first, last, mail, kind = (_name(first_name, "first_name"), _name(last_name, "last_name"),
                               _email(email), _public(public))
    changed = [name for name, old, new in (("first_name", learner.first_name, first),
                                           ("last_name", learner.last_name, last),
                                           ("email", learner.email, mail),
                                           ("public", learner.public, kind)) if old != new]
    learner.first_name, learner.last_name, learner.email, learner.public = first, last, mail, kind
    session.flush()
    # Which fields changed, never their values (personal data stays out of the audit).
    audit.record(session, actor=actor, action="learner.update", object_type="learner",
                 object_id=learner.id, now=now, project_id=learner.project_id, fields=changed)
    return learner


def has_marks(session: Session, learner: Learner) -> bool:
    return bool(session.scalar(select(exists().where(AttendanceMark.learner_id == learner.id))))


def remove_learner(session: Session, *, actor: User, learner: Learner, now: datetime) -> None:
    """Delete a learner entered by mistake; one with attendance marks is erased
    instead (its marks are the project's hours)."""
    begin_write(session)
    require(actor, "remove", learner, PROJECT_OVER)
    if has_marks(session, learner):
        raise InvalidState(N_("This learner already has attendance marks: erase their "
                              "personal data instead of removing them."),
                           {"learner_id": learner.id})
    project_id, learner_id = learner.project_id, learner.id
    session.delete(learner)
    session.flush()
    audit.record(session, actor=actor, action="learner.remove", object_type="learner",
                 object_id=learner_id, now=now, project_id=project_id)


def blank(session: Session, learner: Learner, now: datetime) -> None:
    """The erasure itself (also the retention job's): the names and address,
    and the address their satisfaction questionnaires keep (answers stay)."""
    from booking.services.satisfaction.surveys import forget_learner

    learner.first_name = ""
    learner.last_name = ""
    learner.email = None
    learner.erased_at = now
    forget_learner(session, learner.id)


def erase_learner(session: Session, *, actor: User, learner: Learner, now: datetime) -> Learner:
    """Erase a learner's personal data on request; their marks and counts stay."""
    begin_write(session)
    require(actor, "erase", learner)
    if learner.erased_at is not None:
        return learner  # already erased: nothing left to erase
    blank(session, learner, now)
    session.flush()
    audit.record(session, actor=actor, action="learner.erase", object_type="learner",
                 object_id=learner.id, now=now, project_id=learner.project_id,
                 reason="request")
    return learner
