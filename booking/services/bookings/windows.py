"""A machine's booking windows: the minimum notice, the furthest ahead, the
owner's priority window, and the cancellation deadline.

The owner's coordinators (and admins) plan their machine: no window holds
them. The priority window opens a slot to other establishments and to
companies at midnight (the machine's time), ``others_open_days`` days before
the slot's day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from booking.permissions import coordinates, is_admin
from booking.services.equipment.hours import zone_of
from booking.services.errors import (
    BeyondHorizon,
    Nn_,
    NotOpenYet,
    TooLate,
    TooShortNotice,
)
from models import Booking, Equipment, User


def is_owner_side(actor: User, equipment: Equipment) -> bool:
    """Books as the owning establishment does (its people, or an admin)."""
    return is_admin(actor) or actor.establishment_id == equipment.establishment_id


def opens_for_others(equipment: Equipment, start: datetime) -> datetime | None:
    """When the slot starting at ``start`` opens to other establishments."""
    if equipment.others_open_days is None:
        return None
    zone = zone_of(equipment)
    day = start.astimezone(zone).date() - timedelta(days=equipment.others_open_days)
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def check_windows(equipment: Equipment, start: datetime, *, actor: User | None,
                  now: datetime) -> None:
    """Rules 2b (issue 13): notice, furthest ahead, priority window."""
    if actor is None or coordinates(actor, equipment.establishment_id):
        return
    zone = zone_of(equipment)
    if equipment.notice_minutes and start < now + timedelta(minutes=equipment.notice_minutes):
        hours, minutes = divmod(equipment.notice_minutes, 60)
        earliest = (now + timedelta(minutes=equipment.notice_minutes)).astimezone(zone)
        details = {"notice_minutes": equipment.notice_minutes,
                   "earliest": earliest.isoformat()}
        if minutes:
            raise TooShortNotice(
                Nn_("%(equipment)s is booked at least %(n)d minute ahead: the earliest "
                    "start now is %(earliest)s.",
                    "%(equipment)s is booked at least %(n)d minutes ahead: the earliest "
                    "start now is %(earliest)s.", count="n"),
                details, equipment=equipment.name, n=equipment.notice_minutes,
                earliest=earliest)
        raise TooShortNotice(
            Nn_("%(equipment)s is booked at least %(n)d hour ahead: the earliest start now "
                "is %(earliest)s.",
                "%(equipment)s is booked at least %(n)d hours ahead: the earliest start now "
                "is %(earliest)s.", count="n"),
            details, equipment=equipment.name, n=hours, earliest=earliest)
    if (equipment.max_advance_days is not None
            and start > now + timedelta(days=equipment.max_advance_days)):
        raise BeyondHorizon(
            Nn_("%(equipment)s is booked at most %(days)d day ahead: %(start)s is too far "
                "away.",
                "%(equipment)s is booked at most %(days)d days ahead: %(start)s is too far "
                "away.", count="days"),
            {"horizon_days": equipment.max_advance_days}, equipment=equipment.name,
            days=equipment.max_advance_days, start=start.astimezone(zone))
    opens = opens_for_others(equipment, start)
    if opens is not None and now < opens and not is_owner_side(actor, equipment):
        raise NotOpenYet(
            Nn_("%(equipment)s opens to other establishments %(days)d day before: "
                "this slot opens on %(opens)s.",
                "%(equipment)s opens to other establishments %(days)d days before: "
                "this slot opens on %(opens)s.", count="days"),
            {"opens_at": opens.isoformat(), "others_open_days": equipment.others_open_days},
            equipment=equipment.name, days=equipment.others_open_days, opens=opens.date())


def cancel_deadline(booking: Booking) -> datetime | None:
    hours = booking.equipment.cancel_deadline_hours
    return booking.start_at - timedelta(hours=hours) if hours else None


def check_cancel_deadline(booking: Booking, *, actor: User, now: datetime) -> bool:
    """True when the cancellation is late (a coordinator of the owner may still
    cancel); TooLate (409) for anyone else."""
    deadline = cancel_deadline(booking)
    if deadline is None or now <= deadline:
        return False
    if coordinates(actor, booking.equipment.establishment_id):
        return True
    zone = zone_of(booking.equipment)
    raise TooLate(
        Nn_("%(equipment)s may be cancelled until %(hours)d hour before the start (%(deadline)s)"
            ": ask a coordinator of %(establishment)s.",
            "%(equipment)s may be cancelled until %(hours)d hours before the start "
            "(%(deadline)s): ask a coordinator of %(establishment)s.", count="hours"),
        {"deadline": deadline.astimezone(zone).isoformat(),
         "cancel_deadline_hours": booking.equipment.cancel_deadline_hours},
        equipment=booking.equipment.name, hours=booking.equipment.cancel_deadline_hours,
        deadline=deadline.astimezone(zone), establishment=booking.equipment.establishment.name)
