"""Who may read invoice lines (issue 15): admins, and the coordinators of the
establishment that issued the accepted quote. Not companies (the invoice
reaches them from the establishment's accounting software) nor trainers.

The project itself stays hidden (404) from whoever may not see it
(booking.services.projects.access.view); someone who sees it but may not read
its invoice lines gets a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.permissions import coordinates, is_staff, rule
from models import User


class Invoicing:
    """The invoicing pages and files, as the object of a permission
    (``may(user, "view", Invoicing)``: who is shown them at all)."""


@dataclass(frozen=True)
class IssuedBy:
    """Invoice lines of quotes issued by an establishment."""

    establishment_id: int


@rule(Invoicing, "view")
def view(user: User, invoicing: object) -> bool:
    """Coordinators and admins; each coordinator then reads their own
    establishment's lines only (:func:`export`)."""
    return is_staff(user)


@rule(IssuedBy, "export")
def export(user: User, issuer: IssuedBy) -> bool:
    """Admins, and the coordinators of the issuing establishment."""
    return coordinates(user, issuer.establishment_id)
