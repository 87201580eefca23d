"""Who may import files of accounts, equipment and certifications.

The class rule opens the pages, the endpoints and the command to admins and
coordinators; what each line may do is then the rule of the service it goes
through (invitations, equipment, certifications) plus the scope below: a
coordinator imports only into their own establishment.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from booking.permissions import coordinates, is_admin, is_staff, rule
from models import CertificationType, Equipment, User, equipment_certification_type


class Onboarding:
    """The bulk imports, as the object of a permission."""


@rule(Onboarding, "import", "view")
def may_import(user: User, kind: object) -> bool:
    return is_staff(user)


def may_import_type(session: Session, user: User, ctype: CertificationType) -> bool:
    """Certifications of a type: admins any; a coordinator the types that a
    machine of their establishment requires."""
    if is_admin(user):
        return True
    if not is_staff(user) or user.establishment_id is None:
        return False
    return bool(session.scalar(select(exists().where(
        equipment_certification_type.c.certification_type_id == ctype.id,
        equipment_certification_type.c.equipment_id == Equipment.id,
        Equipment.establishment_id == user.establishment_id))))


def may_import_into(user: User, establishment_id: int | None) -> bool:
    return coordinates(user, establishment_id)
