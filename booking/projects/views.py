"""Project pages: a company requests and follows its industrial teaching
projects; coordinators and admins review them, approve with a certified
trainer or reject with a reason; the company (until the sessions begin) or a
coordinator cancels one, with its sessions still to come. The rules are
booking.services.projects'."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from booking.extensions import db
from booking.forms import Form
from booking.handlers import get_or_404, submit
from booking.labels import PROJECT_STATUS_LABELS as STATUS_LABELS
from booking.pagination import paginate
from booking.permissions import may, require
from booking.projects.forms import (
    FORM_FIELDS,
    ApproveForm,
    ProjectForm,
    RejectForm,
    ReviewFilterForm,
)
from booking.services.errors import DomainError, InvalidState
from booking.services.projects import operations as projects
from booking.services.projects.access import own_projects
from booking.timeutil import utc_now
from models import (
    SLOT_HOLDING_STATUSES,
    AuditEntry,
    Booking,
    Equipment,
    EquipmentStatus,
    Project,
    ProjectStatus,
    Sector,
)

bp = Blueprint("projects", __name__, url_prefix="/projects")

# The badge of each status (a word and a glyph, never a colour alone).
STATUS_BADGES = {
    ProjectStatus.REQUESTED: "pending", ProjectStatus.APPROVED: "confirmed",
    ProjectStatus.SCHEDULED: "confirmed", ProjectStatus.IN_PROGRESS: "confirmed",
    ProjectStatus.COMPLETED: "completed", ProjectStatus.REJECTED: "rejected",
    ProjectStatus.CANCELLED: "cancelled",
}


class CancelForm(Form):
    # Here rather than in forms.py for now: it is the project page's confirm step only.
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("The company and the people of each session read it."))
    submit = SubmitField(_l("Cancel the project"))


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"project_status_labels": STATUS_LABELS, "project_status_badges": STATUS_BADGES}


def _load(project_id: int, action: str = "view") -> Project:
    """404 for a project the user may not see (another company's), 403 for an
    action they may not do on one they see."""
    return get_or_404(Project, project_id, current_user, action)


def _sessions_summary(ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Per project: how many sessions hold a slot, and when the next one starts."""
    if not ids:
        return {}
    holding = Booking.status.in_(SLOT_HOLDING_STATUSES)
    rows = db.session.execute(
        select(Booking.project_id, func.count(),
               func.min(case((Booking.start_at >= now, Booking.start_at))))
        .where(Booking.project_id.in_(ids), holding).group_by(Booking.project_id))
    return {pid: {"count": count, "next": upcoming} for pid, count, upcoming in rows}


# --- companies (and trainers): their projects ----------------------------------------


@bp.route("")
@login_required
def mine() -> str | Response:
    """A company's projects; a trainer's, the ones they run. Coordinators review."""
    if may(current_user, "review", Project):
        return redirect(url_for("projects.review"))
    stmt = (own_projects(current_user).options(selectinload(Project.trainer))
            .order_by(Project.created_at.desc(), Project.id.desc()))
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    return render_template("projects/mine.html", page=page,
                           sessions=_sessions_summary([p.id for p in page.items], utc_now()))


def _equipment_choices() -> list[tuple[int, str]]:
    """Machines not retired, by city; a line's components right after the line."""
    machines = db.session.scalars(
        select(Equipment).options(selectinload(Equipment.establishment),
                                  selectinload(Equipment.parent))
        .where(Equipment.status != EquipmentStatus.RETIRED))

    def place(e: Equipment) -> tuple[str, str, int, str]:
        line = e.parent.name if e.parent else e.name
        return (e.establishment.city, line, e.parent_id is not None, e.name)

    return [(e.id, f"{e.name} ({e.parent.name}) — {e.establishment.city}" if e.parent
             else f"{e.name} — {e.establishment.city}") for e in sorted(machines, key=place)]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    require(current_user, "request", Project)
    form = ProjectForm()
    form.equipment.choices = _equipment_choices()
    if request.method == "GET":
        form.contact_name.data = current_user.name
        form.contact_email.data = current_user.email
    if form.validate_on_submit():
        done = submit(lambda: projects.request_project(
            db.session, actor=current_user, now=utc_now(), title=form.title.data.strip(),
            learners=form.learners.data, wanted_from=form.wanted_from.data,
            wanted_to=form.wanted_to.data, equipment_ids=list(form.equipment.data or []),
            description=form.description.data or "", objectives=form.objectives.data or "",
            contact_name=(form.contact_name.data or "").strip(),
            contact_email=(form.contact_email.data or "").strip(),
            contact_phone=(form.contact_phone.data or "").strip(),
            sector=Sector(form.sector.data)),
            form=form, fields=FORM_FIELDS,
            success=_("Project requested: a coordinator will study it and assign a trainer."))
        if done:
            return redirect(url_for("projects.show", project_id=done.value.id))
    return render_template("projects/new.html", form=form)


# --- one project ---------------------------------------------------------------------------


def _approve_form(project: Project) -> tuple[ApproveForm, list[projects.TrainerFit]]:
    fits = projects.trainer_fits(db.session, project)
    form = ApproveForm()
    form.trainer.choices = [(fit.trainer.id, fit.trainer.name) for fit in fits if fit.certified]
    return form, fits


def _render_show(project: Project, approve: ApproveForm | None = None,
                 fits: list[projects.TrainerFit] | None = None) -> str:
    decide = may(current_user, "decide", project) and project.status is ProjectStatus.REQUESTED
    if decide and approve is None:
        approve, fits = _approve_form(project)
    stmt = (select(Booking).where(Booking.project_id == project.id)
            .options(selectinload(Booking.equipment), selectinload(Booking.trainer))
            .order_by(Booking.start_at, Booking.id))
    sessions = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    schedule = may(current_user, "schedule", project)
    return render_template("projects/show.html", project=project, sessions=sessions,
                           approve=approve if decide else None, fits=fits or [],
                           can_schedule=schedule, now=utc_now(),
                           can_cancel=may(current_user, "cancel", project),
                           cancel_reason=_cancel_reason(project))


def _cancel_reason(project: Project) -> str | None:
    """Why a cancelled project was cancelled (kept in its audit entry)."""
    if project.status is not ProjectStatus.CANCELLED:
        return None
    return db.session.scalar(
        select(AuditEntry.reason).where(AuditEntry.object_type == "project",
                                        AuditEntry.object_id == project.id,
                                        AuditEntry.action == "project.cancel")
        .order_by(AuditEntry.id.desc()).limit(1))


@bp.route("/<id:project_id>")
@login_required
def show(project_id: int) -> str:
    return _render_show(_load(project_id))


@bp.route("/<id:project_id>/approve", methods=["POST"])
@login_required
def approve(project_id: int) -> str | Response:
    """Approve with a trainer chosen among those certified for the whole project."""
    project = _load(project_id, "decide")
    form, fits = _approve_form(project)
    if form.validate_on_submit():
        done = submit(lambda: projects.approve_project(
            db.session, project, actor=current_user, now=utc_now(),
            trainer_id=form.trainer.data, reason=form.reason.data), form=form,
            fields=FORM_FIELDS, success=lambda p: _("Project approved; %(name)s runs its "
                                                    "sessions.", name=p.trainer.name))
        if done or _decided_meanwhile(done.error):
            return redirect(url_for("projects.show", project_id=project.id))
    return _render_show(project, form, fits)


def _decided_meanwhile(error: DomainError | None) -> bool:
    """Decided or closed meanwhile, in another tab or by a colleague: say so on
    the project's page rather than on the form."""
    if isinstance(error, InvalidState):
        flash(error.message, "error")
        return True
    return False


@bp.route("/<id:project_id>/reject", methods=["GET", "POST"])
@login_required
def reject(project_id: int) -> str | Response:
    """Asks to confirm, with the reason the company will read."""
    project = _load(project_id, "decide")
    form = RejectForm()
    if form.validate_on_submit():
        done = submit(lambda: projects.reject_project(
            db.session, project, actor=current_user, now=utc_now(), reason=form.reason.data),
            form=form, fields=FORM_FIELDS, success=_("Project rejected."))
        if done:
            return redirect(url_for("projects.review"))
        if _decided_meanwhile(done.error):
            return redirect(url_for("projects.show", project_id=project.id))
    return render_template("projects/reject.html", project=project, form=form)


@bp.route("/<id:project_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(project_id: int) -> str | Response:
    """Asks to confirm, with a reason, and lists the sessions it cancels (those
    still to come); names the ones the user may not cancel."""
    project = _load(project_id)
    try:
        projects.check_cancellable(current_user, project)
    except InvalidState as over:  # said on its page rather than as an error page
        flash(over.message, "error")
        return redirect(url_for("projects.show", project_id=project.id))
    form = CancelForm()
    if form.validate_on_submit():
        done = submit(lambda: projects.cancel_project(
            db.session, project, actor=current_user, now=utc_now(), reason=form.reason.data),
            form=form, fields=FORM_FIELDS, success=lambda cancelled: ngettext(
                "Project cancelled, with its %(num)d session to come.",
                "Project cancelled, with its %(num)d sessions to come.", len(cancelled))
            if cancelled else _("Project cancelled."))
        if done or _decided_meanwhile(done.error):
            return redirect(url_for("projects.show", project_id=project.id))
    sessions = projects.sessions_to_cancel(db.session, project, utc_now())
    blocked = [b for b in sessions if not may(current_user, "cancel", b)]
    return render_template("projects/cancel.html", project=project, form=form,
                           sessions=sessions, blocked=blocked)


# --- coordinators: the review queue --------------------------------------------------------


@bp.route("/review")
@login_required
def review() -> str:
    """Every project, those awaiting a decision first (oldest request first)."""
    require(current_user, "review", Project)
    form = ReviewFilterForm(request.args)
    form.status.choices = [("", _("All statuses"))] + [
        (s.value, label) for s, label in STATUS_LABELS.items()]
    form.validate()
    waiting = Project.status == ProjectStatus.REQUESTED
    stmt = (select(Project).options(selectinload(Project.company), selectinload(Project.trainer))
            .order_by(case((waiting, 0), else_=1),
                      case((waiting, Project.created_at)), Project.created_at.desc(),
                      Project.id.desc()))
    if form.status.data:
        stmt = stmt.where(Project.status == ProjectStatus(form.status.data))
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    awaiting = db.session.scalar(select(func.count()).select_from(Project).where(waiting)) or 0
    args = {"status": form.status.data} if form.status.data else {}
    return render_template("projects/review.html", page=page, form=form, args=args,
                           awaiting=awaiting,
                           sessions=_sessions_summary([p.id for p in page.items], utc_now()))
