"""Dashboard, language switch and health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from booking.auth.views import safe_next
from booking.extensions import db
from booking.handlers import commit, get_or_404, submit
from booking.i18n import display_zone
from booking.permissions import is_trainer
from booking.services.bookings.agenda import pending_approvals_count, upcoming_bookings
from booking.services.policy import EXPIRING_WITHIN, Policy
from booking.services.waitlist.listing import my_entries, waiting_count
from booking.services.waitlist.operations import claim, leave, offered_entries
from booking.timeutil import utc_now
from models import Certification, WaitlistEntry

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect("/dashboard")
    return redirect("/auth/login")


@bp.route("/dashboard")
@login_required
def dashboard() -> str:
    now = utc_now()
    user = current_user
    certifications: list[Certification] = []
    if is_trainer(user):
        certifications = list(
            db.session.scalars(
                select(Certification)
                .where(Certification.user_id == user.id, Certification.revoked_at.is_(None))
                .options(joinedload(Certification.certification_type))
                .order_by(Certification.valid_until)
            )
        )
    today = now.astimezone(display_zone()).date()
    return render_template(
        "main/dashboard.html",
        upcoming=upcoming_bookings(db.session, user, now=now),
        pending_count=pending_approvals_count(db.session, user),
        certifications=certifications,
        today=today,
        soon=today + EXPIRING_WITHIN,
        offers=offered_entries(db.session, user, now=now),
        waiting=waiting_count(db.session, user, now=now),
        now=now,
    )


@bp.route("/waitlist")
@login_required
def waitlist() -> str:
    """« Mes listes d'attente »: the current user's entries, in line then past."""
    now = utc_now()
    return render_template("main/waitlist.html",
                           entries=my_entries(db.session, current_user, now=now), now=now)


@bp.route("/waitlist/<id:waitlist_entry_id>/leave", methods=["POST"])
@login_required
def leave_waitlist(waitlist_entry_id: int) -> Response:
    """« Quitter la liste »: an offer held passes to the next in line."""
    entry = get_or_404(WaitlistEntry, waitlist_entry_id, current_user, "leave")
    submit(lambda: leave(db.session, actor=current_user, entry=entry, now=utc_now()),
           success=_("You left the waiting list."))
    return redirect(url_for("main.waitlist"))


@bp.route("/waitlist/<id:waitlist_entry_id>/claim", methods=["POST"])
@login_required
def claim_offer(waitlist_entry_id: int) -> Response:
    """The dashboard's « Réserver » on a waiting list offer."""
    entry = get_or_404(WaitlistEntry, waitlist_entry_id, current_user, "claim")
    done = submit(lambda: claim(db.session, actor=current_user, entry=entry, now=utc_now(),
                                policy=Policy.from_config(current_app.config)),
                  success=_("The slot is booked."))
    if done and done.value is not None:
        return redirect(url_for("bookings.show", booking_id=done.value.id))
    return redirect(url_for("main.dashboard"))


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            commit()
    return redirect(safe_next(request.form.get("next")))


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: database unreachable: %s", exc)
        database = "unreachable"
    finally:
        db.session.rollback()
    status = 200 if database == "ok" else 503
    return jsonify({"status": "ok" if status == 200 else "degraded", "database": database}), status
