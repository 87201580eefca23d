"""The scheduling gate: a project's sessions are booked only once its
training agreement is signed, or a coordinator has said it needs none.

Called by the booking service itself (bookings.operations: a session created,
and a session moved), so the pages, the API, the series, the waiting list and
the imports all meet it. Its refusal is a 409 ``agreement_required`` that
says what to do; nothing is written.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from booking.services.errors import N_, InvalidState
from models import AgreementStatus, AgreementWaiver, Project, TrainingAgreement

AGREEMENT_REQUIRED = N_(
    "Project “%(title)s” cannot be scheduled yet: its training agreement must be signed "
    "first. Generate the agreement from the accepted quote and record its signed copy on "
    "the project's page, or ask a coordinator to state that this project needs none.")


class AgreementRequired(InvalidState):
    """No signed agreement and no waiver: the project's sessions wait (409)."""

    code = "agreement_required"


def schedulable(session: Session, project: Project) -> bool:
    """A signed agreement, or a waiver."""
    signed = exists().where(TrainingAgreement.project_id == project.id,
                            TrainingAgreement.status == AgreementStatus.SIGNED)
    waived = exists().where(AgreementWaiver.project_id == project.id)
    return bool(session.scalar(select(signed | waived)))


def require_agreement(session: Session, project: Project) -> None:
    """Raise :class:`AgreementRequired` unless the project may get sessions."""
    if not schedulable(session, project):
        raise AgreementRequired(AGREEMENT_REQUIRED, {"project_id": project.id},
                                title=project.title)
