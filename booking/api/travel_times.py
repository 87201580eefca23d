"""/api/v1/travel-times: the minutes a trainer needs between two
establishments, which the trainer guard adds between their bookings.

Everyone signed in reads them; admins write (booking.services.sharing.travel_admin).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow
from booking.api.fields import integer, object_id
from booking.extensions import db
from booking.handlers import commit
from booking.services.sharing import travel_admin
from booking.services.sharing.travel import default_minutes
from booking.timeutil import utc_now
from models import MAX_TRAVEL_MINUTES, TravelTime

blp = Blueprint("TravelTimes", __name__, url_prefix="/api/v1/travel-times",
                description="Travel times between establishments (the trainer guard adds "
                            "them); admins write.")
BLUEPRINTS = [blp]


class TravelTimeSchema(Schema):
    establishment_a_id = object_id(required=True, metadata={
        "description": "Either establishment of the pair: the order is free (answers give "
                       "the lower id first)."})
    establishment_b_id = object_id(required=True)
    minutes = integer(0, MAX_TRAVEL_MINUTES, required=True,
                      metadata={"description": "Either way, in minutes."})


class TravelTimesSchema(Schema):
    default_minutes = fields.Integer(metadata={
        "description": "Between two establishments without a time of their own."})
    items = fields.List(fields.Nested(TravelTimeSchema))


class TravelDefaultSchema(Schema):
    minutes = integer(0, MAX_TRAVEL_MINUTES, required=True)


class TravelPairArgs(Schema):
    establishment_a_id = object_id(strict=False, required=True)
    establishment_b_id = object_id(strict=False, required=True)


def _out(travel: TravelTime) -> dict[str, int]:
    return {"establishment_a_id": travel.establishment_a_id,
            "establishment_b_id": travel.establishment_b_id, "minutes": travel.minutes}


@blp.route("", methods=["GET"])
@allow("view", TravelTime)
@blp.response(200, TravelTimesSchema)
def list_travel_times() -> dict[str, Any]:
    """The default, and every pair given its own time."""
    return {"default_minutes": default_minutes(db.session),
            "items": [_out(leg.travel) for leg in travel_admin.legs(db.session)]}


@blp.route("", methods=["PUT"])
@allow("manage", TravelTime)
@blp.arguments(TravelTimeSchema)
@blp.response(200, TravelTimeSchema)
def put_travel_time(body: dict[str, Any]) -> dict[str, int]:
    """Set the minutes between two establishments (admin); either order of the ids."""
    travel = travel_admin.set_travel_time(db.session, actor=api_user(), now=utc_now(), **body)
    answer = _out(travel)
    commit()
    return answer


@blp.route("", methods=["DELETE"])
@allow("manage", TravelTime)
@blp.arguments(TravelPairArgs, location="query")
@blp.response(204)
def delete_travel_time(args: dict[str, Any]) -> None:
    """The pair takes the default again (admin); a pair without a time of its own too."""
    travel_admin.clear_travel_time(db.session, actor=api_user(), now=utc_now(), **args)
    commit()


@blp.route("/default", methods=["PATCH"])
@allow("manage", TravelTime)
@blp.arguments(TravelDefaultSchema)
@blp.response(200, TravelDefaultSchema)
def patch_default(body: dict[str, Any]) -> dict[str, int]:
    """The minutes between two establishments without a time of their own (admin)."""
    setting = travel_admin.set_default_minutes(db.session, actor=api_user(),
                                               minutes=body["minutes"], now=utc_now())
    answer = {"minutes": setting.travel_minutes}
    commit()
    return answer
