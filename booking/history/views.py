"""/history/bookings/<id>, /history/equipment/<id>, /history/projects/<id>:
what happened to an object, newest first, for those who manage it
(booking.services.history decides: 404 for what the reader may not see,
403 for what they see but do not manage)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.extensions import db
from booking.handlers import get_or_404
from booking.services.history import booking_history, equipment_history, project_history
from models import Booking, Equipment, Project

bp = Blueprint("history", __name__, url_prefix="/history")


def _locale() -> str:
    return str(get_locale() or "fr")


@bp.route("/bookings/<id:booking_id>", endpoint="booking")
@login_required
def of_booking(booking_id: int) -> str:
    booking = get_or_404(Booking, booking_id, current_user)
    events = booking_history(db.session, actor=current_user, booking=booking,
                             locale=_locale())
    return render_template(
        "history/page.html", events=events, name=booking.title,
        heading=_("History of the booking “%(title)s”", title=booking.title),
        back=url_for("bookings.show", booking_id=booking.id))


@bp.route("/equipment/<id:equipment_id>", endpoint="equipment")
@login_required
def of_equipment(equipment_id: int) -> str:
    equipment = get_or_404(Equipment, equipment_id, current_user)
    events = equipment_history(db.session, actor=current_user, equipment=equipment,
                               locale=_locale())
    return render_template(
        "history/page.html", events=events, name=equipment.name,
        heading=_("History of %(name)s", name=equipment.name),
        back=url_for("equipment.page", equipment_id=equipment.id))


@bp.route("/projects/<id:project_id>", endpoint="project")
@login_required
def of_project(project_id: int) -> str:
    project = get_or_404(Project, project_id, current_user)
    events = project_history(db.session, actor=current_user, project=project,
                             locale=_locale())
    return render_template(
        "history/page.html", events=events, name=project.title,
        heading=_("History of the project “%(title)s”", title=project.title),
        back=url_for("projects.show", project_id=project.id))
