"""Who may read the reports: coordinators (all establishments, their own by
default) and admins."""

from __future__ import annotations

from booking.permissions import is_coordinator, is_staff, rule
from models import User


class Reports:
    """The campus's reports, as the object of a permission."""


@rule(Reports, "view")
def view(user: User, reports: object) -> bool:
    return is_staff(user)


def default_establishment(user: User) -> int | None:
    """The establishment a report opens on: a coordinator's own, else all."""
    return user.establishment_id if is_coordinator(user) else None
