"""Checking a booking in and out at the machine, and acting on an incident.

Check-in is open from :data:`CHECK_IN_OPENS_MINUTES` before the start to the
machine's grace period after it (``check_in_grace_minutes``; never past the
end). Every machine may be checked in, whether or not it requires it: on a
machine that does not, check-in only records the real use (nobody is released
as a no-show there). The person at the machine (the trainer, or the booker of
a booking without one) must hold today, in the campus's time, every
certification the machine (and, for a line, each component) requires: a
coordinator checking in on their behalf checks theirs, not their own.

Check-out records the real end (before or after the booked end; a booking the
scheduler already marked completed is checked out all the same) and, when a
problem is described, an :class:`Incident` that the owning establishment's
coordinators are told of by e-mail. From the incident they put the machine in
maintenance (through the equipment service, audited there) or mark it
resolved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.permissions import require
from booking.services import audit
from booking.services.bookings.rules import (
    describe_missing,
    missing_certifications,
    required_types,
)
from booking.services.checkin.access import at_the_machine
from booking.services.checkin.notices import incident_reported
from booking.services.equipment.hours import zone_of
from booking.services.equipment.operations import update_equipment
from booking.services.errors import (
    N_,
    CertificationRequired,
    CheckInClosed,
    CheckInNotOpen,
    InvalidState,
    ValidationError,
)
from booking.services.inputs import text_problem
from models import Booking, BookingStatus, EquipmentStatus, User
from models.incident import Incident

CHECK_IN_OPENS_MINUTES = 15
# The longest problem description (the API's schema and the page's form say the same).
INCIDENT_MAX_LENGTH = 2000
# The longest maintenance reason (the equipment's status_reason).
REASON_MAX_LENGTH = 2000


def check_in_window(booking: Booking) -> tuple[datetime, datetime]:
    """When the booking may be checked in: [opens, closes], closes never past its end."""
    opens = booking.start_at - timedelta(minutes=CHECK_IN_OPENS_MINUTES)
    grace = booking.equipment.check_in_grace_minutes or 0
    return opens, min(booking.start_at + timedelta(minutes=grace), booking.end_at)


def check_in_state(booking: Booking, now: datetime) -> str:
    """Where the booking stands at ``now``, as check_in and check_out judge
    it: "done" (checked out), "in" (checked in), "early" (check-in not open
    yet), "closed" (too late, or not confirmed), "open"."""
    if booking.checked_out_at is not None:
        return "done"
    if booking.checked_in_at is not None:
        return "in"
    opens, closes = check_in_window(booking)
    if now < opens:
        return "early"
    if now > closes or booking.status is not BookingStatus.CONFIRMED:
        return "closed"
    return "open"


def check_in(session: Session, *, actor: User, booking: Booking, now: datetime) -> Booking:
    """Record that the booking's session started at the machine, at ``now``."""
    begin_write(session)
    _allowed(actor, booking)
    _lock(session, booking)
    if booking.checked_in_at is not None:
        raise InvalidState(N_("This booking was already checked in on %(when)s."),
                           {"checked_in_at": booking.checked_in_at.isoformat()},
                           when=_local(booking, booking.checked_in_at))
    if booking.status is not BookingStatus.CONFIRMED:
        raise InvalidState(N_("Only a confirmed booking is checked in (this one: %(status)s)."),
                           {"status": booking.status.value}, status=booking.status)
    opens, closes = check_in_window(booking)
    if now < opens:
        raise CheckInNotOpen(N_("Check-in opens on %(when)s, %(minutes)d minutes before "
                                "the start."), {"opens_at": _iso(booking, opens)},
                             when=_local(booking, opens), minutes=CHECK_IN_OPENS_MINUTES)
    if now > closes:
        raise CheckInClosed(N_("Check-in was open until %(when)s: it is closed now."),
                            {"closed_at": _iso(booking, closes)}, when=_local(booking, closes))
    person = at_the_machine(booking)
    _check_certified(session, booking, person, actor, now)
    booking.checked_in_at = now
    booking.updated_at = now
    session.flush()
    # What the booking's history shows: the time, and whose check-in it was
    # when someone else pressed the button.
    on_behalf = ({"trainer_id": person.id}
                 if person is not None and person.id != actor.id else {})
    audit.record(session, actor=actor, action="booking.check_in", object_type="booking",
                 object_id=booking.id, now=now, checked_in_at=now.isoformat(), **on_behalf)
    return booking


def check_out(session: Session, *, actor: User, booking: Booking, now: datetime,
              incident: str | None = None) -> Booking:
    """Record the real end, at ``now``, and the problem described, if any."""
    begin_write(session)
    _allowed(actor, booking)
    description = _incident_text(incident)
    _lock(session, booking)
    if booking.checked_in_at is None:
        raise InvalidState(N_("This booking was not checked in: check it in first."),
                           {"checked_in_at": None})
    if booking.checked_out_at is not None:
        raise InvalidState(N_("This booking was already checked out on %(when)s."),
                           {"checked_out_at": booking.checked_out_at.isoformat()},
                           when=_local(booking, booking.checked_out_at))
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        raise InvalidState(N_("This booking cannot be checked out (status: %(status)s)."),
                           {"status": booking.status.value}, status=booking.status)
    booking.checked_out_at = max(now, booking.checked_in_at)
    booking.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="booking.check_out", object_type="booking",
                 object_id=booking.id, now=now, checked_out_at=booking.checked_out_at.isoformat())
    if description is not None:
        report_incident(session, actor=actor, booking=booking, description=description, now=now)
    return booking


def report_incident(session: Session, *, actor: User, booking: Booking, description: str,
                    now: datetime) -> Incident:
    """The problem described at check-out; the owning coordinators are told."""
    incident = Incident(equipment_id=booking.equipment_id, booking_id=booking.id,
                        reported_by_id=actor.id, reported_at=now, description=description)
    session.add(incident)
    session.flush()
    audit.record(session, actor=actor, action="incident.report", object_type="incident",
                 object_id=incident.id, now=now, equipment_id=booking.equipment_id,
                 booking_id=booking.id)
    incident_reported(session, incident, now=now)
    return incident


def put_in_maintenance(session: Session, *, actor: User, incident: Incident, now: datetime,
                       reason: str) -> Incident:
    """Put the incident's machine in maintenance, with ``reason`` (shown to users),
    through the equipment service (its rules, its audit entry)."""
    begin_write(session)
    require(actor, "manage", incident,
            N_("Only a coordinator of the machine's establishment acts on this incident."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("Say why the equipment is not active."), {"field": "reason"})
    if len(reason) > REASON_MAX_LENGTH or text_problem(reason, multiline=True):
        raise ValidationError(N_("The reason is at most %(max)d characters, without control "
                                 "characters."), {"field": "reason"}, max=REASON_MAX_LENGTH)
    equipment = incident.equipment
    if equipment.status is not EquipmentStatus.ACTIVE:
        raise InvalidState(N_("%(equipment)s is not in service any more: %(status)s."),
                           {"status": equipment.status.value}, equipment=equipment.name,
                           status=equipment.status)
    update_equipment(session, actor=actor, equipment=equipment, now=now,
                     data={"status": EquipmentStatus.MAINTENANCE, "status_reason": reason})
    audit.record(session, actor=actor, action="incident.maintenance", object_type="incident",
                 object_id=incident.id, now=now, equipment_id=equipment.id, maintenance=True)
    return incident


def resolve(session: Session, *, actor: User, incident: Incident, now: datetime) -> Incident:
    begin_write(session)
    require(actor, "manage", incident,
            N_("Only a coordinator of the machine's establishment acts on this incident."))
    if incident.resolved_at is not None:
        raise InvalidState(N_("This incident was already marked resolved on %(when)s."),
                           {"resolved_at": incident.resolved_at.isoformat()},
                           when=incident.resolved_at.astimezone(zone_of(incident.equipment)))
    incident.resolved_at = now
    incident.resolved_by_id = actor.id
    session.flush()
    audit.record(session, actor=actor, action="incident.resolve", object_type="incident",
                 object_id=incident.id, now=now, equipment_id=incident.equipment_id,
                 maintenance=incident.equipment.status is EquipmentStatus.MAINTENANCE)
    return incident


def _allowed(actor: User, booking: Booking) -> None:
    require(actor, "check_in", booking,
            N_("Only the booking's trainer or a coordinator of %(establishment)s checks this "
               "booking in and out."), establishment=booking.equipment.establishment.name)


def _lock(session: Session, booking: Booking) -> None:
    """Reread the booking under a row lock (PostgreSQL): two check-ins at once
    run one after the other, the second seeing the first's."""
    session.refresh(booking, with_for_update=True)


def _incident_text(incident: str | None) -> str | None:
    """The description, or None when there is none (blank counts as none)."""
    if incident is None or not incident.strip():
        return None
    text = incident.strip()
    if len(text) > INCIDENT_MAX_LENGTH:
        raise ValidationError(N_("Describe the problem in at most %(max)d characters."),
                              {"field": "incident"}, max=INCIDENT_MAX_LENGTH)
    problem = text_problem(text, multiline=True)
    if problem is not None:
        raise ValidationError(problem, {"field": "incident"})
    return text


def _check_certified(session: Session, booking: Booking, person: User | None, actor: User,
                     now: datetime) -> None:
    """The person at the machine holds, today, every type it requires."""
    equipment = booking.equipment
    missing = missing_certifications(session, person, required_types(equipment), now,
                                     now + timedelta(microseconds=1))
    if not missing:
        return
    details, names = describe_missing(missing)
    if person is not None and person.id == actor.id:
        raise CertificationRequired(
            N_("To use %(equipment)s today, you are missing: %(missing)s."), details,
            equipment=equipment.name, missing=names)
    raise CertificationRequired(
        N_("%(trainer)s is not certified for %(equipment)s today: missing %(missing)s."),
        details, trainer=person.name if person is not None else "-", equipment=equipment.name,
        missing=names)


def _local(booking: Booking, value: datetime) -> datetime:
    return value.astimezone(zone_of(booking.equipment))


def _iso(booking: Booking, value: datetime) -> str:
    return _local(booking, value).isoformat()

