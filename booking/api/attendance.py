"""/api/v1 routes of learners and attendance (issue 15): a project's learners
(entered by its company or staff; DELETE erases their personal data, GDPR),
a session's attendance sheets (one per half-day, created on first read), the
trainer's marks and signature, the company's countersignature.

Who may: learners are listed by whoever sees the project, written by its
company and staff while the project is not over (403 ``forbidden`` after);
the sheets are read by staff, the project's company and the session's
trainer; marks and signature by the session's trainer (the booking's, else
the project's) or staff; the countersignature by a company account of the
project. Another company's project, learner, session or sheet is a 404.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, local_iso, page
from booking.api.fields import (
    DATE_TIME,
    PageArgs,
    integer,
    object_id,
    optional_text,
    page_of,
    required_text,
)
from booking.extensions import db
from booking.handlers import commit
from booking.services.attendance import learners as learner_ops
from booking.services.attendance import sheets as sheet_ops
from booking.services.attendance.learners import EMAIL_MAX, NAME_MAX
from booking.services.attendance.sheets import (
    MAX_LATE_MINUTES,
    SIGNATURE_MAX,
    TYPED_NAME_MAX,
    signature_parts,
)
from booking.services.policy import CAMPUS_ZONE
from booking.timeutil import utc_now
from models import AttendanceSheet, Booking, HalfDay, Learner, LearnerPublic, Presence, Project

PARIS = CAMPUS_ZONE.key

blp = Blueprint("Attendance", __name__, url_prefix="/api/v1",
                description="A project's learners and its sessions' attendance sheets "
                            "(one per half-day), signed by the trainer and countersigned "
                            "by the company.")
BLUEPRINTS = [blp]


class LearnerInSchema(Schema):
    first_name = required_text(NAME_MAX)
    last_name = required_text(NAME_MAX)
    email = optional_text(EMAIL_MAX, allow_none=True, metadata={
        "description": "Optional; validated. Empty or null: none."})
    public = fields.Enum(LearnerPublic, by_value=True, required=True)


class LearnerSchema(Schema):
    id = fields.Integer(dump_only=True)
    project_id = fields.Integer(dump_only=True)
    first_name = fields.String(dump_only=True, metadata={"description": "Empty once erased."})
    last_name = fields.String(dump_only=True, metadata={"description": "Empty once erased."})
    email = fields.String(dump_only=True, allow_none=True)
    public = fields.Enum(LearnerPublic, by_value=True, dump_only=True)
    erased = fields.Function(lambda lr: lr.erased_at is not None, dump_only=True,
                             metadata={"type": "boolean", "description":
                                       "Personal data erased (names empty, e-mail null)."})
    erased_at = fields.Function(lambda lr: local_iso(lr.erased_at, PARIS), dump_only=True,
                                metadata={**DATE_TIME, "nullable": True})


class MarkSchema(Schema):
    learner_id = object_id(required=True)
    presence = fields.Enum(Presence, by_value=True, required=True)
    minutes_late = integer(0, MAX_LATE_MINUTES, load_default=0, metadata={
        "description": "Minutes of lateness (1 or more when late; ignored otherwise)."})


SIGNATURE = {
    "type": "object", "nullable": True,
    "properties": {"kind": {"type": "string", "enum": ["path", "name"]},
                   "value": {"type": "string"}},
    "description": "kind path: SVG path data (600 × 200 box); kind name: the typed name."}


def _signature(stored: str | None) -> dict[str, str] | None:
    parts = signature_parts(stored)
    return {"kind": parts[0], "value": parts[1]} if parts else None


class SheetSchema(Schema):
    id = fields.Integer(dump_only=True)
    booking_id = fields.Integer(dump_only=True)
    project_id = fields.Integer(dump_only=True)
    day = fields.Date(dump_only=True)
    half_day = fields.Enum(HalfDay, by_value=True, dump_only=True)
    hours_cents = fields.Integer(dump_only=True, metadata={
        "description": "Hours of training of the half-day, in hundredths (350 = 3.5 h)."})
    state = fields.Function(lambda s: sheet_ops.sheet_state(s, utc_now()), dump_only=True,
                            metadata={"type": "string", "enum": [
                                "early", "open", "closed", "signed", "countersigned"]})
    marks = fields.List(fields.Nested(MarkSchema), dump_only=True)
    trainer_signed_at = fields.Function(lambda s: local_iso(s.trainer_signed_at, PARIS),
                                        dump_only=True, metadata={**DATE_TIME, "nullable": True})
    trainer_signed_by_id = fields.Integer(dump_only=True, allow_none=True)
    trainer_signature = fields.Function(lambda s: _signature(s.trainer_signature),
                                        dump_only=True, metadata=SIGNATURE)
    company_signed_at = fields.Function(lambda s: local_iso(s.company_signed_at, PARIS),
                                        dump_only=True, metadata={**DATE_TIME, "nullable": True})
    company_signed_by_id = fields.Integer(dump_only=True, allow_none=True)
    company_signature = fields.Function(lambda s: _signature(s.company_signature),
                                        dump_only=True, metadata=SIGNATURE)


class MarksSchema(Schema):
    marks = fields.List(fields.Nested(MarkSchema), required=True,
                        validate=validate.Length(min=1, max=500))


class SignSchema(Schema):
    signature = optional_text(SIGNATURE_MAX, allow_none=True, metadata={
        "description": "The drawn signature: SVG path data, M and L commands only, "
                       "coordinates within 600 × 200."})
    typed_name = optional_text(TYPED_NAME_MAX, allow_none=True, metadata={
        "description": "The signer's full name, when nothing is drawn."})


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {"first_name": body["first_name"], "last_name": body["last_name"],
            "public": body["public"], "email": body.get("email")}


@blp.route("/projects/<id:project_id>/learners", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(LearnerSchema))
def list_learners(args: dict[str, Any], project_id: int) -> dict[str, Any]:
    """The project's learners (erased ones too, with empty names), by id."""
    project = load(Project, project_id, api_user())
    return page(select(Learner).where(Learner.project_id == project.id).order_by(Learner.id),
                args)


@blp.route("/projects/<id:project_id>/learners", methods=["POST"])
@blp.arguments(LearnerInSchema)
@blp.response(201, LearnerSchema)
def add_learner(body: dict[str, Any], project_id: int) -> Learner:
    """Add a learner: the company or staff, until the project is over (403)."""
    user = api_user()
    project = load(Project, project_id, user)
    learner = learner_ops.add_learner(db.session, actor=user, project=project, now=utc_now(),
                                      **_fields(body))
    commit()
    return learner


@blp.route("/learners/<id:learner_id>", methods=["PUT"])
@blp.arguments(LearnerInSchema)
@blp.response(200, LearnerSchema)
def update_learner(body: dict[str, Any], learner_id: int) -> Learner:
    """Replace a learner's details (403 once the project is over or the learner erased)."""
    user = api_user()
    learner = load(Learner, learner_id, user)
    learner_ops.update_learner(db.session, actor=user, learner=learner, now=utc_now(),
                               **_fields(body))
    commit()
    return learner


@blp.route("/learners/<id:learner_id>", methods=["DELETE"])
@blp.response(200, LearnerSchema)
def erase_learner(learner_id: int) -> Learner:
    """Erase the learner's personal data (GDPR): names and e-mail blanked, the row
    and its marks kept; idempotent. The company or staff, whatever the project's state."""
    user = api_user()
    learner = load(Learner, learner_id, user)
    learner_ops.erase_learner(db.session, actor=user, learner=learner, now=utc_now())
    commit()
    return learner


@blp.route("/bookings/<id:booking_id>/attendance", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(SheetSchema))
def session_attendance(args: dict[str, Any], booking_id: int) -> dict[str, Any]:
    """The session's sheets with their marks, by day and half-day; created on first
    read for a confirmed or completed session of a project (none otherwise)."""
    booking = load(Booking, booking_id, api_user(), "view_attendance")
    sheets = sheet_ops.ensure_sheets(db.session, booking)
    commit()
    items = sheets[args["offset"]:args["offset"] + args["limit"]]
    return {"items": items, "total": len(sheets)}


@blp.route("/attendance-sheets/<id:sheet_id>/marks", methods=["PUT"])
@blp.arguments(MarksSchema)
@blp.response(200, SheetSchema)
def put_marks(body: dict[str, Any], sheet_id: int) -> AttendanceSheet:
    """Record the marks given (learners not named keep theirs): the session's trainer or
    staff, from the half-day's start to 7 days after its end (409 ``invalid_state``
    outside, or once signed)."""
    user = api_user()
    sheet = load(AttendanceSheet, sheet_id, user)
    sheet_ops.record_marks(db.session, actor=user, sheet=sheet, now=utc_now(), marks=[
        sheet_ops.MarkInput(m["learner_id"], m["presence"], m.get("minutes_late", 0))
        for m in body["marks"]])
    commit()
    return sheet


@blp.route("/attendance-sheets/<id:sheet_id>/sign", methods=["POST"])
@blp.arguments(SignSchema)
@blp.response(200, SheetSchema)
def sign(body: dict[str, Any], sheet_id: int) -> AttendanceSheet:
    """The trainer signs the half-day (every current learner marked, 422 otherwise);
    its marks are locked after."""
    user = api_user()
    sheet = load(AttendanceSheet, sheet_id, user)
    sheet_ops.sign(db.session, actor=user, sheet=sheet, now=utc_now(),
                   drawn=body.get("signature"), typed=body.get("typed_name"))
    commit()
    return sheet


@blp.route("/attendance-sheets/<id:sheet_id>/countersign", methods=["POST"])
@blp.arguments(SignSchema)
@blp.response(200, SheetSchema)
def countersign(body: dict[str, Any], sheet_id: int) -> AttendanceSheet:
    """A company account of the project countersigns, after the trainer (409
    ``invalid_state`` before, or when already countersigned)."""
    user = api_user()
    sheet = load(AttendanceSheet, sheet_id, user)
    sheet_ops.countersign(db.session, actor=user, sheet=sheet, now=utc_now(),
                          drawn=body.get("signature"), typed=body.get("typed_name"))
    commit()
    return sheet
