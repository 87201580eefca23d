"""The coordinator's inbox (/coordination/inbox), its count in the menu, and
the answers to a closure that falls on bookings: tell their people, or cancel
(moving is the booking's move form).

Every list comes from booking.services.inbox, limited there to what the reader
coordinates; the actions load their objects with the rule they need (404/403)
and call the services.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SubmitField

from booking.coordination.access import staff_required
from booking.extensions import db
from booking.forms import Form
from booking.handlers import get_or_404, submit
from booking.permissions import may
from booking.services.inbox.closures import cancel_for_closure, notify_of_closure
from booking.services.inbox.summary import count, inbox
from booking.services.policy import Policy
from booking.timeutil import utc_now
from models import Booking, Closure, Establishment

bp = Blueprint("inbox", __name__, url_prefix="/coordination")

# Where an action on a closed booking returns: the page it was asked from.
BACK = {"inbox": "inbox.index", "closures": "coordination.closures",
        "import": "imports.upload"}


class ClosureBookingForm(Form):
    """The CSRF token of the notify and cancel buttons (nothing else to read)."""

    submit = SubmitField()


@bp.app_context_processor
def _inbox_count() -> dict[str, Any]:
    def inbox_count() -> int:
        """What waits on the reader, counted once per request (the menu is
        drawn twice); 0 for those who coordinate nothing."""
        if "inbox_count" not in g:
            g.inbox_count = count(db.session, current_user, now=utc_now(),
                                  policy=Policy.from_config(current_app.config)).total \
                if may(current_user, "coordinate", Establishment) else 0
        return int(g.inbox_count)

    return {"inbox_count": inbox_count}


@bp.route("/inbox")
@staff_required
def index() -> str:
    policy = Policy.from_config(current_app.config)
    return render_template("coordination/inbox.html",
                           box=inbox(db.session, current_user, now=utc_now(), policy=policy),
                           action_form=ClosureBookingForm(), policy=policy)


def _back() -> Response:
    target = BACK.get(request.args.get("back", ""), "inbox.index")
    return redirect(url_for(target))


@bp.route("/closures/<id:closure_id>/bookings/<id:booking_id>/notify", methods=["POST"])
@staff_required
def notify(closure_id: int, booking_id: int) -> Response:
    closure = get_or_404(Closure, closure_id, current_user, "delete")
    booking = get_or_404(Booking, booking_id, current_user, "notify_closure")
    if ClosureBookingForm().validate_on_submit():
        submit(lambda: notify_of_closure(db.session, actor=current_user, booking=booking,
                                         closure=closure, now=utc_now()),
               success=lambda queued: ngettext(
                   "%(num)d message sent about “%(title)s”.",
                   "%(num)d messages sent about “%(title)s”.", queued, title=booking.title)
               if queued else _("Its people were already told of this closure."))
    return _back()


@bp.route("/closures/<id:closure_id>/bookings/<id:booking_id>/cancel", methods=["POST"])
@staff_required
def cancel(closure_id: int, booking_id: int) -> Response:
    closure = get_or_404(Closure, closure_id, current_user, "delete")
    booking = get_or_404(Booking, booking_id, current_user, "cancel")
    if ClosureBookingForm().validate_on_submit():
        submit(lambda: cancel_for_closure(
            db.session, actor=current_user, booking=booking, closure=closure, now=utc_now(),
            reason=_("Closure: %(reason)s", reason=closure.reason)),
            success=_("Cancelled: %(title)s. Its people are told why.", title=booking.title))
    return _back()
