"""/api/v1/bookings: book, list, move, cancel, approve, reject."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.wrappers import Response

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, page
from booking.api.fields import Instant, PageArgs, integer, object_id, page_of, required_text, text
from booking.extensions import db
from booking.handlers import commit
from booking.services.bookings.groups import MAX_MACHINES, create_group
from booking.services.bookings.operations import BookingRequest, create_booking, decide_booking
from booking.services.bookings.series import SCOPES, cancel_in_scope, create_series, move_in_scope
from booking.services.bookings.visibility import filtered, visible_bookings
from booking.services.policy import Policy
from booking.timeutil import utc_now
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
)

blp = Blueprint("Bookings", __name__, url_prefix="/api/v1/bookings",
                description="Bookings and recurring series")
BLUEPRINTS = [blp]


class LocalDateTime(fields.DateTime):
    """An instant shown in its equipment's zone, with the offset."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(obj.equipment.establishment.timezone)).isoformat()


class BookingSchema(Schema):
    id = fields.Integer()
    uid = fields.String()
    equipment_id = fields.Integer()
    start = LocalDateTime(attribute="start_at")
    end = LocalDateTime(attribute="end_at")
    title = fields.String()
    purpose = fields.Enum(BookingPurpose, by_value=True)
    status = fields.Enum(BookingStatus, by_value=True)
    booked_by_id = fields.Integer()
    trainer_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    participants = fields.Integer(allow_none=True)
    series_id = fields.Integer(allow_none=True)
    sequence = fields.Integer()
    decision_deadline = LocalDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    override_reason = fields.String(allow_none=True)
    certification_flag = fields.Boolean()
    group_id = fields.String(allow_none=True)
    trainer_clash = fields.Boolean()
    cancelled_late = fields.Boolean()
    checked_in_at = LocalDateTime(allow_none=True)
    checked_out_at = LocalDateTime(allow_none=True)


class RecurrenceSchema(Schema):
    rrule = required_text(500, strip=False,
                          metadata={"example": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630"})
    skip_conflicts = fields.Boolean(load_default=False)


class BookingInSchema(Schema):
    equipment_id = object_id()
    # Several machines of one site for one session: one booking each, one group_id.
    equipment_ids = fields.List(object_id(), validate=validate.Length(min=2, max=MAX_MACHINES))
    start = Instant(required=True)
    end = Instant(required=True)
    # Not stripped: the service refuses a blank title with its own message.
    title = required_text(255, strip=False)
    purpose = fields.Enum(BookingPurpose, by_value=True, load_default=BookingPurpose.TRAINING)
    trainer_id = object_id(allow_none=True)
    project_id = object_id(allow_none=True)
    participants = integer(0, 10000, strict=False, allow_none=True)
    recurrence = fields.Nested(RecurrenceSchema, allow_none=True)
    override_reason = text(2000, strip=False, allow_none=True)

    @validates_schema
    def _order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            raise ValidationError("end must come after start", "end")
        if ("equipment_id" in data) == ("equipment_ids" in data):
            raise ValidationError("give equipment_id or equipment_ids", "equipment_id")
        if "equipment_ids" in data and data.get("recurrence"):
            raise ValidationError("a recurring series books one machine", "recurrence")


class GroupAnswerSchema(Schema):
    group_id = fields.String()
    created = fields.List(fields.Nested(BookingSchema))


class SeriesAnswerSchema(Schema):
    series_id = fields.Integer()
    created = fields.List(fields.Nested(BookingSchema))
    skipped = fields.List(fields.Dict())


def _scope() -> fields.String:
    return text(32, strip=False, load_default="occurrence", also=validate.OneOf(SCOPES))


class BookingPatchSchema(Schema):
    start = Instant()
    end = Instant()
    title = text(255, min_length=1, strip=False)
    scope = _scope()


class ReasonSchema(Schema):
    reason = text(2000, strip=False, allow_none=True)
    scope = _scope()


class DecisionSchema(Schema):
    reason = text(2000, strip=False, allow_none=True)


class BookingListArgs(PageArgs):
    equipment_id = object_id(strict=False)
    establishment_id = object_id(strict=False)
    trainer_id = object_id(strict=False)
    project_id = object_id(strict=False)
    status = fields.Enum(BookingStatus, by_value=True)
    from_ = Instant(data_key="from")
    to = Instant()


def _policy() -> Policy:
    return Policy.from_config(current_app.config)


@blp.route("", methods=["POST"])
@blp.arguments(BookingInSchema)
@blp.response(201, BookingSchema)
@blp.alt_response(201, schema=SeriesAnswerSchema, description="a recurring series",
                  success=True)
@blp.alt_response(201, schema=GroupAnswerSchema, description="several machines at once "
                  "(equipment_ids)", success=True)
def post_booking(data: dict[str, Any]) -> Booking | Response:
    """Book a slot, or a recurring series with ``recurrence``: all or nothing,
    or (``skip_conflicts``) what fits, the others reported with their error."""
    user = api_user()
    ids = data.get("equipment_ids")
    request = BookingRequest(
        equipment_id=data["equipment_id"] if ids is None else ids[0],
        start=data["start"], end=data["end"],
        title=data["title"], purpose=data["purpose"], trainer_id=data.get("trainer_id"),
        project_id=data.get("project_id"), participants=data.get("participants"),
        override_reason=data.get("override_reason"))
    recurrence = data.get("recurrence")
    if ids is not None:
        group = create_group(db.session, actor=user, request=request, equipment_ids=ids,
                             now=utc_now(), policy=_policy())
        commit()
        response = jsonify(GroupAnswerSchema().dump({"group_id": group.group_id,
                                                     "created": group.created}))
        response.status_code = 201
        return response
    if not recurrence:
        booking = create_booking(db.session, actor=user, request=request, now=utc_now(),
                                 policy=_policy())
        _commit_without_reload()
        return booking
    result = create_series(db.session, actor=user, request=request, rule=recurrence["rrule"],
                           skip_conflicts=recurrence["skip_conflicts"], now=utc_now(),
                           policy=_policy())
    commit()
    body = SeriesAnswerSchema().dump({
        "series_id": result.series.id if result.series else None,
        "created": result.created,
        "skipped": [{"start": s.start.isoformat(), "end": s.end.isoformat(),
                     "error": s.error.code, "message": s.error.message}
                    for s in result.skipped],
    })
    response = jsonify(body)
    response.status_code = 201
    return response


def _commit_without_reload() -> None:
    """Commit, keeping the objects' state: the answer is the booking just
    written, so reading it back (and its equipment and establishment, for the
    zone) after the commit would only repeat what the session holds."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        commit()
    finally:
        session.expire_on_commit = previous


@blp.route("", methods=["GET"])
@blp.arguments(BookingListArgs, location="query")
@blp.response(200, page_of(BookingSchema))
def list_bookings(args: dict[str, Any]) -> dict[str, Any]:
    """Bookings the user may see, filtered."""
    return page(filtered(visible_bookings(api_user()), args), args)


@blp.route("/<id:booking_id>", methods=["GET"])
@blp.response(200, BookingSchema)
def get_booking(booking_id: int) -> Booking:
    return load(Booking, booking_id, api_user())


@blp.route("/<id:booking_id>", methods=["PATCH"])
@blp.arguments(BookingPatchSchema)
@blp.response(200, BookingSchema)
def patch_booking(data: dict[str, Any], booking_id: int) -> Booking:
    """Move or retitle; ``scope`` extends the change to the following
    occurrences of its series or to the whole series."""
    user = api_user()
    booking = load(Booking, booking_id, user, "change")
    move_in_scope(db.session, actor=user, booking=booking, scope=data["scope"], now=utc_now(),
                  policy=_policy(), start=data.get("start"), end=data.get("end"),
                  title=data.get("title"))
    commit()
    return booking


@blp.route("/<id:booking_id>/cancel", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, BookingSchema)
def cancel(data: dict[str, Any], booking_id: int) -> Booking:
    """Cancel, with a reason; the row stays and its SEQUENCE rises."""
    user = api_user()
    booking = load(Booking, booking_id, user, "cancel")
    cancel_in_scope(db.session, actor=user, booking=booking, scope=data["scope"],
                    now=utc_now(), reason=data.get("reason"))
    commit()
    return booking


def _decide(booking_id: int, data: dict[str, Any], approve: bool) -> Booking:
    user = api_user()
    booking = load(Booking, booking_id, user, "decide")
    decide_booking(db.session, actor=user, booking=booking, approve=approve, now=utc_now(),
                   reason=data.get("reason"))
    commit()
    return booking


@blp.route("/<id:booking_id>/approve", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, BookingSchema)
def approve(data: dict[str, Any], booking_id: int) -> Booking:
    """Approve a pending booking (coordinator of the owning establishment)."""
    return _decide(booking_id, data, approve=True)


@blp.route("/<id:booking_id>/reject", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, BookingSchema)
def reject(data: dict[str, Any], booking_id: int) -> Booking:
    """Reject a pending booking, with a reason; its slot is freed."""
    return _decide(booking_id, data, approve=False)

