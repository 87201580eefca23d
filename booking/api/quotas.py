"""/api/v1/quotas: the limits on shared machines, and the reader's use of each.

Everyone reads the quotas that apply to them (coordinators and admins, their
establishment's too), each with ``used``: the reader's own use of a quota per
user, their establishment's of a quota per establishment. The coordinators
of the owning establishment, and admins, write (booking.services.sharing.quota_admin).
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow, load, page
from booking.api.fields import PageArgs, integer, object_id, page_of
from booking.extensions import db
from booking.handlers import commit
from booking.services.sharing import quota_admin
from booking.services.sharing.access import listed_quotas
from booking.services.sharing.quotas import Use, reader_use
from booking.timeutil import utc_now
from models import EquipmentCategory, Quota, QuotaAppliesTo, QuotaOver, QuotaPeriod

blp = Blueprint("Quotas", __name__, url_prefix="/api/v1/quotas",
                description="Quotas on shared machines: hours per period and future "
                            "bookings, per establishment or per user.")
BLUEPRINTS = [blp]


class HoursNumber(fields.Float):
    """A JSON number of hours, fractional allowed (7.5), from 0 to the bound:
    never a string or a boolean, never NaN or infinite."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise ValidationError("A number of hours.")
        return super()._deserialize(value, attr, data, **kwargs)


class UsedSchema(Schema):
    hours = fields.Float(metadata={"description": "Booked in the current period."})
    bookings = fields.Integer(metadata={"description": "Bookings that start after now."})
    from_ = fields.Date(data_key="from", metadata={
        "description": "First day of the current period (Europe/Paris), inclusive."})
    to = fields.Date(metadata={"description": "First day of the next period, exclusive."})


class QuotaSchema(Schema):
    id = fields.Integer(dump_only=True)
    equipment_id = object_id(allow_none=True, load_default=None, metadata={
        "description": "One machine; or give category and establishment_id."})
    category = fields.Enum(EquipmentCategory, by_value=True, allow_none=True,
                           load_default=None, metadata={
                               "description": "Every machine of this category of "
                                             "establishment_id."})
    establishment_id = object_id(allow_none=True, load_default=None, metadata={
        "description": "The owning establishment (a machine's own for equipment_id)."})
    applies_to = fields.Enum(QuotaAppliesTo, by_value=True, required=True, metadata={
        "description": "Counted per establishment (the booker's) or per user (the booker)."})
    beneficiary_establishment_id = object_id(allow_none=True, load_default=None, metadata={
        "description": "Only this establishment (its users); null: every establishment "
                       "but the owner (and, for a quota per user, company accounts)."})
    period = fields.Enum(QuotaPeriod, by_value=True, required=True, metadata={
        "description": "week (Monday to Sunday), month, school_year (1 September to "
                       "31 August), in Europe/Paris."})
    max_hours = HoursNumber(allow_none=True, load_default=None,
                            validate=validate.Range(min=0, max=quota_admin.MAX_HOURS),
                            metadata={"description": "Hours per period; may be fractional."})
    max_future_bookings = integer(0, quota_admin.MAX_FUTURE_BOOKINGS, allow_none=True,
                                  load_default=None, metadata={
                                      "description": "Bookings that start after now."})
    over = fields.Enum(QuotaOver, by_value=True, required=True, metadata={
        "description": "Past the quota: refuse (422 quota_exceeded) or approval (pending)."})
    used = fields.Nested(UsedSchema, dump_only=True, allow_none=True, metadata={
        "description": "The reader's use (their establishment's for a quota per "
                       "establishment); null when the quota counts nobody they answer for."})


class QuotaPatchSchema(Schema):
    """Any subset of a quota's settings; its machine or category stays."""

    applies_to = fields.Enum(QuotaAppliesTo, by_value=True)
    beneficiary_establishment_id = object_id(allow_none=True)
    period = fields.Enum(QuotaPeriod, by_value=True)
    max_hours = HoursNumber(allow_none=True,
                            validate=validate.Range(min=0, max=quota_admin.MAX_HOURS))
    max_future_bookings = integer(0, quota_admin.MAX_FUTURE_BOOKINGS, allow_none=True)
    over = fields.Enum(QuotaOver, by_value=True)


def _used(use: Use | None) -> dict[str, Any] | None:
    if use is None:
        return None
    return {"hours": use.hours, "bookings": use.future_bookings,
            "from_": use.window.first, "to": use.window.end.date()}


def _out(quota: Quota) -> dict[str, Any]:
    now = utc_now()
    return {
        "id": quota.id, "equipment_id": quota.equipment_id, "category": quota.category,
        "establishment_id": quota.establishment_id, "applies_to": quota.applies_to,
        "beneficiary_establishment_id": quota.beneficiary_establishment_id,
        "period": quota.period,
        "max_hours": None if quota.max_minutes is None else round(quota.max_minutes / 60, 2),
        "max_future_bookings": quota.max_future_bookings, "over": quota.over,
        "used": _used(reader_use(db.session, quota, api_user(), now=now)),
    }


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(QuotaSchema))
def list_quotas(args: dict[str, Any]) -> dict[str, Any]:
    """The quotas that apply to the reader, and (coordinators, admins) their
    establishment's (every quota for an admin), each with the reader's use."""
    result = page(listed_quotas(api_user()).order_by(Quota.id), args)
    result["items"] = [_out(q) for q in result["items"]]
    return result


@blp.route("", methods=["POST"])
@allow("manage", Quota)
@blp.arguments(QuotaSchema)
@blp.response(201, QuotaSchema)
def create_quota(body: dict[str, Any]) -> dict[str, Any]:
    """A quota on one machine, or on a category of the establishment's machines
    (its coordinators, or an admin)."""
    quota = quota_admin.create_quota(db.session, actor=api_user(), now=utc_now(), **body)
    answer = _out(quota)
    commit()
    return answer


@blp.route("/<id:quota_id>", methods=["GET"])
@blp.response(200, QuotaSchema)
def get_quota(quota_id: int) -> dict[str, Any]:
    return _out(load(Quota, quota_id, api_user()))


@blp.route("/<id:quota_id>", methods=["PATCH"])
@allow("manage", Quota)
@blp.arguments(QuotaPatchSchema)
@blp.response(200, QuotaSchema)
def update_quota(body: dict[str, Any], quota_id: int) -> dict[str, Any]:
    quota = load(Quota, quota_id, api_user())
    quota_admin.update_quota(db.session, quota, actor=api_user(), now=utc_now(), changes=body)
    answer = _out(quota)
    commit()
    return answer


@blp.route("/<id:quota_id>", methods=["DELETE"])
@allow("manage", Quota)
@blp.response(204)
def delete_quota(quota_id: int) -> None:
    quota = load(Quota, quota_id, api_user())
    quota_admin.delete_quota(db.session, quota, actor=api_user(), now=utc_now())
    commit()
