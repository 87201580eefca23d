"""Who may read the reports: coordinators (all establishments, their own by
default) and admins."""

from __future__ import annotations

from dataclasses import dataclass

from booking.permissions import is_admin, is_coordinator, is_staff, rule
from models import User


class Reports:
    """The campus's reports, as the object of a permission."""


@rule(Reports, "view")
def view(user: User, reports: object) -> bool:
    return is_staff(user)


def default_establishment(user: User) -> int | None:
    """The establishment a report opens on: a coordinator's own, else all."""
    return user.establishment_id if is_coordinator(user) else None


@dataclass(frozen=True)
class PeopleScope:
    """Whose figures a reader may see one by one (the reports' ``user``
    group): every user for an admin; the users of their own establishment for
    a coordinator (none without an establishment)."""

    everyone: bool
    establishment_id: int | None = None

    def allows(self, establishment_id: int | None) -> bool:
        if self.everyone:
            return True
        return self.establishment_id is not None and establishment_id == self.establishment_id


def people_scope(user: User) -> PeopleScope:
    """Only staff read reports (:func:`view`); of them, admins see everyone."""
    if is_admin(user):
        return PeopleScope(everyone=True)
    return PeopleScope(everyone=False, establishment_id=user.establishment_id
                       if is_coordinator(user) else None)
