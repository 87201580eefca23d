"""Who may see, generate, sign and waive training agreements (issue 15).

Staff (coordinators and admins) see every project, so they see its agreement;
the project's company sees its own (another company's is a 404); trainers see
none. Generating one is staff's, and the operation narrows it to the quote's
issuer (an admin, or a coordinator of the establishment that issued the
accepted quote). Its signed scan is recorded by the issuer's staff or by the
project's company. A waiver (« not needed ») is any coordinator's word, like
the decision on the project itself.
"""

from __future__ import annotations

from booking.permissions import coordinates, is_staff, of_company, rule
from models import Project, TrainingAgreement, User


@rule(TrainingAgreement, "view")
def view(user: User, agreement: TrainingAgreement) -> bool:
    """Staff; a company account of the project's company."""
    return is_staff(user) or of_company(user, agreement.project.company_id)


@rule(TrainingAgreement, "sign")
def sign(user: User, agreement: TrainingAgreement) -> bool:
    """Record the signed scan: the issuer's coordinators, admins, the project's company."""
    return coordinates(user, agreement.establishment_id) \
        or of_company(user, agreement.project.company_id)


@rule(Project, "generate_agreement")
def generate(user: User, project: Project) -> bool:
    """Staff; generate_agreement then checks the quote's issuer."""
    return is_staff(user)


@rule(Project, "waive_agreement")
def waive(user: User, project: Project) -> bool:
    """Say the project needs no agreement, or take that back: staff."""
    return is_staff(user)
