"""Which bookings a user may list: one rule for the API, the pages and the
exports (the per-object rule is booking.services.bookings.access.view)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from booking.permissions import is_company
from models import Booking, Equipment, Project, User


def visible_bookings(user: User) -> Select[tuple[Booking]]:
    """Every booking for staff and trainers; a company's own for a company user."""
    stmt = select(Booking).options(
        joinedload(Booking.equipment).joinedload(Equipment.establishment))
    if is_company(user):
        stmt = stmt.outerjoin(Project, Project.id == Booking.project_id).where(or_(
            Project.company_id == user.company_id,
            Booking.booked_by_id.in_(select(User.id).where(User.company_id == user.company_id)),
        ))
    return stmt


def my_bookings(user: User) -> Select[tuple[Booking]]:
    """"My bookings": a company's; anyone else's own, as booker or trainer."""
    stmt = visible_bookings(user)
    if is_company(user):
        return stmt
    return stmt.where(or_(Booking.booked_by_id == user.id, Booking.trainer_id == user.id))


def filtered(stmt: Select[tuple[Booking]], args: dict[str, Any]) -> Select[tuple[Booking]]:
    for key in ("equipment_id", "trainer_id", "project_id", "status"):
        if key in args:
            stmt = stmt.where(getattr(Booking, key) == args[key])
    if "establishment_id" in args:
        stmt = stmt.where(Booking.equipment_id.in_(select(Equipment.id).where(
            Equipment.establishment_id == args["establishment_id"])))
    if "from_" in args:
        stmt = stmt.where(Booking.end_at > args["from_"])
    if "to" in args:
        stmt = stmt.where(Booking.start_at < args["to"])
    return stmt.order_by(Booking.start_at, Booking.id)
