"""/api/v1/reports/utilisation: booked against open machine-hours."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.fields import Day, object_id, text
from booking.extensions import db
from booking.permissions import require
from booking.services.errors import N_
from booking.services.reports.access import Reports
from booking.services.reports.utilisation import GROUPS, utilisation

blp = Blueprint("Reports", __name__, url_prefix="/api/v1/reports",
                description="How the shared equipment is used")
BLUEPRINTS = [blp]


class UtilisationArgs(Schema):
    from_ = Day(required=True, data_key="from",
                        metadata={"description": "first day, Europe/Paris, inclusive"})
    to = Day(required=True, metadata={"description": "last day, exclusive"})
    group_by = text(32, strip=False, load_default="equipment", also=validate.OneOf(GROUPS))
    establishment_id = object_id(strict=False)


class RowSchema(Schema):
    key = fields.String()
    label = fields.String()
    booked_hours = fields.Float()
    open_hours = fields.Float()
    rate = fields.Float(allow_none=True)


class UtilisationSchema(Schema):
    items = fields.List(fields.Nested(RowSchema))


@blp.route("/utilisation", methods=["GET"])
@blp.arguments(UtilisationArgs, location="query")
@blp.response(200, UtilisationSchema)
def get_utilisation(args: dict[str, Any]) -> dict[str, Any]:
    """Booked hours, open hours and their rate, per equipment, establishment,
    purpose or company; changeover is not booked time."""
    require(api_user(), "view", Reports, N_("Reports are for coordinators and admins."))
    rows = utilisation(db.session, first=args["from_"], last_excluded=args["to"],
                       group_by=args["group_by"], establishment_id=args.get("establishment_id"))
    return {"items": rows}
