"""Who may do what with satisfaction questionnaires (issue 15).

A project's results are read by staff and by the project's company; a
trainer who sees the project (they run it) is refused them, since its
learners' comments are about them (403, not 404: they see the project).
Coordinators and admins send the questionnaires of a completed project now,
without waiting for the hourly job. The campus-wide aggregate is staff's:
an admin's covers every project, a coordinator's the projects using a
machine of their establishment (:func:`aggregate_scope`).

The questionnaire itself needs no account: its single-use link is the
permission (booking.services.satisfaction.surveys.answer_survey).
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.permissions import is_admin, is_coordinator, is_staff, of_company, rule
from models import Project, User


class SatisfactionResults:
    """The aggregate of every project's answers, as the object of a permission."""


@rule(Project, "satisfaction")
def results(user: User, project: Project) -> bool:
    """A project's results: staff, and the project's company."""
    return is_staff(user) or of_company(user, project.company_id)


@rule(Project, "send_surveys")
def send(user: User, project: Project) -> bool:
    """Send the questionnaires now (the operation checks the project is completed)."""
    return is_staff(user)


@rule(SatisfactionResults, "view")
def view_aggregate(user: User, results: object) -> bool:
    return is_staff(user)


@dataclass(frozen=True)
class Scope:
    """The projects an aggregate covers: all (admins), or those with a machine
    of ``establishment_id`` (a coordinator's), or none."""

    everything: bool
    establishment_id: int | None = None


def aggregate_scope(user: User) -> Scope:
    if is_admin(user):
        return Scope(everything=True)
    if is_coordinator(user) and user.establishment_id is not None:
        return Scope(everything=False, establishment_id=user.establishment_id)
    return Scope(everything=False)
