"""Pages of the training agreement (convention de formation): generate it
from the accepted quote, its PDF, its signed scan uploaded and downloaded,
and the coordinator's waiver. The project page's card is
templates/agreements/_project.html, fed by :func:`_helpers`.

booking.services.agreements decides (who, what, which file); these views
load, call it, and answer. The PDF is in French whatever the reader's
language: the agreement is a French contract (Code du travail).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from booking.agreements.forms import GenerateForm, LiftForm, SignedForm, WaiveForm
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.permissions import coordinates, is_admin, may
from booking.request_memo import accepted_quote, per_request
from booking.services.agreements import operations as agreements
from booking.services.equipment.documents import Storage
from booking.services.paperwork.pdf import render_pdf
from booking.timeutil import utc_now
from models import AgreementStatus, AgreementWaiver, Project, Quote, TrainingAgreement

bp = Blueprint("agreements", __name__)
# Beyond the file, what a multipart body of the upload carries.
FORM_ROOM = 256 * 1024


def storage() -> Storage:
    return Storage.from_config(current_app.config)


@bp.url_value_preprocessor
def _room_for_a_scan(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The upload reads a body up to the documents' limit (set before CSRF reads it)."""
    if endpoint == "agreements.upload_signed":
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"],
                                         storage().max_bytes + FORM_ROOM)


@dataclass(frozen=True)
class Card:
    """What the project page's card shows to its reader."""

    agreement: TrainingAgreement | None
    waiver: AgreementWaiver | None
    quote: Quote | None
    may_generate: bool
    may_sign: bool
    may_waive: bool
    max_megabytes: int


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    @per_request
    def agreement_card(project: Project) -> Card | None:
        """None for those who may not see the project's agreement (trainers)."""
        staff = may(current_user, "generate_agreement", project)
        if not (staff or may(current_user, "request", Project)) \
                or not may(current_user, "view", project):
            return None
        agreement = agreements.current_agreement(db.session, project)
        quote = accepted_quote(project)  # once per request: the invoicing card's too
        return Card(
            agreement=agreement, waiver=agreements.waiver_of(db.session, project), quote=quote,
            may_generate=staff and quote is not None
            and coordinates(current_user, quote.establishment_id)
            and (agreement is None or agreement.status is AgreementStatus.GENERATED
                 or is_admin(current_user)),
            may_sign=agreement is not None and agreement.status is AgreementStatus.GENERATED
            and may(current_user, "sign", agreement),
            may_waive=may(current_user, "waive_agreement", project),
            max_megabytes=max(1, storage().max_bytes // (1024 * 1024)))

    def signed_form() -> SignedForm:
        form = SignedForm()
        # Unique on the project page, beside the other parts' forms.
        form.file.id, form.submit.id = "agreement-file", "agreement-submit"
        return form

    def lift_form() -> LiftForm:
        form = LiftForm()
        form.submit.id = "agreement-lift-submit"
        return form

    return {"agreement_card": agreement_card, "agreement_signed_form": signed_form,
            "agreement_lift_form": lift_form}


def _back(project_id: int) -> Response:
    return redirect(url_for("projects.show", project_id=project_id, _anchor="agreement"))


@bp.route("/projects/<id:project_id>/agreement/new", methods=["GET", "POST"])
@login_required
def generate(project_id: int) -> str | Response:
    """The generation form, prefilled from the project and its accepted quote."""
    project = get_or_404(Project, project_id, current_user, "generate_agreement")
    quote = agreements.accepted_quote(db.session, project)
    current = agreements.current_agreement(db.session, project)
    form = GenerateForm()
    if request.method == "GET":
        draft = agreements.draft_for(db.session, project, quote)
        form.programme.data = draft.programme
        form.place.data = draft.place
        if draft.duration_hours_cents:
            form.duration_hours.data = Decimal(draft.duration_hours_cents) / 100
        if current is not None:
            form.company_address.data = current.company_address
    elif form.validate_on_submit():
        hours = int((form.duration_hours.data * 100).to_integral_value())
        done = submit(lambda: agreements.generate_agreement(
            db.session, project, actor=current_user, now=utc_now(),
            programme=form.programme.data or "", duration_hours_cents=hours,
            company_address=form.company_address.data or "", place=form.place.data or "",
            replace_signed=bool(form.replace_signed.data)),
            form=form, fields={"duration_hours": "duration_hours"},
            success=_("Training agreement generated: download it, have it signed, then "
                      "record the signed copy."))
        if done:
            return _back(project.id)
    return render_template("agreements/generate.html", project=project, form=form,
                           quote=quote, current=current)


@bp.route("/agreements/<id:agreement_id>.pdf")
@login_required
def pdf(agreement_id: int) -> Response:
    agreement = get_or_404(TrainingAgreement, agreement_id, current_user)
    with force_locale("fr"):
        body = render_pdf("paperwork/agreement.html", agreement=agreement,
                          profile=agreements.profile_of(db.session, agreement.establishment_id),
                          establishment=agreement.establishment)
    response = send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=False,
                         download_name=f"convention-{agreement.id}.pdf")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/agreements/<id:agreement_id>/signed", methods=["POST"])
@login_required
def upload_signed(agreement_id: int) -> Response:
    agreement = get_or_404(TrainingAgreement, agreement_id, current_user, "sign")
    form = SignedForm()
    if form.validate_on_submit():
        files = storage()
        received = form.file.data
        # One byte beyond the limit is enough to refuse; nothing more is held.
        data = received.stream.read(files.max_bytes + 1)
        submit(lambda: agreements.record_signed(
            db.session, agreement, actor=current_user, now=utc_now(), storage=files,
            scan=agreements.Scan(data, received.filename or "")),
            success=_("Signed agreement recorded: the project's sessions may be scheduled."))
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return _back(agreement.project_id)


@bp.route("/agreements/<id:agreement_id>/signed")
@login_required
def signed(agreement_id: int) -> Response:
    """The signed scan, as an attachment, of the type its content was found to be."""
    agreement = get_or_404(TrainingAgreement, agreement_id, current_user)
    path = agreements.scan_of(current_user, agreement, storage())
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=agreement.content_type,
                         as_attachment=True, download_name=agreement.filename or path.name,
                         last_modified=agreement.signed_recorded_at, etag=agreement.stored_name)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/projects/<id:project_id>/agreement/waive", methods=["GET", "POST"])
@login_required
def waive(project_id: int) -> str | Response:
    """Asks why the project needs no agreement."""
    project = get_or_404(Project, project_id, current_user, "waive_agreement")
    form = WaiveForm()
    if form.validate_on_submit():
        done = submit(lambda: agreements.waive_agreement(
            db.session, project, actor=current_user, now=utc_now(), reason=form.reason.data),
            form=form, success=_("This project needs no training agreement: its sessions "
                                 "may be scheduled."))
        if done:
            return _back(project.id)
    return render_template("agreements/waive.html", project=project, form=form)


@bp.route("/projects/<id:project_id>/agreement/waiver/delete", methods=["POST"])
@login_required
def lift_waiver(project_id: int) -> Response:
    project = get_or_404(Project, project_id, current_user, "waive_agreement")
    form = LiftForm()
    if form.validate_on_submit():
        submit(lambda: agreements.lift_waiver(db.session, project, actor=current_user,
                                              now=utc_now()),
               success=_("The training agreement is required again for this project's "
                         "next sessions."))
    return _back(project.id)
