"""/api/v1 routes of the training agreement (convention de formation) of a
project (issue 15), all under the project: a project has at most one current
agreement (to sign, or signed), the others being cancelled.

- ``GET /projects/{id}/agreement``: its state, the current agreement and the
  waiver, if any (staff; the project's company; a trainer 403; another
  company 404).
- ``POST /projects/{id}/agreement``: generate it from the accepted quote
  (201; 409 ``quote_not_accepted`` without one, 409 ``agreement_signed`` when
  signed unless an admin sends ``replace_signed``; 403 for a coordinator of
  another establishment than the quote's).
- ``GET /projects/{id}/agreement/pdf``: its PDF (in French).
- ``POST /projects/{id}/agreement/signed``: the signed scan (multipart, field
  ``file``; PDF, PNG or JPEG by content; ``agreement_id`` names the agreement
  that was signed: 409 if it is no longer the current one).
- ``GET /projects/{id}/agreement/signed``: the scan, as an attachment.
- ``POST /projects/{id}/agreement-waiver`` ``{"reason"}`` and ``DELETE``:
  a coordinator says the project needs no agreement, or takes it back.

Until the agreement is signed or waived, booking a session of the project
answers 409 ``agreement_required`` (booking.services.agreements.gate).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, current_app, request, send_file
from flask_babel import force_locale
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from booking.agreements.views import FORM_ROOM, storage
from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, local_iso
from booking.api.fields import DATE_TIME, object_id, required_text, text
from booking.extensions import db
from booking.handlers import commit
from booking.permissions import may
from booking.services.agreements import operations as agreements
from booking.services.agreements.gate import schedulable
from booking.services.agreements.operations import MAX_ADDRESS, MAX_HOURS_CENTS, MAX_TEXT
from booking.services.errors import N_, Forbidden, InvalidState, NotFound
from booking.services.paperwork.pdf import render_pdf
from booking.services.policy import CAMPUS_ZONE
from booking.timeutil import utc_now
from models import AgreementStatus, Project, TrainingAgreement

PARIS = CAMPUS_ZONE.key

blp = Blueprint("Agreements", __name__, url_prefix="/api/v1/projects",
                description="The training agreement (convention de formation) of a project: "
                            "generated from the accepted quote, signed, or waived.")
BLUEPRINTS = [blp]


@blp.url_value_preprocessor
def _room_for_a_scan(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The upload reads a body up to the documents' limit, like the page's."""
    if endpoint == "Agreements.record_signed":
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"],
                                         storage().max_bytes + FORM_ROOM)


class Hours(fields.Float):
    """A JSON number of hours, fractional allowed (7.5): never a string or a boolean."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("A number of hours.")
        return super()._deserialize(value, attr, data, **kwargs)


def _hours(cents: int) -> float:
    return round(cents / 100, 2)


class AgreementSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    quote_id = fields.Integer()
    establishment_id = fields.Integer()
    status = fields.Enum(AgreementStatus, by_value=True)
    company_name = fields.String()
    company_address = fields.String()
    title = fields.String()
    objectives = fields.String()
    programme = fields.String()
    place = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    duration_hours = fields.Function(lambda a: _hours(a.duration_hours_cents),
                                     metadata={"type": "number"})
    learners = fields.Integer()
    total_excl_cents = fields.Integer()
    vat_cents = fields.Integer()
    total_incl_cents = fields.Integer()
    conditions = fields.String()
    generated_at = fields.Function(lambda a: local_iso(a.generated_at, PARIS),
                                   metadata=DATE_TIME)
    signed_recorded_at = fields.Function(lambda a: local_iso(a.signed_recorded_at, PARIS),
                                         metadata={**DATE_TIME, "nullable": True})
    signed_filename = fields.String(attribute="filename", allow_none=True)
    signed_content_type = fields.String(attribute="content_type", allow_none=True)


class AgreementWaiverSchema(Schema):
    reason = fields.String()
    waived_by_id = fields.Integer(allow_none=True)
    waived_at = fields.Function(lambda w: local_iso(w.waived_at, PARIS), metadata=DATE_TIME)


class AgreementStateSchema(Schema):
    project_id = fields.Integer()
    state = fields.String(validate=validate.OneOf(("to_generate", "to_sign", "signed",
                                                   "waived")), metadata={
        "description": "signed, else waived, else to_sign (generated), else to_generate."})
    schedulable = fields.Boolean(metadata={
        "description": "Sessions may be booked: signed or waived."})
    agreement = fields.Nested(AgreementSchema, allow_none=True)
    waiver = fields.Nested(AgreementWaiverSchema, allow_none=True)


class AgreementGenerateSchema(Schema):
    programme = text(MAX_TEXT, load_default=None, allow_none=True, multiline=True, metadata={
        "description": "Default: the project's description."})
    duration_hours = Hours(load_default=None, allow_none=True, validate=validate.Range(
        min=0.01, max=MAX_HOURS_CENTS // 100), metadata={
        "description": "Default: the accepted quote's trainer hours."})
    company_address = text(MAX_ADDRESS, load_default="", multiline=True)
    place = text(MAX_ADDRESS, load_default=None, allow_none=True, multiline=True, metadata={
        "description": "Default: the machines' establishments and locations."})
    replace_signed = fields.Boolean(load_default=False, metadata={
        "description": "Replace a signed agreement (admins only)."})


class AgreementScanFormSchema(Schema):
    agreement_id = object_id(strict=False, required=True, metadata={
        "description": "The agreement that was signed: it must be the current one."})


class AgreementScanFileSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "The scan of the signed agreement: PDF, PNG or JPEG (judged by its "
                       "content), at most DOCUMENT_MAX_BYTES."})


class AgreementWaiveSchema(Schema):
    reason = required_text(2000)


def _project(project_id: int) -> Project:
    """The project, for staff or its company (a trainer: 403)."""
    user = api_user()
    project = load(Project, project_id, user)
    if not (may(user, "generate_agreement", project) or may(user, "request", Project)):
        raise Forbidden(N_("Only staff and the project's company see its training agreement."))
    return project


def _current(project: Project) -> TrainingAgreement:
    agreement = agreements.current_agreement(db.session, project)
    if agreement is None:
        raise NotFound(N_("Project “%(title)s” has no training agreement yet."),
                       title=project.title)
    return load(TrainingAgreement, agreement.id, api_user())


@blp.route("/<id:project_id>/agreement", methods=["GET"])
@blp.response(200, AgreementStateSchema)
def get_agreement(project_id: int) -> dict[str, Any]:
    """The project's agreement state, its current agreement and its waiver."""
    project = _project(project_id)
    agreement = agreements.current_agreement(db.session, project)
    waiver = agreements.waiver_of(db.session, project)
    if agreement is not None and agreement.status is AgreementStatus.SIGNED:
        state = "signed"
    elif waiver is not None:
        state = "waived"
    else:
        state = "to_sign" if agreement is not None else "to_generate"
    return {"project_id": project.id, "state": state, "agreement": agreement,
            "waiver": waiver, "schedulable": schedulable(db.session, project)}


@blp.route("/<id:project_id>/agreement", methods=["POST"])
@blp.arguments(AgreementGenerateSchema)
@blp.response(201, AgreementSchema)
def generate_agreement(body: dict[str, Any], project_id: int) -> TrainingAgreement:
    """Generate the agreement from the accepted quote (admins; coordinators of the
    quote's establishment); cancels the one still to sign."""
    project = load(Project, project_id, api_user())
    hours = body["duration_hours"]
    agreement = agreements.generate_agreement(
        db.session, project, actor=api_user(), now=utc_now(), programme=body["programme"],
        duration_hours_cents=None if hours is None else round(hours * 100),
        company_address=body.get("company_address") or "", place=body["place"],
        replace_signed=body["replace_signed"])
    commit()
    return agreement


@blp.route("/<id:project_id>/agreement/pdf", methods=["GET"])
@blp.response(200, description="The agreement as a PDF (application/pdf), in French.")
def agreement_pdf(project_id: int) -> Response:
    agreement = _current(_project(project_id))
    with force_locale("fr"):
        body = render_pdf("paperwork/agreement.html", agreement=agreement,
                          profile=agreements.profile_of(db.session, agreement.establishment_id),
                          establishment=agreement.establishment)
    return send_file(io.BytesIO(body), mimetype="application/pdf",
                     download_name=f"convention-{agreement.id}.pdf")


@blp.route("/<id:project_id>/agreement/signed", methods=["POST"])
@blp.arguments(AgreementScanFormSchema, location="form")
@blp.arguments(AgreementScanFileSchema, location="files")
@blp.response(200, AgreementSchema)
def record_signed(form: dict[str, Any], files: dict[str, Any],
                  project_id: int) -> TrainingAgreement:
    """Record the signed scan (the project's company; the issuer's coordinators;
    admins): the agreement is signed and the project's sessions may be booked."""
    agreement = _current(load(Project, project_id, api_user()))
    if agreement.id != form["agreement_id"]:
        raise InvalidState(N_("Agreement %(id)d is no longer the project's current training "
                              "agreement: download the current one and have it signed."),
                           {"agreement_id": agreement.id}, id=form["agreement_id"])
    files_at = storage()
    data = files["file"].read(files_at.max_bytes + 1)
    agreements.record_signed(db.session, agreement, actor=api_user(), now=utc_now(),
                             storage=files_at, scan=agreements.Scan(
                                 data, getattr(files["file"], "filename", None) or ""))
    commit()
    return agreement


@blp.route("/<id:project_id>/agreement/signed", methods=["GET"])
@blp.response(200, description="The signed scan as recorded (PDF, PNG or JPEG), as an "
                               "attachment.")
def signed_scan(project_id: int) -> Response:
    agreement = _current(_project(project_id))
    path = agreements.scan_of(api_user(), agreement, storage())
    return send_file(io.BytesIO(path.read_bytes()), mimetype=agreement.content_type,
                     as_attachment=True, download_name=agreement.filename or path.name)


@blp.route("/<id:project_id>/agreement-waiver", methods=["POST"])
@blp.arguments(AgreementWaiveSchema)
@blp.response(201, AgreementWaiverSchema)
def waive(body: dict[str, Any], project_id: int) -> Any:
    """The project needs no agreement, saying why (coordinators, admins)."""
    project = load(Project, project_id, api_user())
    waiver = agreements.waive_agreement(db.session, project, actor=api_user(), now=utc_now(),
                                        reason=body["reason"])
    commit()
    return waiver


@blp.route("/<id:project_id>/agreement-waiver", methods=["DELETE"])
@blp.response(204)
def lift_waiver(project_id: int) -> None:
    """The project's next sessions need a signed agreement again (coordinators, admins)."""
    project = load(Project, project_id, api_user())
    agreements.lift_waiver(db.session, project, actor=api_user(), now=utc_now())
    commit()
