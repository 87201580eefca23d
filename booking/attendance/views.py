"""Learners and attendance (feuilles d'émargement): the project page's card,
the learners' forms, the trainer's phone page per session (marks and
signature per half-day), the sheet page the company countersigns, and the
PDFs. The rules are booking.services.attendance's; refusals are flashed or
shown next to their field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from booking.attendance.forms import ActionForm, LearnerForm, MarksForm, SignatureForm
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.permissions import may, require
from booking.request_memo import per_request
from booking.services.attendance import learners as learner_ops
from booking.services.attendance import sheets as sheet_ops
from booking.services.attendance.documents import (
    certificate_of,
    issuer_of,
    sheet_view,
    sheet_views,
)
from booking.services.errors import N_, DomainError, NotFound
from booking.services.inputs import ascii_file_name
from booking.services.paperwork.pdf import render_pdf
from booking.timeutil import utc_now
from models import AttendanceSheet, Booking, Learner, Presence, Project

bp = Blueprint("attendance", __name__)
_MINUTES = re.compile(r"[0-9]{1,3}")


# --- the project page's card --------------------------------------------------------------


@dataclass
class Session:
    booking: Booking
    sheets: list[AttendanceSheet]
    take: bool


@dataclass
class Card:
    project: Project
    learners: list[Learner]
    manage: bool
    erase: bool
    documents: bool
    over_announced: bool
    sessions: list[Session] = field(default_factory=list)
    to_countersign: list[AttendanceSheet] = field(default_factory=list)
    form: LearnerForm | None = None


@per_request
def attendance_card(project: Project) -> Card | None:
    """What the « Learners and attendance » card shows the reader: in a fixed
    number of statements, whatever its learners, sessions and sheets."""
    if not may(current_user, "view", project):
        return None
    learners = learner_ops.learners_of(db.session, project)
    # learner_ops.over_announced, from the learners at hand.
    entered = sum(1 for learner in learners if learner.erased_at is None)
    card = Card(project, learners, may(current_user, "manage_learners", project),
                may(current_user, "attendance_documents", project),
                may(current_user, "attendance_documents", project),
                entered > project.learners)
    if card.manage:
        card.form = LearnerForm(formdata=None)
    bookings = list(db.session.scalars(select(Booking).where(
        Booking.project_id == project.id, Booking.status.in_(sheet_ops.WITH_ATTENDANCE))
        .order_by(Booking.start_at, Booking.id)))
    sheets_of = sheet_ops.sheets_by_booking(db.session, bookings)
    for booking in bookings:
        sheets = sheets_of[booking.id]
        card.sessions.append(Session(booking, sheets,
                                     may(current_user, "take_attendance", booking)))
        card.to_countersign += [s for s in sheets if s.trainer_signed_at is not None
                                and s.company_signed_at is None
                                and may(current_user, "countersign", s)]
    return card


@bp.app_context_processor
def _card() -> dict[str, Any]:
    return {"attendance_card": attendance_card}


def _to_project(project_id: int) -> Response:
    return redirect(url_for("projects.show", project_id=project_id, _anchor="attendance"))


# --- learners --------------------------------------------------------------------------------


@bp.route("/attendance/projects/<id:project_id>/learners", methods=["POST"])
@login_required
def add_learner(project_id: int) -> Response | str:
    project = get_or_404(Project, project_id, current_user, "manage_learners")
    form = LearnerForm()
    if form.validate_on_submit():
        done = submit(lambda: learner_ops.add_learner(
            db.session, actor=current_user, project=project, now=utc_now(),
            first_name=form.first_name.data, last_name=form.last_name.data,
            public=form.public.data, email=form.email.data), form=form,
            success=lambda learner: _("%(name)s was added to the learners.",
                                      name=learner.full_name))
        if done:
            return _to_project(project.id)
    return render_template("attendance/learner_form.html", form=form, project=project,
                           learner=None)


@bp.route("/attendance/learners/<id:learner_id>", methods=["GET", "POST"])
@login_required
def edit_learner(learner_id: int) -> Response | str:
    learner = get_or_404(Learner, learner_id, current_user)
    editable = may(current_user, "edit", learner)
    if not editable and not may(current_user, "erase", learner):
        require(current_user, "edit", learner)  # 403: the trainer reads the list only
    form = LearnerForm(obj=learner if request.method == "GET" else None)
    form.submit.label.text = _("Save")
    if request.method == "POST" and editable and form.validate_on_submit():
        done = submit(lambda: learner_ops.update_learner(
            db.session, actor=current_user, learner=learner, now=utc_now(),
            first_name=form.first_name.data, last_name=form.last_name.data,
            public=form.public.data, email=form.email.data), form=form,
            success=_("The learner was saved."))
        if done:
            return _to_project(learner.project_id)
    elif request.method == "POST":
        get_or_404(Learner, learner_id, current_user, "edit")
    return render_template("attendance/learner_form.html", form=form, project=learner.project,
                           learner=learner, editable=editable, action=ActionForm(),
                           removable=may(current_user, "remove", learner),
                           erasable=may(current_user, "erase", learner))


@bp.route("/attendance/learners/<id:learner_id>/remove", methods=["POST"])
@login_required
def remove_learner(learner_id: int) -> Response:
    learner = get_or_404(Learner, learner_id, current_user, "remove")
    project_id = learner.project_id
    if ActionForm().validate_on_submit():
        done = submit(lambda: learner_ops.remove_learner(db.session, actor=current_user,
                                                         learner=learner, now=utc_now()),
                      success=_("The learner was removed."))
        if not done:
            return redirect(url_for("attendance.edit_learner", learner_id=learner_id))
    return _to_project(project_id)


@bp.route("/attendance/learners/<id:learner_id>/erase", methods=["POST"])
@login_required
def erase_learner(learner_id: int) -> Response:
    learner = get_or_404(Learner, learner_id, current_user, "erase")
    if ActionForm().validate_on_submit():
        submit(lambda: learner_ops.erase_learner(db.session, actor=current_user,
                                                 learner=learner, now=utc_now()),
               success=_("The learner's personal data was erased; their attendance still "
                         "counts."))
    return _to_project(learner.project_id)


# --- the trainer's session page ------------------------------------------------------------


def _session_page(booking: Booking, failed: dict[int, SignatureForm] | None = None,
                  marks_errors: dict[int, str] | None = None) -> str:
    now = utc_now()
    sheets = sheet_ops.ensure_sheets(db.session, booking)
    db.session.commit()  # the sheets created on demand
    rows = []
    for sheet in sheets:
        view = sheet_view(db.session, sheet)
        form = (failed or {}).get(sheet.id) or _unique(SignatureForm(formdata=None), sheet.id)
        rows.append((view, sheet_ops.sheet_state(sheet, now), sheet_ops.slot_of(sheet), form))
    return render_template("attendance/session.html", booking=booking, rows=rows,
                           presences=list(Presence), marks_form=MarksForm(formdata=None),
                           marks_errors=marks_errors or {},
                           window=sheet_ops.marking_window, days=sheet_ops.MARKING_DAYS)


def _unique(form: SignatureForm, sheet_id: int) -> SignatureForm:
    """Ids of the sheet's own: the page holds one form per half-day."""
    for item in (form.signature, form.typed_name, form.submit):
        item.id = item.label.field_id = f"{item.name}-{sheet_id}"
    return form


@bp.route("/attendance/sessions/<id:booking_id>")
@login_required
def session(booking_id: int) -> str:
    return _session_page(get_or_404(Booking, booking_id, current_user, "take_attendance"))


def _posted_marks(sheet: AttendanceSheet) -> list[sheet_ops.MarkInput]:
    """The radios of the form, per current learner; a value that is not one of
    the page's is refused by the service (an unknown presence)."""
    marks = []
    for learner in sheet_ops.current_learners(db.session, sheet.project_id):
        presence = request.form.get(f"presence-{learner.id}")
        if not presence:
            continue
        raw = (request.form.get(f"late-{learner.id}") or "").strip()
        minutes = int(raw) if _MINUTES.fullmatch(raw) else (0 if not raw else -1)
        marks.append(sheet_ops.MarkInput(learner.id, presence[:20], minutes))
    return marks


@bp.route("/attendance/sheets/<id:sheet_id>/marks", methods=["POST"])
@login_required
def record_marks(sheet_id: int) -> Response | str:
    sheet = get_or_404(AttendanceSheet, sheet_id, current_user, "mark")
    if MarksForm().validate_on_submit():
        refused: list[DomainError] = []
        done = submit(lambda: sheet_ops.record_marks(db.session, actor=current_user,
                                                     sheet=sheet, now=utc_now(),
                                                     marks=_posted_marks(sheet)),
                      success=_("Attendance saved."), on_error=refused.append)
        if not done:
            return _session_page(sheet.booking, marks_errors={sheet.id: refused[0].message})
    return redirect(url_for("attendance.session", booking_id=sheet.booking_id,
                            _anchor=f"sheet-{sheet.id}"))


@bp.route("/attendance/sheets/<id:sheet_id>/sign", methods=["POST"])
@login_required
def sign(sheet_id: int) -> Response | str:
    sheet = get_or_404(AttendanceSheet, sheet_id, current_user, "sign")
    form = _unique(SignatureForm(), sheet.id)
    if form.validate_on_submit():
        done = submit(lambda: sheet_ops.sign(db.session, actor=current_user, sheet=sheet,
                                             now=utc_now(), drawn=form.signature.data,
                                             typed=form.typed_name.data), form=form,
                      fields={"signature": "typed_name", "marks": "typed_name"},
                      success=_("Sheet signed. The company may countersign it now."))
        if done:
            return redirect(url_for("attendance.session", booking_id=sheet.booking_id,
                                    _anchor=f"sheet-{sheet.id}"))
    return _session_page(sheet.booking, failed={sheet.id: form})


# --- the sheet page: read, countersign ------------------------------------------------------


def _sheet_page(sheet: AttendanceSheet, form: SignatureForm | None = None) -> str:
    return render_template("attendance/sheet.html", view=sheet_view(db.session, sheet),
                           slot=sheet_ops.slot_of(sheet),
                           state=sheet_ops.sheet_state(sheet, utc_now()),
                           form=form or _unique(SignatureForm(formdata=None), sheet.id),
                           countersign=may(current_user, "countersign", sheet))


@bp.route("/attendance/sheets/<id:sheet_id>")
@login_required
def sheet(sheet_id: int) -> str:
    return _sheet_page(get_or_404(AttendanceSheet, sheet_id, current_user))


@bp.route("/attendance/sheets/<id:sheet_id>/countersign", methods=["POST"])
@login_required
def countersign(sheet_id: int) -> Response | str:
    sheet = get_or_404(AttendanceSheet, sheet_id, current_user, "countersign")
    form = _unique(SignatureForm(), sheet.id)
    if form.validate_on_submit():
        done = submit(lambda: sheet_ops.countersign(
            db.session, actor=current_user, sheet=sheet, now=utc_now(),
            drawn=form.signature.data, typed=form.typed_name.data), form=form,
            fields={"signature": "typed_name"}, success=_("Sheet countersigned. Thank you!"))
        if done:
            return redirect(url_for("attendance.sheet", sheet_id=sheet.id))
    return _sheet_page(sheet, form)


# --- PDFs -------------------------------------------------------------------------------------


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{ascii_file_name(name)}.pdf"'})


def _sheets_pdf(project: Project, booking: Booking | None) -> Response:
    issuer = issuer_of(db.session, project)
    data = render_pdf("paperwork/attendance_sheet.html", project=project, booking=booking,
                      views=sheet_views(db.session, project, booking),
                      establishment=issuer.establishment, profile=issuer.profile)
    suffix = f"-{booking.id}" if booking is not None else ""
    return _pdf(data, f"emargement-{project.id}{suffix}")


@bp.route("/attendance/projects/<id:project_id>/sheets.pdf")
@login_required
def project_sheets_pdf(project_id: int) -> Response:
    project = get_or_404(Project, project_id, current_user, "attendance_documents")
    return _sheets_pdf(project, None)


@bp.route("/attendance/sessions/<id:booking_id>/sheets.pdf")
@login_required
def session_sheets_pdf(booking_id: int) -> Response:
    booking = get_or_404(Booking, booking_id, current_user, "attendance_documents")
    assert booking.project is not None  # the rule says so
    return _sheets_pdf(booking.project, booking)


@bp.route("/attendance/learners/<id:learner_id>/certificate.pdf")
@login_required
def certificate_pdf(learner_id: int) -> Response:
    learner = get_or_404(Learner, learner_id, current_user)
    if learner.erased_at is not None:  # nobody left to name on it
        raise NotFound(N_("Not found."))
    require(current_user, "certificate", learner)
    issuer = issuer_of(db.session, learner.project)
    data = render_pdf("paperwork/certificate.html", certificate=certificate_of(db.session,
                                                                               learner),
                      establishment=issuer.establishment, profile=issuer.profile,
                      issued_on=utc_now())
    return _pdf(data, f"attestation-{learner.id}")
