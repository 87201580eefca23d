"""The booking pages' side of one session over several machines
(booking.services.bookings.groups decides): the machines the form offers,
the preview machine by machine, the booking, a refusal named by the machine
that refused, and what a booking's pages show of its session."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from booking.extensions import db
from booking.handlers import commit
from booking.permissions import may
from booking.services.bookings.groups import create_group, machines_of_group
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.bookings.series import in_scope
from booking.services.errors import DomainError, Forbidden, NotFound
from booking.services.inputs import parse_id
from booking.services.policy import Policy
from booking.sites.grid import machines_of
from models import Booking, BookingStatus, Equipment, EquipmentStatus


@dataclass(frozen=True)
class Choice:
    """A machine the form offers for the same session; a component of a line
    is listed under its line."""

    equipment: Equipment
    component: bool


def _by_name(machine: Equipment) -> str:
    """« Étiqueteuse » between « Encartonneuse » and « Four », whatever the
    database's collation."""
    plain = unicodedata.normalize("NFKD", machine.name.casefold())
    return "".join(ch for ch in plain if not unicodedata.combining(ch))


def choices_for(equipment: Equipment | None) -> list[Choice]:
    """The other active machines of ``equipment``'s establishment the reader may
    book, by name, each line followed by its components."""
    if equipment is None:
        return []
    blocks: list[list[Choice]] = []
    for row in machines_of(db.session, equipment.establishment):
        if not row.component or not blocks:
            blocks.append([])
        if (row.equipment.id != equipment.id and row.equipment.status is EquipmentStatus.ACTIVE
                and may(current_user, "book", row.equipment)):
            blocks[-1].append(Choice(row.equipment, row.component))
    blocks.sort(key=lambda block: _by_name(block[0].equipment) if block else "")
    return [choice for block in blocks
            for choice in sorted(block, key=lambda c: (c.component, _by_name(c.equipment)))]


def prefilled_ids() -> list[int]:
    """The machines a link asks to tick (``equipment_ids``, repeated, as in the
    API): unreadable values are left out, as booking.query does."""
    ids = (parse_id(raw.strip()) for raw in request.args.getlist("equipment_ids")[:50])
    return list(dict.fromkeys(i for i in ids if i is not None))


def preview(booking_request: BookingRequest, others: list[int], *, now: datetime,
            policy: Policy) -> list[dict[str, Any]]:
    """Each machine's booking tried alone in a savepoint rolled back, with the
    session's group id (the trainer may hold all its machines): what each
    machine's rules say, where the real booking stops at the first refusal."""
    ids = machines_of_group(db.session, [booking_request.equipment_id, *others])
    group_id = str(uuid.uuid4())
    rows = []
    for equipment_id in ids:
        machine = db.session.get(Equipment, equipment_id)
        row: dict[str, Any] = {"machine": machine.name if machine else str(equipment_id),
                               "start": booking_request.start, "end": booking_request.end}
        savepoint = db.session.begin_nested()
        try:
            booking = create_booking(
                db.session, actor=current_user,
                request=replace(booking_request, equipment_id=equipment_id), now=now,
                policy=policy, notify=False, group_id=group_id)
            row.update(ok=True, pending=booking.status is BookingStatus.PENDING)
        except (NotFound, Forbidden):
            raise
        except DomainError as error:
            row.update(ok=False, message=error.message)
        finally:
            savepoint.rollback()
        rows.append(row)
    return rows


def book(booking_request: BookingRequest, others: list[int], *, now: datetime,
         policy: Policy) -> Response:
    result = create_group(db.session, actor=current_user, request=booking_request,
                          equipment_ids=[booking_request.equipment_id, *others], now=now,
                          policy=policy)
    commit()
    names = [b.equipment.name for b in result.created]
    flash(ngettext("%(num)d machine booked for the session: %(names)s.",
                   "%(num)d machines booked for the session: %(names)s.", len(names),
                   names=", ".join(names)), "success")
    if any(b.status is BookingStatus.PENDING for b in result.created):
        flash(_("Some of these bookings wait for a coordinator's approval."), "info")
    return redirect(url_for("bookings.show", booking_id=result.created[0].id))


def refusing_machine(error: DomainError) -> Equipment | None:
    """The machine a group's refusal came from (details["equipment_id"])."""
    equipment_id = error.details.get("equipment_id")
    return db.session.get(Equipment, equipment_id) if isinstance(equipment_id, int) else None


def refusal(error: DomainError, machine: Equipment) -> str:
    return _("Refused for %(machine)s, so nothing was booked: %(reason)s",
             machine=machine.name, reason=error.message)


def others_in_session(booking: Booking) -> list[Booking]:
    """The session's other bookings the reader may see, active or not."""
    if booking.group_id is None:
        return []
    stmt = (select(Booking).options(joinedload(Booking.equipment))
            .where(Booking.group_id == booking.group_id, Booking.id != booking.id)
            .order_by(Booking.id))
    return [b for b in db.session.scalars(stmt) if may(current_user, "view", b)]


def machines_to_come(booking: Booking, now: datetime) -> int:
    """How many machines a change of the whole session would address."""
    if booking.group_id is None:
        return 1
    return len(in_scope(db.session, booking, "group", now))
