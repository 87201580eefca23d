"""/api/v1/equipment: the catalogue, its rules, and availability."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, local_iso, page
from booking.api.fields import (
    Instant,
    PageArgs,
    integer,
    object_id,
    page_of,
    required_text,
    text,
)
from booking.extensions import db
from booking.handlers import commit
from booking.permissions import may
from booking.search import contains
from booking.services.bookings.availability import availability, load_with_hours
from booking.services.equipment.documents import listed_documents
from booking.services.equipment.operations import create_equipment, update_equipment
from booking.timeutil import utc_now
from models import Booking, DocumentKind, Equipment, EquipmentCategory, EquipmentStatus

blp = Blueprint("Equipment", __name__, url_prefix="/api/v1/equipment",
                description="Equipment, pilot lines and their components")
BLUEPRINTS = [blp]

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time HH:MM")


class OpeningHoursSchema(Schema):
    weekday = integer(0, 6, strict=False, required=True,
                      metadata={"description": "0 is Monday, 6 is Sunday"})
    opens = text(5, strip=False, required=True, also=HHMM)
    closes = text(5, strip=False, required=True, also=HHMM)


class EquipmentInSchema(Schema):
    # Not stripped here: the service strips the code, and the bounds are the
    # equipment page's (booking.admin.forms.EquipmentForm).
    code = required_text(32, strip=False)
    name = required_text(255, strip=False)
    description = text(5000, strip=False)
    location = text(255, strip=False)
    establishment_id = object_id(required=True)
    category = fields.Enum(EquipmentCategory, by_value=True, required=True)
    status = fields.Enum(EquipmentStatus, by_value=True)
    status_reason = text(2000, strip=False)
    parent_id = object_id(allow_none=True)
    capacity = integer(0, 100000, strict=False, allow_none=True)
    required_certification_type_ids = fields.List(object_id(), validate=validate.Length(max=50))
    slot_minutes = integer(1, 1440, strict=False)
    min_minutes = integer(1, 10080, strict=False)
    max_minutes = integer(1, 10080, strict=False)
    changeover_minutes = integer(0, 1440, strict=False)
    requires_approval = fields.Boolean()
    open_on_holidays = fields.Boolean()
    approval_deadline_hours = integer(1, 10000, strict=False)
    notice_minutes = integer(0, 129600, strict=False, metadata={
        "description": "Minimum notice: a booking starts at least this many minutes after "
                       "it is made (0: none). Coordinators of the owner are not held."})
    max_advance_days = integer(1, 3650, strict=False, allow_none=True, metadata={
        "description": "Furthest ahead a booking may start, in days; null: the campus "
                       "horizon."})
    cancel_deadline_hours = integer(0, 8760, strict=False, metadata={
        "description": "The booker may cancel until this many hours before the start "
                       "(0: until it starts); later, only a coordinator (409 too_late)."})
    others_open_days = integer(0, 3650, strict=False, allow_none=True, metadata={
        "description": "The owner's priority window: other establishments and companies "
                       "book a slot only from this many days before its day (422 "
                       "not_open_yet); null: no window."})
    check_in_required = fields.Boolean(metadata={
        "description": "Bookings are checked in at the machine (its QR label); one not "
                       "checked in by the end of the grace period is released as a "
                       "no-show. Off: check-in stays possible and only records the use."})
    check_in_grace_minutes = integer(0, 240, strict=False, metadata={
        "description": "Check-in is open from 15 minutes before the start to this many "
                       "minutes after it (default 15)."})
    opening_hours = fields.List(fields.Nested(OpeningHoursSchema),
                                validate=validate.Length(max=50))


class EquipmentPatchSchema(EquipmentInSchema):
    """Every field of EquipmentIn, each optional."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class EquipmentSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    description = fields.String()
    location = fields.String()
    establishment_id = fields.Integer()
    category = fields.Enum(EquipmentCategory, by_value=True)
    status = fields.Enum(EquipmentStatus, by_value=True)
    status_reason = fields.String()
    parent_id = fields.Integer(allow_none=True)
    component_ids = fields.Function(lambda e: [c.id for c in e.components])
    capacity = fields.Integer(allow_none=True)
    required_certification_type_ids = fields.Function(
        lambda e: [t.id for t in e.required_certification_types])
    slot_minutes = fields.Integer()
    min_minutes = fields.Integer()
    max_minutes = fields.Integer()
    changeover_minutes = fields.Integer()
    requires_approval = fields.Boolean()
    open_on_holidays = fields.Boolean()
    approval_deadline_hours = fields.Integer()
    notice_minutes = fields.Integer()
    max_advance_days = fields.Integer(allow_none=True)
    cancel_deadline_hours = fields.Integer()
    others_open_days = fields.Integer(allow_none=True)
    check_in_required = fields.Boolean()
    check_in_grace_minutes = fields.Integer()
    opening_hours = fields.Function(lambda e: [
        {"weekday": h.weekday, "opens": h.opens.strftime("%H:%M"),
         "closes": h.closes.strftime("%H:%M")} for h in e.opening_hours])


class EquipmentListArgs(PageArgs):
    establishment_id = object_id(strict=False)
    category = fields.Enum(EquipmentCategory, by_value=True)
    status = fields.Enum(EquipmentStatus, by_value=True)
    q = text(100, strip=False)


class WindowArgs(Schema):
    from_ = Instant(required=True, data_key="from")
    to = Instant(required=True)


class IntervalSchema(Schema):
    start = fields.String(metadata={"format": "date-time"})
    end = fields.String(metadata={"format": "date-time"})


class BusySchema(IntervalSchema):
    reason = fields.String(validate=validate.OneOf(["booking", "changeover", "closure",
                                                    "holiday"]))
    booking_id = fields.Integer(allow_none=True)


class AvailabilitySchema(Schema):
    busy = fields.List(fields.Nested(BusySchema))
    free = fields.List(fields.Nested(IntervalSchema))


class DocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(DocumentKind, by_value=True)
    title = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    required = fields.Boolean(metadata={"description": "to read before a session"})
    created_at = fields.Function(
        lambda d: local_iso(d.created_at, d.equipment.establishment.timezone),
        metadata={"format": "date-time"})
    url = fields.Function(lambda d: f"/documents/{d.id}", metadata={
        "description": "the download, for a browser logged in to the site"})


def _loaded() -> Any:
    return (selectinload(Equipment.components), selectinload(Equipment.opening_hours),
            selectinload(Equipment.required_certification_types))


@blp.route("", methods=["GET"])
@blp.arguments(EquipmentListArgs, location="query")
@blp.response(200, page_of(EquipmentSchema))
def list_equipment(args: dict[str, Any]) -> dict[str, Any]:
    """The catalogue, filtered by establishment, category, status or words."""
    stmt = select(Equipment).options(*_loaded()).order_by(Equipment.code)
    if "establishment_id" in args:
        stmt = stmt.where(Equipment.establishment_id == args["establishment_id"])
    if "category" in args:
        stmt = stmt.where(Equipment.category == args["category"])
    if "status" in args:
        stmt = stmt.where(Equipment.status == args["status"])
    if args.get("q"):
        stmt = stmt.where(contains(args["q"], Equipment.name, Equipment.code,
                                   Equipment.description))
    return page(stmt, args)


@blp.route("", methods=["POST"])
@blp.arguments(EquipmentInSchema)
@blp.response(201, EquipmentSchema)
def post_equipment(data: dict[str, Any]) -> Equipment:
    """Add equipment (admin, or a coordinator of its establishment)."""
    equipment = create_equipment(db.session, actor=api_user(), data=data, now=utc_now())
    commit()
    return equipment


@blp.route("/<id:equipment_id>", methods=["GET"])
@blp.response(200, EquipmentSchema)
def get_equipment(equipment_id: int) -> Equipment:
    return load(Equipment, equipment_id, api_user())


@blp.route("/<id:equipment_id>", methods=["PATCH"])
@blp.arguments(EquipmentPatchSchema)
@blp.response(200, EquipmentSchema)
def patch_equipment(data: dict[str, Any], equipment_id: int) -> Equipment:
    """Change rules, status (with a reason), hours or required certifications."""
    equipment = load(Equipment, equipment_id, api_user(), "manage")
    update_equipment(db.session, actor=api_user(), equipment=equipment, data=data,
                     now=utc_now())
    commit()
    return equipment


@blp.route("/<id:equipment_id>/availability", methods=["GET"])
@blp.arguments(WindowArgs, location="query")
@blp.response(200, AvailabilitySchema)
def get_availability(args: dict[str, Any], equipment_id: int) -> dict[str, Any]:
    """Busy periods (bookings, changeovers, closures, holidays) and free opening
    hours between ``from`` and ``to`` (at most 93 days)."""
    user = api_user()
    load(Equipment, equipment_id, user)
    (result,) = availability(db.session, load_with_hours(db.session, [equipment_id]),
                             args["from_"], args["to"])
    zone = result.equipment.establishment.timezone
    visible = _visible_bookings(user, [b.booking_id for b in result.busy if b.booking_id])
    return {
        "busy": [{"start": local_iso(b.start, zone), "end": local_iso(b.end, zone),
                  "reason": b.reason,
                  "booking_id": b.booking_id if b.booking_id in visible else None}
                 for b in result.busy],
        "free": [{"start": local_iso(s, zone), "end": local_iso(e, zone)}
                 for s, e in result.free],
    }


@blp.route("/<id:equipment_id>/documents", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(DocumentSchema))
def list_documents(args: dict[str, Any], equipment_id: int) -> dict[str, Any]:
    """The machine's documents and photos, required reading first."""
    user = api_user()
    return page(listed_documents(load(Equipment, equipment_id, user), user), args)


def _visible_bookings(user: Any, ids: list[int]) -> set[int]:
    """A company sees others' bookings only as busy periods, without their ids."""
    if not ids:
        return set()
    bookings = db.session.scalars(select(Booking).where(Booking.id.in_(ids)))
    return {b.id for b in bookings if may(user, "view", b)}
