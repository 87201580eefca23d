"""E-mails about requests: a project or a certification asked for goes to the
coordinators concerned; a certification granted or declined goes to its trainer.

Each message is queued once per object and state (dedupe keys), in the
recipient's language, in the transaction of the change it reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import COORDINATING_ROLES
from booking.services.accounts.access import coordinators_of_establishments
from booking.services.errors import N_, Nn_
from booking.services.messaging.notifications import SITE, render
from booking.services.messaging.outbox import Mail, enqueue
from models import (
    Certification,
    CertificationRequest,
    Project,
    User,
)


def _coordinators(session: Session, establishment_ids: Iterable[int | None]) -> list[User]:
    """The active coordinators of these establishments; every active
    coordinator when none is named (a request no site claims yet)."""
    ids = sorted({i for i in establishment_ids if i is not None})
    if ids:
        return list(session.scalars(coordinators_of_establishments(ids)))
    return list(session.scalars(select(User).where(User.role.in_(COORDINATING_ROLES),
                                                   User.active.is_(True)).order_by(User.id)))


def project_requested(session: Session, project: Project, *, now: datetime) -> int:
    """Tell the coordinators of the machines the project asks for (all of them
    when it names none) that it awaits a decision; the number queued."""
    queued = 0
    for person in _coordinators(session, [e.establishment_id for e in project.equipment]):
        params = {"title": project.title, "company": project.company.name,
                  "n": project.learners, "from": project.wanted_from, "to": project.wanted_to}
        mail = Mail(person.email,
                    render(person, N_("Project to decide: %(title)s (%(company)s)"), **params),
                    render(person, Nn_("%(company)s asks for the project “%(title)s”, "
                                       "%(n)d learner, between %(from)s and %(to)s. Approve it "
                                       "and name its trainer, or reject it.",
                                       "%(company)s asks for the project “%(title)s”, "
                                       "%(n)d learners, between %(from)s and %(to)s. Approve "
                                       "it and name its trainer, or reject it."), **params)
                    + f"\n\n{SITE}/projects/{project.id}")
        if enqueue(session, mail, now=now,
                   dedupe_key=f"project-request:{project.id}:{person.id}") is not None:
            queued += 1
    return queued


def certification_requested(session: Session, requests: list[CertificationRequest], *,
                            now: datetime) -> int:
    """One message per coordinator concerned (of the machine's establishment
    and of the trainer's) listing the types just asked for; the number queued."""
    if not requests:
        return 0
    trainer = requests[0].user
    machine = requests[0].equipment
    establishments = [trainer.establishment_id, machine.establishment_id if machine else None]
    types = ", ".join(r.certification_type.name for r in requests)
    queued = 0
    for person in _coordinators(session, establishments):
        if person.id == trainer.id:
            continue
        params = {"trainer": trainer.name, "types": types, "n": len(requests),
                  "equipment": machine.name if machine else "-"}
        mail = Mail(person.email,
                    render(person, Nn_("Certification request: %(trainer)s",
                                       "Certification requests: %(trainer)s", count="n"),
                           **params),
                    render(person, Nn_("%(trainer)s asks for the certification %(types)s "
                                       "(to use %(equipment)s). Grant or decline it.",
                                       "%(trainer)s asks for the certifications %(types)s "
                                       "(to use %(equipment)s). Grant or decline them."),
                           **params)
                    + f"\n\n{SITE}/certifications")
        key = f"cert-request:{requests[0].id}:{len(requests)}:{person.id}"
        if enqueue(session, mail, now=now, dedupe_key=key) is not None:
            queued += 1
    return queued


def certification_granted(session: Session, certification: Certification, *,
                          now: datetime) -> None:
    """Tell the holder the certification they now hold, and until when."""
    holder = certification.user
    if not holder.active:
        return
    params = {"type": certification.certification_type.name,
              "from": certification.valid_from, "until": certification.valid_until}
    enqueue(session, Mail(holder.email,
                          render(holder, N_("Certification granted: %(type)s"), **params),
                          render(holder, N_("You hold the certification %(type)s from "
                                            "%(from)s to %(until)s included."), **params)
                          + f"\n\n{SITE}/certifications"),
            now=now, dedupe_key=f"cert-granted:{certification.id}")


def certification_declined(session: Session, request: CertificationRequest, *,
                           now: datetime) -> None:
    """Tell the trainer their request was declined, with the reason given."""
    trainer = request.user
    if not trainer.active:
        return
    text = render(trainer, N_("Your request for the certification %(type)s was declined."),
                  type=request.certification_type.name)
    if request.reason:
        text += "\n\n" + render(trainer, N_("Reason: %(reason)s"), reason=request.reason)
    enqueue(session, Mail(trainer.email,
                          render(trainer, N_("Certification declined: %(type)s"),
                                 type=request.certification_type.name),
                          text + f"\n\n{SITE}/certifications"),
            now=now, dedupe_key=f"cert-declined:{request.id}")
