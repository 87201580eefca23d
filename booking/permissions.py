"""Who may do what to which object: the one place that answers it.

Views and API handlers call :func:`require` after loading an object: what the
user may not even see is a 404 (another company's project), what they see but
may not change is a 403 (a trainer cancelling a colleague's booking).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from booking.services.errors import Forbidden, NotFound
from models import (
    Booking,
    Certification,
    Equipment,
    Establishment,
    Feed,
    FeedScope,
    Project,
    Role,
    User,
)

STAFF = (Role.ADMIN, Role.COORDINATOR)


def is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


def is_staff(user: User) -> bool:
    """Coordinators and admins: they see and decide across the campus."""
    return user.role in STAFF


def coordinates(user: User, establishment_id: int | None) -> bool:
    """Admins, or the coordinator of that establishment."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.COORDINATOR and user.establishment_id == establishment_id


def _company_of_booking(booking: Booking) -> int | None:
    if booking.project is not None:
        return booking.project.company_id
    return booking.booked_by.company_id if booking.booked_by is not None else None


# --- predicates, one per (object kind, action) -------------------------------


def view_booking(user: User, booking: Booking) -> bool:
    if user.role is Role.COMPANY:
        return user.company_id is not None and _company_of_booking(booking) == user.company_id
    return True


def change_booking(user: User, booking: Booking) -> bool:
    """Move or retitle: the booker, its trainer, a coordinator of the owner."""
    return (
        booking.booked_by_id == user.id
        or booking.trainer_id == user.id
        or coordinates(user, booking.equipment.establishment_id)
    )


def cancel_booking(user: User, booking: Booking) -> bool:
    return booking.booked_by_id == user.id or coordinates(
        user, booking.equipment.establishment_id
    )


def decide_booking(user: User, booking: Booking) -> bool:
    return coordinates(user, booking.equipment.establishment_id)


def book_equipment(user: User, equipment: Equipment) -> bool:
    return user.role in (Role.ADMIN, Role.COORDINATOR, Role.TRAINER, Role.COMPANY)


def override_rules(user: User, equipment: Equipment) -> bool:
    """Book past a missing certification, with an audited reason."""
    return is_staff(user)


def manage_equipment(user: User, equipment: Equipment) -> bool:
    return coordinates(user, equipment.establishment_id)


def manage_establishment(user: User, establishment: Establishment) -> bool:
    return is_admin(user)


def view_project(user: User, project: Project) -> bool:
    if is_staff(user):
        return True
    if user.role is Role.COMPANY:
        return user.company_id == project.company_id
    return project.trainer_id == user.id


def decide_project(user: User, project: Project) -> bool:
    return is_staff(user)


def view_certifications_of(user: User, holder: User) -> bool:
    return is_staff(user) or user.id == holder.id


def grant_certification(user: User, holder: User) -> bool:
    """Any coordinator (of any establishment) or an admin, as API.md says."""
    return is_staff(user) and holder.role is not Role.COMPANY


def revoke_certification(user: User, certification: Certification) -> bool:
    return is_staff(user)


def view_user(user: User, other: User) -> bool:
    return is_staff(user) or user.id == other.id


def view_feed(user: User, feed: Feed) -> bool:
    return feed.owner_id == user.id or is_admin(user)


def open_feed_scope(user: User, scope: FeedScope, target: Any) -> bool:
    """May the user subscribe to this scope? A company sees only its own."""
    if scope is FeedScope.COMPANY:
        return is_staff(user) or (user.role is Role.COMPANY and user.company_id == target.id)
    if scope is FeedScope.PROJECT:
        return view_project(user, target)
    if scope is FeedScope.TRAINER:
        return is_staff(user) or user.id == target.id
    # Equipment and establishment feeds show every booking of every company.
    return user.role is not Role.COMPANY


RULES: dict[tuple[type, str], Callable[[User, Any], bool]] = {
    (Booking, "view"): view_booking,
    (Booking, "change"): change_booking,
    (Booking, "cancel"): cancel_booking,
    (Booking, "decide"): decide_booking,
    (Equipment, "view"): lambda user, equipment: True,
    (Equipment, "book"): book_equipment,
    (Equipment, "override"): override_rules,
    (Equipment, "manage"): manage_equipment,
    (Establishment, "view"): lambda user, establishment: True,
    (Establishment, "manage"): manage_establishment,
    (Project, "view"): view_project,
    (Project, "decide"): decide_project,
    (User, "view"): view_user,
    (User, "view_certifications"): view_certifications_of,
    (User, "grant_certification"): grant_certification,
    (Certification, "view"): lambda user, cert: is_staff(user) or cert.user_id == user.id,
    (Certification, "revoke"): revoke_certification,
    (Feed, "view"): view_feed,
    (Feed, "delete"): view_feed,
}


def may(user: User | None, action: str, obj: Any) -> bool:
    """True when ``user`` may do ``action`` to ``obj``; unknown pairs are refused."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    rule = RULES.get((type(obj), action))
    return rule is not None and rule(user, obj)


def require(user: User, action: str, obj: Any) -> Any:
    """Return ``obj`` if allowed; NotFound if the user may not see it, else Forbidden."""
    if not may(user, "view", obj):
        raise NotFound("not found")
    if action != "view" and not may(user, action, obj):
        raise Forbidden("you may not do this")
    return obj
