"""Who may see, add and change equipment."""

from __future__ import annotations

from booking.permissions import coordinates, is_staff, rule
from models import Equipment, Establishment, User


@rule(Equipment, "view")
def view(user: User, equipment: Equipment) -> bool:
    """The catalogue is the whole campus's, companies included."""
    return True


@rule(Equipment, "manage")
def manage(user: User, equipment: Equipment) -> bool:
    return coordinates(user, equipment.establishment_id)


@rule(Establishment, "add_equipment")
def add_equipment(user: User, establishment: Establishment) -> bool:
    return coordinates(user, establishment.id)


@rule(Equipment, "add")
def add(user: User, kind: type) -> bool:
    """Admins and coordinators add equipment (each to their establishment)."""
    return is_staff(user)
