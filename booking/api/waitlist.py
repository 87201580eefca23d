"""/api/v1/waitlist: join the waiting list of a taken slot, see and leave
one's entries, claim an offer (booking.services.waitlist)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validates_schema

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.bookings import BookingSchema, LocalDateTime
from booking.api.common import allow, load, page
from booking.api.fields import Instant, PageArgs, object_id, page_of, required_text
from booking.extensions import db
from booking.handlers import commit
from booking.services.bookings.operations import BookingRequest
from booking.services.policy import Policy
from booking.services.waitlist import operations
from booking.services.waitlist.access import listed_entries
from booking.timeutil import utc_now
from models import Booking, BookingPurpose, WaitlistEntry, WaitlistStatus

blp = Blueprint("Waitlist", __name__, url_prefix="/api/v1/waitlist",
                description="The waiting list of taken slots: offered by e-mail when the "
                            "slot frees, to claim within a time.")
BLUEPRINTS = [blp]


class WaitlistInSchema(Schema):
    """A request for a taken slot, as for a booking."""

    equipment_id = object_id(required=True)
    start = Instant(required=True)
    end = Instant(required=True)
    # Not stripped: the service refuses a blank title with its own message.
    title = required_text(255, strip=False)
    purpose = fields.Enum(BookingPurpose, by_value=True, load_default=BookingPurpose.TRAINING)
    trainer_id = object_id(allow_none=True, load_default=None)
    project_id = object_id(allow_none=True, load_default=None)

    @validates_schema
    def _order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            raise ValidationError("end must come after start", "end")


class WaitlistEntrySchema(Schema):
    id = fields.Integer()
    equipment_id = fields.Integer()
    start = LocalDateTime(attribute="start_at")
    end = LocalDateTime(attribute="end_at")
    title = fields.String()
    purpose = fields.Enum(BookingPurpose, by_value=True)
    trainer_id = fields.Integer(allow_none=True, metadata={
        "description": "As asked; null: the caller trains (a trainer), or the project's "
                       "trainer, as for a booking."})
    project_id = fields.Integer(allow_none=True)
    status = fields.Enum(WaitlistStatus, by_value=True, metadata={
        "description": "waiting, offered (claim it before offer_expires_at), claimed "
                       "(booking_id), expired; cancelled once left."})
    offer_expires_at = LocalDateTime(allow_none=True)
    booking_id = fields.Integer(allow_none=True)
    created_at = LocalDateTime()


def _policy() -> Policy:
    return Policy.from_config(current_app.config)


@blp.route("", methods=["POST"])
@allow("join", WaitlistEntry)
@blp.arguments(WaitlistInSchema)
@blp.response(201, WaitlistEntrySchema)
def join(data: dict[str, Any]) -> WaitlistEntry:
    """Join the waiting list of a taken slot; refused (422) when it is free."""
    request = BookingRequest(
        equipment_id=data["equipment_id"], start=data["start"], end=data["end"],
        title=data["title"], purpose=data["purpose"], trainer_id=data["trainer_id"],
        project_id=data["project_id"])
    entry = operations.join(db.session, actor=api_user(), request=request, now=utc_now(),
                            policy=_policy())
    commit()
    return entry


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(WaitlistEntrySchema))
def list_entries(args: dict[str, Any]) -> dict[str, Any]:
    """The reader's entries (a coordinator's machines' too), newest first."""
    stmt = listed_entries(api_user()).order_by(WaitlistEntry.created_at.desc(),
                                               WaitlistEntry.id.desc())
    return page(stmt, args)


@blp.route("/<id:waitlist_entry_id>", methods=["DELETE"])
@blp.response(204)
def leave(waitlist_entry_id: int) -> None:
    """Leave the line (an offer held passes to the next)."""
    entry = load(WaitlistEntry, waitlist_entry_id, api_user())
    operations.leave(db.session, actor=api_user(), entry=entry, now=utc_now())
    commit()


@blp.route("/<id:waitlist_entry_id>/claim", methods=["POST"])
@blp.response(201, BookingSchema)
def claim(waitlist_entry_id: int) -> Booking:
    """Book the offered slot (409 ``invalid_state`` once claimed or expired)."""
    entry = load(WaitlistEntry, waitlist_entry_id, api_user())
    booking = operations.claim(db.session, actor=api_user(), entry=entry, now=utc_now(),
                               policy=_policy())
    commit()
    return booking
