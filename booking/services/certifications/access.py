"""Who may see, grant, renew and revoke certifications, create their types,
and ask for or decide certification requests."""

from __future__ import annotations

from sqlalchemy import Select, select

from booking.permissions import (
    TRAINING_ROLES,
    is_admin,
    is_company,
    is_staff,
    is_trainer,
    may_train,
    rule,
)
from models import Certification, CertificationRequest, CertificationType, Equipment, User


@rule(User, "view_certifications")
def view_certifications_of(user: User, holder: User) -> bool:
    return is_staff(user) or user.id == holder.id


@rule(User, "grant_certification")
def grant(user: User, holder: User) -> bool:
    """Any coordinator (of any establishment) or an admin, as API.md says;
    company accounts hold no certification. A coordinator does not certify
    themselves (nor renews their own, nor decides their own request): another
    coordinator or an admin does, so that a second person vouches for every
    coordinator's certification; an admin, who may change any rule anyway, may,
    in the audit trail like every grant."""
    return is_staff(user) and not is_company(holder) and (is_admin(user) or user.id != holder.id)


@rule(Certification, "view")
def view(user: User, certification: Certification) -> bool:
    return is_staff(user) or certification.user_id == user.id


@rule(Certification, "revoke")
def revoke(user: User, certification: Certification) -> bool:
    return is_staff(user)


@rule(Certification, "renew")
def renew(user: User, certification: Certification) -> bool:
    return grant(user, certification.user)


@rule(CertificationType, "view")
def view_type(user: User, ctype: object) -> bool:
    return True


@rule(CertificationType, "create")
def create_type(user: User, kind: object) -> bool:
    return is_admin(user)


@rule(CertificationRequest, "view")
def view_request(user: User, request: CertificationRequest) -> bool:
    return is_staff(user) or request.user_id == user.id


@rule(CertificationRequest, "decide")
def decide_request(user: User, request: CertificationRequest) -> bool:
    return grant(user, request.user)


@rule(CertificationRequest, "list")
def list_requests(user: User, kind: object) -> bool:
    return is_staff(user)


@rule(Equipment, "request_certification")
def request_for(user: User, equipment: Equipment) -> bool:
    """Trainers ask for what a machine requires (coordinators grant themselves)."""
    return is_trainer(user)


def certificate_holders() -> Select[tuple[User]]:
    """Active accounts that may hold certifications (trainers, coordinators), by name."""
    return (select(User).where(User.role.in_(TRAINING_ROLES), User.active.is_(True))
            .order_by(User.name))


@rule(Certification, "hold")
def hold(user: User, kind: object) -> bool:
    """Trainers and coordinators hold certifications (pages show theirs)."""
    return may_train(user)
