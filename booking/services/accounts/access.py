"""Who may see and manage accounts, establishments, companies, and the
background jobs page."""

from __future__ import annotations

from sqlalchemy import Select, case, select

from booking.permissions import (
    COORDINATING_ROLES,
    PROJECT_TRAINER_ROLES,
    STAFF,
    coordinates,
    is_admin,
    is_company,
    is_coordinator,
    is_staff,
    is_trainer,
    of_company,
    rule,
)
from models import ApiToken, Company, Establishment, IdentityProvider, JobRun, User


@rule(User, "view")
def view_user(user: User, other: User) -> bool:
    return is_staff(user) or user.id == other.id


@rule(User, "list")
def list_users(user: User, kind: type) -> bool:
    return is_staff(user)


@rule(User, "create", "manage")
def manage_users(user: User, other: object) -> bool:
    """Create, deactivate, reactivate, reset a password: admins."""
    return is_admin(user)


@rule(User, "invite")
def invite_users(user: User, kind: object) -> bool:
    """Open accounts by invitation: admins, coordinators, company contacts (the
    roles each may give: booking.services.accounts.invitations)."""
    return is_staff(user) or is_company(user)


@rule(Establishment, "view")
def view_establishment(user: User, establishment: Establishment) -> bool:
    return True


@rule(Establishment, "create", "manage")
def manage_establishment(user: User, establishment: object) -> bool:
    return is_admin(user)


@rule(Establishment, "coordinate")
def coordinate(user: User, establishment: object) -> bool:
    """An establishment: its coordinators and admins. The class: any coordinator
    or admin (the coordination pages)."""
    if isinstance(establishment, type):
        return is_staff(user)
    assert isinstance(establishment, Establishment)
    return coordinates(user, establishment.id)


@rule(Company, "view")
def view_company(user: User, company: Company) -> bool:
    return is_staff(user) or of_company(user, company.id)


@rule(Company, "list", "create")
def manage_companies(user: User, kind: object) -> bool:
    return is_staff(user)


@rule(JobRun, "view")
def view_jobs(user: User, kind: object) -> bool:
    return is_staff(user)


@rule(JobRun, "run", "view_traceback")
def run_job(user: User, kind: object) -> bool:
    # A traceback names server paths, and its message hosts or accounts: admins
    # only (they run the server); coordinators read which exception it was.
    return is_admin(user)


def coordinated_establishments(user: User) -> Select[tuple[Establishment]]:
    """Every establishment for an admin; a coordinator's own; none for others."""
    stmt = select(Establishment).order_by(Establishment.name)
    if is_admin(user):
        return stmt
    if is_staff(user):
        return stmt.where(Establishment.id == user.establishment_id)
    return stmt.where(Establishment.id.is_(None))


def active_trainers() -> Select[tuple[User]]:
    """Trainer accounts that may run sessions, by name."""
    return (select(User).where(User.role.in_(PROJECT_TRAINER_ROLES), User.active.is_(True))
            .order_by(User.name, User.id))


def members(establishment: Establishment) -> Select[tuple[User]]:
    """The accounts of an establishment, its coordinators first."""
    return (select(User).where(User.establishment_id == establishment.id)
            .order_by(case((User.role.in_(STAFF), 0), else_=1), User.name))


def coordinators_of_establishments(ids: list[int]) -> Select[tuple[User]]:
    """The active coordinators of these establishments (who hear of their bookings)."""
    return (select(User).where(User.role.in_(COORDINATING_ROLES), User.active.is_(True),
                               User.establishment_id.in_(sorted(set(ids))))
            .order_by(User.id))


@rule(User, "manage_tokens")
def manage_tokens(user: User, owner: User) -> bool:
    """Integration tokens: their owner, or an admin for any account."""
    return is_admin(user) or user.id == owner.id


@rule(ApiToken, "view", "revoke")
def manage_token(user: User, token: ApiToken) -> bool:
    return is_admin(user) or user.id == token.user_id


@rule(User, "edit_preferences")
def edit_preferences(user: User, owner: User) -> bool:
    return user.id == owner.id


@rule(IdentityProvider, "view", "list", "create", "manage")
def manage_providers(user: User, provider: object) -> bool:
    """Identity providers hold client secrets and decide who becomes whom:
    admins only (an establishment's IT staff send their settings to an admin)."""
    return is_admin(user)


@rule(User, "rename")
def rename(user: User, other: User) -> bool:
    """Change an account's name (a bulk import): admins any; a coordinator the
    trainers of their establishment and company contacts, whom they invite."""
    if is_admin(user):
        return True
    return is_coordinator(user) and (
        is_company(other)
        or (is_trainer(other) and other.establishment_id == user.establishment_id))
