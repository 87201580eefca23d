"""Who may see, book, change, cancel and decide bookings."""

from __future__ import annotations

from booking.permissions import coordinates, is_company, is_staff, of_company, rule
from models import Booking, Equipment, Project, User


def company_of(booking: Booking) -> int | None:
    """The company a booking belongs to: its project's, or its booker's."""
    if booking.project is not None:
        return booking.project.company_id
    return booking.booked_by.company_id if booking.booked_by is not None else None


@rule(Booking, "view")
def view(user: User, booking: Booking) -> bool:
    """Everyone on the campus sees every booking, but a company only its own."""
    if is_company(user):
        return of_company(user, company_of(booking))
    return True


@rule(Booking, "change")
def change(user: User, booking: Booking) -> bool:
    """Move or retitle: the booker, its trainer, a coordinator of the owner."""
    return (booking.booked_by_id == user.id or booking.trainer_id == user.id
            or coordinates(user, booking.equipment.establishment_id))


@rule(Booking, "cancel")
def cancel(user: User, booking: Booking) -> bool:
    return booking.booked_by_id == user.id or coordinates(
        user, booking.equipment.establishment_id)


@rule(Booking, "decide")
def decide(user: User, booking: Booking) -> bool:
    return coordinates(user, booking.equipment.establishment_id)


@rule(Booking, "history")
def history(user: User, booking: Booking) -> bool:
    """Read its audit entries: those who manage the machine's bookings."""
    return coordinates(user, booking.equipment.establishment_id)


@rule(Equipment, "book")
def book(user: User, equipment: Equipment) -> bool:
    """Every role books (a company, the sessions of its projects only)."""
    return True


@rule(Equipment, "override")
def override(user: User, equipment: Equipment) -> bool:
    """Book past a missing certification, with an audited reason."""
    return is_staff(user)


@rule(Booking, "book_for_others")
def book_for_others(user: User, booking: object) -> bool:
    """Name another person as the trainer (a coordinator's decision)."""
    return is_staff(user)


def needs_approval(actor: User, equipment: Equipment, project: Project | None) -> bool:
    """Rule 6; a coordinator of the owning establishment decides at once."""
    if coordinates(actor, equipment.establishment_id):
        return False
    return (equipment.requires_approval or project is not None
            or actor.establishment_id != equipment.establishment_id)
