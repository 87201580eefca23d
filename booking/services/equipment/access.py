"""Who may see, add and change equipment."""

from __future__ import annotations

from booking.permissions import coordinates, is_staff, may, rule
from models import Equipment, EquipmentDocument, Establishment, User


@rule(Equipment, "view")
def view(user: User, equipment: Equipment) -> bool:
    """The catalogue is the whole campus's, companies included."""
    return True


@rule(Equipment, "manage")
def manage(user: User, equipment: Equipment) -> bool:
    return coordinates(user, equipment.establishment_id)


@rule(Equipment, "history")
def history(user: User, equipment: Equipment) -> bool:
    """Read its audit entries: those who manage it."""
    return manage(user, equipment)


@rule(Establishment, "add_equipment")
def add_equipment(user: User, establishment: Establishment) -> bool:
    return coordinates(user, establishment.id)


@rule(Equipment, "add")
def add(user: User, kind: type) -> bool:
    """Admins and coordinators add equipment (each to their establishment)."""
    return is_staff(user)


@rule(Equipment, "manage_documents")
def manage_documents(user: User, equipment: Equipment) -> bool:
    """Those who manage the machine add, mark and delete its documents and photos."""
    return coordinates(user, equipment.establishment_id)


@rule(EquipmentDocument, "view")
def view_document(user: User, document: EquipmentDocument) -> bool:
    """A document is read by whoever may see its machine (404 for others)."""
    return may(user, "view", document.equipment)


@rule(EquipmentDocument, "delete", "mark")
def change_document(user: User, document: EquipmentDocument) -> bool:
    return may(user, "manage_documents", document.equipment)
