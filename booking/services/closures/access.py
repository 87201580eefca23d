"""Who may see, add and remove closures: the coordinators of the establishment
they close (its own, or its machine's), and admins."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from booking.permissions import coordinates, is_admin, is_staff, rule
from booking.services.closures.target import ClosureTarget
from models import Booking, Closure, Equipment, User


@rule(Closure, "view")
def view(user: User, closure: Closure) -> bool:
    """Closures are shown on every equipment calendar."""
    return True


@rule(Closure, "list")
def list_all(user: User, kind: type) -> bool:
    """The list of closures with their reasons is the coordinators' tool."""
    return is_staff(user)


@rule(Closure, "delete")
def delete(user: User, closure: Closure) -> bool:
    return coordinates(user, closure.owner_id)


@rule(Booking, "notify_closure")
def notify_closure(user: User, booking: Booking) -> bool:
    """Tell a booking's people of a closure over it: its establishment's coordinators."""
    return coordinates(user, booking.equipment.establishment_id)


@rule(ClosureTarget, "close", "import")
def close(user: User, target: ClosureTarget) -> bool:
    return coordinates(user, target.owner_id)


def managed_closures(user: User) -> Select[tuple[Closure]]:
    """The closures a coordinator manages (their establishment's and its
    machines'); every closure for an admin."""
    stmt = select(Closure)
    if not is_admin(user):
        own = user.establishment_id
        stmt = stmt.where(or_(
            Closure.establishment_id == own,
            Closure.equipment_id.in_(select(Equipment.id).where(
                Equipment.establishment_id == own))))
    return stmt
