"""/api/v1/reports/utilisation: booked against open machine-hours, and used
against booked hours with no-show and late cancellation counts and rates
(issue 14; docs/reports.md). ``group_by=user`` gives one row per booker: every
user for an admin, the users of their own establishment for a coordinator."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.fields import Day, object_id, text
from booking.extensions import db
from booking.permissions import require
from booking.services.errors import N_
from booking.services.reports.access import Reports, people_scope
from booking.services.reports.utilisation import GROUPS, USER_GROUPS, utilisation
from booking.timeutil import utc_now

blp = Blueprint("Reports", __name__, url_prefix="/api/v1/reports",
                description="How the shared equipment is used")
BLUEPRINTS = [blp]


class UtilisationArgs(Schema):
    from_ = Day(required=True, data_key="from",
                        metadata={"description": "first day, Europe/Paris, inclusive"})
    to = Day(required=True, metadata={"description": "last day, exclusive"})
    group_by = text(32, strip=False, load_default="equipment",
                    also=validate.OneOf(GROUPS + USER_GROUPS))
    establishment_id = object_id(strict=False)


class RowSchema(Schema):
    key = fields.String()
    label = fields.String()
    booked_hours = fields.Float()
    open_hours = fields.Float()
    rate = fields.Float(allow_none=True)
    used_hours = fields.Float(metadata={
        "description": "hours from check-in to check-out (or the booked end), inside the "
                       "booked slot and the range; only checked-in bookings have any"})
    check_in_booked_hours = fields.Float(metadata={
        "description": "booked hours of bookings concerned by check-in (their machine "
                       "requires it, or they were checked in)"})
    usage_rate = fields.Float(allow_none=True, metadata={
        "description": "used_hours over check_in_booked_hours, null without them"})
    due_count = fields.Integer(metadata={
        "description": "bookings started in the range, due at a check-in machine "
                       "(confirmed, completed or no_show) and started before now"})
    no_show_count = fields.Integer(metadata={"description": "no_show bookings among them"})
    no_show_rate = fields.Float(allow_none=True, metadata={
        "description": "no_show_count over due_count, null without bookings due"})
    bookings_count = fields.Integer(metadata={
        "description": "bookings made, whatever their status, started in the range"})
    late_cancellation_count = fields.Integer(metadata={
        "description": "bookings cancelled after the machine's cancellation deadline"})
    late_cancellation_rate = fields.Float(allow_none=True, metadata={
        "description": "late_cancellation_count over bookings_count, null without bookings"})


class UtilisationSchema(Schema):
    items = fields.List(fields.Nested(RowSchema))


@blp.route("/utilisation", methods=["GET"])
@blp.arguments(UtilisationArgs, location="query")
@blp.response(200, UtilisationSchema)
def get_utilisation(args: dict[str, Any]) -> dict[str, Any]:
    """Booked hours, open hours and their rate, per equipment, establishment,
    purpose, company, month, sharing or user (the booker); changeover is not
    booked time. Each row also gives used hours (check-in to check-out), the
    no-show and late cancellation counts and rates."""
    user = api_user()
    require(user, "view", Reports, N_("Reports are for coordinators and admins."))
    rows = utilisation(db.session, first=args["from_"], last_excluded=args["to"],
                       group_by=args["group_by"], establishment_id=args.get("establishment_id"),
                       now=utc_now(), people=people_scope(user), counts=True)
    return {"items": rows}
