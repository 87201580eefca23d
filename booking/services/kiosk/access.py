"""Who may hold kiosk links and print check-in labels: the coordinators of the
establishment (for the site or one of its machines), and admins."""

from __future__ import annotations

from dataclasses import dataclass

from booking.permissions import coordinates, is_staff, rule
from models import Equipment, Establishment, KioskLink, KioskScope, User


@dataclass(frozen=True)
class KioskTarget:
    """What a kiosk link shows: a machine or a site."""

    scope: KioskScope
    target: Equipment | Establishment

    @property
    def establishment_id(self) -> int:
        if isinstance(self.target, Equipment):
            return self.target.establishment_id
        return self.target.id


@rule(KioskLink, "manage")
def manage_links(user: User, kind: type) -> bool:
    """The kiosk links page: coordinators and admins (others: 403)."""
    return is_staff(user)


@rule(KioskTarget, "view")
def view_target(user: User, target: KioskTarget) -> bool:
    """Another establishment's screens are not shown (404), even to a coordinator."""
    return coordinates(user, target.establishment_id)


@rule(KioskTarget, "create", "revoke")
def change_target(user: User, target: KioskTarget) -> bool:
    return coordinates(user, target.establishment_id)


@rule(Establishment, "manage_kiosks")
def manage_site(user: User, establishment: Establishment) -> bool:
    """The site's screens and its sheet of labels."""
    return coordinates(user, establishment.id)


@rule(Equipment, "print_label")
def print_label(user: User, equipment: Equipment) -> bool:
    """A machine's QR label: those who manage it."""
    return coordinates(user, equipment.establishment_id)
