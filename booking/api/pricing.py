"""/api/v1 routes of pricing (issue 15): price lists and billing profiles
(booking.services.pricing).

Staff (coordinators and admins) read every establishment's price list; an
admin sets every establishment's prices, a coordinator their own
establishment's. Companies and trainers get 403 ``forbidden`` (a price's id:
404). A billing profile is read by the establishment's coordinators and
admins, and written by admins.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow, load, local_iso
from booking.api.fields import (
    DATE_TIME,
    Day,
    PageArgs,
    integer,
    object_id,
    optional_text,
    page_of,
)
from booking.extensions import db
from booking.handlers import commit
from booking.services.policy import CAMPUS_ZONE
from booking.services.pricing import operations as pricing
from booking.services.pricing.lookup import price_list
from booking.timeutil import utc_now
from models import BillingProfile, Establishment, Price, PriceKind, Public

prices = Blueprint("Prices", __name__, url_prefix="/api/v1/prices",
                   description="Price lists: what an establishment charges each public for "
                               "its machines' hours, trainer hours, consumables and flat fees, "
                               "from a date.")
profiles = Blueprint("BillingProfiles", __name__, url_prefix="/api/v1/establishments",
                     description="An establishment's billing details and accounting codes.")
BLUEPRINTS = [prices, profiles]


class PriceSchema(Schema):
    id = fields.Integer(dump_only=True)
    establishment_id = object_id(required=True)
    equipment_id = object_id(load_default=None, allow_none=True, metadata={
        "description": "The machine of a machine_hour price (of that establishment); "
                       "null for the other kinds."})
    kind = fields.Enum(PriceKind, by_value=True, required=True)
    public = fields.Enum(Public, by_value=True, required=True)
    label = optional_text(pricing.LABEL_MAX_LENGTH, metadata={
        "description": "What is sold: required for a consumable or a flat fee."})
    unit = optional_text(pricing.UNIT_MAX_LENGTH)
    unit_price_cents = integer(0, pricing.MAX_UNIT_PRICE_CENTS, required=True, metadata={
        "description": "Excluding VAT, in euro cents."})
    vat_rate_bp = integer(0, pricing.MAX_VAT_RATE_BP, required=True, metadata={
        "description": "In basis points: 2000 is 20 %."})
    valid_from = Day(required=True, metadata={
        "description": "The first day of the price: today (Paris) or later."})
    created_at = fields.Function(lambda p: local_iso(p.created_at, CAMPUS_ZONE.key),
                                 dump_only=True, metadata=DATE_TIME)


class PriceQuerySchema(PageArgs):
    establishment_id = object_id(strict=False, required=True)
    on = Day(metadata={"description": "The day the list is in force (default: today, Paris)."})


def _updated_at(profile: Any) -> str | None:
    value = profile.get("updated_at") if isinstance(profile, dict) else profile.updated_at
    return local_iso(value, CAMPUS_ZONE.key)


BillingProfileSchema = Schema.from_dict({
    "establishment_id": fields.Integer(dump_only=True),
    **{name: optional_text(longest, multiline=multiline)
       for name, (longest, multiline) in pricing.PROFILE_TEXTS.items()},
    "quote_validity_days": integer(*pricing.VALIDITY_DAYS, load_default=30, metadata={
        "description": "How long a quote stays valid, in days (1 to 365)."}),
    "updated_at": fields.Function(_updated_at, dump_only=True,
                                  metadata={**DATE_TIME, "nullable": True}),
}, name="BillingProfileSchema")


@prices.route("", methods=["GET"])
@allow("view", Price)
@prices.arguments(PriceQuerySchema, location="query")
@prices.response(200, page_of(PriceSchema))
def list_prices(args: dict[str, Any]) -> dict[str, Any]:
    """The establishment's price list in force on ``on``: per kind, machine, public
    and label, the latest row valid that day (staff; 404 for an unknown
    establishment)."""
    establishment = load(Establishment, args["establishment_id"], api_user())
    on = args.get("on") or pricing.campus_today(utc_now())
    rows = price_list(db.session, establishment_id=establishment.id, on=on)
    start = args["offset"]
    return {"items": rows[start:start + args["limit"]], "total": len(rows)}


@prices.route("", methods=["POST"])
@allow("set", Price)
@prices.arguments(PriceSchema)
@prices.response(201, PriceSchema)
def add_price(body: dict[str, Any]) -> Price:
    """Add a price (a change of price is a new one from a later day). 403
    ``forbidden`` for another establishment's coordinator; 422 ``validation``
    naming the field (a machine_hour without a machine of the establishment, a
    consumable or flat fee without a label, a day in the past); 409
    ``price_exists`` when the item has a price for that public from that day."""
    user = api_user()
    establishment = load(Establishment, body.pop("establishment_id"), user)
    price = pricing.add_price(db.session, actor=user, now=utc_now(),
                              establishment=establishment, **body)
    commit()
    return price


@prices.route("/<id:price_id>", methods=["DELETE"])
@prices.response(204)
def withdraw_price(price_id: int) -> None:
    """Withdraw a price not in force yet that no quote uses: 409 ``price_in_use``
    (a quote line names it) or ``price_in_force`` (its first day has come)."""
    user = api_user()
    price = load(Price, price_id, user, "set")
    pricing.withdraw_price(db.session, actor=user, now=utc_now(), price=price)
    commit()


def _profile_of(establishment: Establishment) -> BillingProfile | dict[str, Any]:
    """The stored profile, or the empty one the establishment has until an admin writes it."""
    profile = pricing.billing_profile(db.session, establishment)
    if profile is not None:
        return profile
    return {"establishment_id": establishment.id, "quote_validity_days": 30,
            "updated_at": None, **dict.fromkeys(pricing.PROFILE_TEXTS, "")}


@profiles.route("/<id:establishment_id>/billing-profile", methods=["GET"])
@profiles.response(200, BillingProfileSchema)
def get_billing_profile(establishment_id: int) -> BillingProfile | dict[str, Any]:
    """The establishment's billing details (its coordinators and admins; 403
    otherwise). Never written yet: empty texts, ``updated_at`` null."""
    establishment = load(Establishment, establishment_id, api_user(), "view_billing")
    return _profile_of(establishment)


@profiles.route("/<id:establishment_id>/billing-profile", methods=["PUT"])
@profiles.arguments(BillingProfileSchema)
@profiles.response(200, BillingProfileSchema)
def put_billing_profile(body: dict[str, Any], establishment_id: int) -> BillingProfile:
    """Replace the billing details (admins; 403 otherwise): a field left out is
    emptied (``quote_validity_days``: 30). ``siret``: 14 digits or empty."""
    user = api_user()
    establishment = load(Establishment, establishment_id, user, "edit_billing")
    profile = pricing.update_billing_profile(db.session, actor=user, now=utc_now(),
                                             establishment=establishment, **body)
    commit()
    return profile
