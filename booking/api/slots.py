"""/api/v1/slots: « Quand puis-je ? », when a machine and a certified trainer
are both free (booking.services.planning.slots)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.fields import Instant, PageArgs, integer, object_id, page_of
from booking.extensions import db
from booking.services.planning.slots import MAX_MACHINES, find_slots
from booking.timeutil import utc_now
from models import EquipmentCategory

blp = Blueprint("Slots", __name__, url_prefix="/api/v1/slots",
                description="Planning: free machines and free certified trainers")
BLUEPRINTS = [blp]


class SlotArgs(PageArgs):
    from_ = Instant(required=True, data_key="from")
    to = Instant(required=True, metadata={"description": "At most 93 days after from."})
    minutes = integer(1, 10080, strict=False, required=True, metadata={
        "description": "The length wanted: within each machine's minimum and maximum, "
                       "in steps of its slot."})
    equipment_id = fields.List(object_id(strict=False),
                               validate=validate.Length(min=1, max=MAX_MACHINES), metadata={
        "description": "One or more machines (repeat the parameter)."})
    category = fields.Enum(EquipmentCategory, by_value=True)
    establishment_id = object_id(strict=False)
    trainer_id = object_id(strict=False, metadata={
        "description": "Only that trainer (not for companies). A trainer who gives neither "
                       "trainer_id nor with_trainer searches for themselves."})
    with_trainer = fields.Boolean(metadata={
        "description": "Only the ranges where at least one certified trainer is free."})


class SlotSchema(Schema):
    equipment_id = fields.Integer(required=True)
    start = fields.String(required=True, metadata={"format": "date-time"})
    end = fields.String(required=True, metadata={"format": "date-time"})
    trainer_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "The certified trainers free throughout; always empty for a "
                       "company."})


@blp.route("", methods=["GET"])
@blp.arguments(SlotArgs, location="query")
@blp.response(200, page_of(SlotSchema))
def list_slots(args: dict[str, Any]) -> dict[str, Any]:
    """Ranges of at least ``minutes`` where the machine is free and, as asked, a
    certified trainer is free throughout, earliest first; times in the
    machine's zone."""
    found = find_slots(
        db.session, actor=api_user(), now=utc_now(), start=args["from_"], end=args["to"],
        minutes=args["minutes"], equipment_ids=args.get("equipment_id"),
        category=args.get("category"), establishment_id=args.get("establishment_id"),
        trainer_id=args.get("trainer_id"), with_trainer=args.get("with_trainer"))
    chosen = found.items[args["offset"]:args["offset"] + args["limit"]]
    return {"items": [{"equipment_id": r.equipment.id,
                       "start": r.start.isoformat(), "end": r.end.isoformat(),
                       "trainer_ids": list(r.trainer_ids)} for r in chosen],
            "total": len(found.items)}
