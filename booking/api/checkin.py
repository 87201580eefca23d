"""/api/v1/bookings/{id}/check-in and /check-out: the session at the machine
(booking.services.checkin)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.bookings import BookingSchema
from booking.api.common import load
from booking.api.fields import text
from booking.extensions import db
from booking.handlers import commit
from booking.services.checkin import operations
from booking.services.checkin.operations import INCIDENT_MAX_LENGTH
from booking.timeutil import utc_now
from models import Booking

blp = Blueprint("CheckIn", __name__, url_prefix="/api/v1/bookings",
                description="Check-in and check-out at the machine, by the booking's trainer "
                            "or a coordinator of the machine's establishment.")
BLUEPRINTS = [blp]


class CheckOutSchema(Schema):
    incident = text(INCIDENT_MAX_LENGTH, strip=False, allow_none=True, metadata={
        "description": "A problem on the machine, if any: the establishment's coordinators "
                       "are told and may put it in maintenance. Empty or null: none."})


@blp.route("/<id:booking_id>/check-in", methods=["POST"])
@blp.response(200, BookingSchema)
def check_in(booking_id: int) -> Booking:
    """Check in at the machine: open from 15 minutes before the start to the machine's
    grace period after it (409 ``check_in_not_open``, ``check_in_closed``); only a
    confirmed booking, once (409 ``invalid_state``); the trainer's certifications
    must be valid today (403 ``certification_required``)."""
    user = api_user()
    booking = load(Booking, booking_id, user)
    operations.check_in(db.session, actor=user, booking=booking, now=utc_now())
    commit()
    return booking


@blp.route("/<id:booking_id>/check-out", methods=["POST"])
@blp.arguments(CheckOutSchema)
@blp.response(200, BookingSchema)
def check_out(data: dict[str, Any], booking_id: int) -> Booking:
    """Check out: records the real end, once, after the check-in (409
    ``invalid_state`` otherwise), and the problem reported, if any."""
    user = api_user()
    booking = load(Booking, booking_id, user)
    operations.check_out(db.session, actor=user, booking=booking, now=utc_now(),
                         incident=data.get("incident"))
    commit()
    return booking
