"""One session over several machines of one site: one booking per machine,
created together all or nothing under one ``group_id``; each machine's rules
apply to its own booking, and the trainer may hold them all at once (the
trainer guard leaves a group's bookings out of each other's way).

Moving and cancelling a group together goes through the series' scopes
(scope ``group`` in booking.services.bookings.series).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.services import audit
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import N_, DomainError, NotFound, ValidationError
from booking.services.messaging import notifications
from booking.services.policy import Policy
from models import Booking, Equipment, User

# A class splits over a few machines; more is a mistake, not a session.
MAX_MACHINES = 12


@dataclass(frozen=True)
class GroupResult:
    group_id: str
    created: list[Booking]


def machines_of_group(session: Session, equipment_ids: list[int]) -> list[int]:
    """The distinct machines asked for, in order; all of one establishment."""
    ids = list(dict.fromkeys(equipment_ids))
    if not 2 <= len(ids) <= MAX_MACHINES:
        raise ValidationError(N_("Name from 2 to %(max)d different machines."),
                              {"field": "equipment_ids"}, max=MAX_MACHINES)
    sites = dict(session.execute(select(Equipment.id, Equipment.establishment_id)
                                 .where(Equipment.id.in_(ids))).all())
    for equipment_id in ids:
        if equipment_id not in sites:
            raise NotFound(N_("No equipment %(id)d."), id=equipment_id)
    if len(set(sites.values())) > 1:
        raise ValidationError(N_("The machines of one session belong to one establishment."),
                              {"field": "equipment_ids"})
    return ids


def create_group(session: Session, *, actor: User, request: BookingRequest,
                 equipment_ids: list[int], now: datetime, policy: Policy) -> GroupResult:
    begin_write(session)
    ids = machines_of_group(session, equipment_ids)
    group_id = str(uuid.uuid4())
    created: list[Booking] = []
    with session.begin_nested():
        for equipment_id in ids:
            try:
                created.append(create_booking(
                    session, actor=actor, request=replace(request, equipment_id=equipment_id),
                    now=now, policy=policy, notify=False, group_id=group_id))
            except DomainError as exc:
                # All or nothing: the savepoint goes; say which machine refused.
                exc.details.setdefault("equipment_id", equipment_id)
                raise
    audit.record(session, actor=actor, action="group.create", object_type="booking",
                 object_id=created[0].id, now=now, group_id=group_id,
                 bookings=[b.id for b in created])
    notifications.group_booked(session, created, now=now)
    return GroupResult(group_id, created)
