"""Closures typed in by a coordinator: a site or one machine, a period, a reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.closures.target import ClosureTarget
from booking.services.errors import N_, ValidationError
from models import Closure, ClosureKind, Equipment, Establishment, User


def closure_target(session: Session, *, establishment_id: int | None,
                   equipment_id: int | None) -> ClosureTarget:
    """Exactly one of the two, and it exists; else a validation error (422)."""
    if (establishment_id is None) == (equipment_id is None):
        raise ValidationError(
            N_("Give either establishment_id or equipment_id, not both."),
            {"fields": ["establishment_id", "equipment_id"]},
        )
    if establishment_id is not None:
        establishment = session.get(Establishment, establishment_id)
        if establishment is None:
            raise ValidationError(N_("No establishment %(id)s."),
                                  {"field": "establishment_id"}, id=establishment_id)
        return ClosureTarget(establishment, None)
    equipment = session.get(Equipment, equipment_id)
    if equipment is None:
        raise ValidationError(N_("No equipment %(id)s."), {"field": "equipment_id"},
                              id=equipment_id)
    return ClosureTarget(None, equipment)


def create_closure(session: Session, target: ClosureTarget, *, actor: User, now: datetime,
                   start: datetime, end: datetime, reason: str,
                   kind: ClosureKind = ClosureKind.OTHER) -> Closure:
    require(actor, "close", target,
            N_("Only the coordinators of the establishment may close it."))
    if not start < end:
        raise ValidationError(N_("The closure must end after it starts."),
                              {"fields": ["start", "end"]})
    if not reason.strip():
        raise ValidationError(N_("Say why it is closed."), {"field": "reason"})
    closure = Closure(
        establishment_id=target.establishment.id if target.establishment else None,
        equipment_id=target.equipment.id if target.equipment else None,
        start_at=start, end_at=end, reason=reason, kind=kind,
        created_by_id=actor.id, created_at=now,
    )
    session.add(closure)
    session.flush()
    audit.record(session, actor=actor, action="closure.create", object_type="closure",
                 object_id=closure.id, now=now, establishment_id=closure.establishment_id,
                 equipment_id=closure.equipment_id, start=start.isoformat(),
                 end=end.isoformat(), reason=reason)
    return closure


def delete_closure(session: Session, closure: Closure, *, actor: User, now: datetime) -> None:
    require(actor, "delete", closure,
            N_("Only the coordinators of the establishment may reopen it."))
    audit.record(session, actor=actor, action="closure.delete", object_type="closure",
                 object_id=closure.id, now=now, establishment_id=closure.establishment_id,
                 equipment_id=closure.equipment_id, start=closure.start_at.isoformat(),
                 end=closure.end_at.isoformat(), reason=closure.reason)
    session.delete(closure)
    session.flush()


def closure_zones(session: Session, closures: list[Closure]) -> dict[int, str]:
    """The time zone of each closure's establishment, by closure id, in one query."""
    ids = [c.id for c in closures]
    if not ids:
        return {}
    own = Establishment.__table__.alias("own")
    via = Establishment.__table__.alias("via")
    rows = session.execute(
        select(Closure.id, func.coalesce(own.c.timezone, via.c.timezone))
        .outerjoin(own, own.c.id == Closure.establishment_id)
        .outerjoin(Equipment, Equipment.id == Closure.equipment_id)
        .outerjoin(via, via.c.id == Equipment.establishment_id)
        .where(Closure.id.in_(ids))
    )
    return {closure_id: zone for closure_id, zone in rows}
