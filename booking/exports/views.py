"""GET /bookings/export.ics and /bookings/export.csv: the bookings a user may
see, with the filters of the bookings list (API.md), as a file to open in a
calendar program or a spreadsheet.

``from`` and ``to`` are dates read in Europe/Paris, both included. Without a
``status`` filter, cancelled, rejected and expired bookings are left out: a
file imported once into a calendar program cannot withdraw them later.
Registered before the "bookings" blueprint, whose ``/bookings/<id>.ics`` would
otherwise be tried first.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.query import arg_day, arg_enum, arg_id
from booking.services.bookings.visibility import filtered, visible_bookings
from booking.services.feeds.exports import bookings_csv
from booking.services.feeds.ical import calendar_of, to_bytes
from booking.services.inputs import ascii_file_name
from booking.services.policy import CAMPUS_ZONE
from booking.timeutil import utc_now
from models import SLOT_HOLDING_STATUSES, Booking, BookingStatus

bp = Blueprint("exports", __name__, url_prefix="/bookings")

ID_FILTERS = ("equipment_id", "establishment_id", "trainer_id", "project_id")
NO_STORE = {"Cache-Control": "private, no-store"}


def _filters() -> dict[str, Any]:
    """The query string as the arguments of booking.api.bookings.filtered; 400 if
    a value cannot be read (a hand-edited link)."""
    args: dict[str, Any] = {}
    for name in ID_FILTERS:
        if (value := arg_id(name)) is not None:
            args[name] = value
    if (status := arg_enum("status", BookingStatus)) is not None:
        args["status"] = status
    first, last = arg_day("from"), arg_day("to")
    if first is not None and last is not None and last < first:
        abort(400, description=_("“to” must not be before “from”."))
    if first is not None:
        args["from_"] = datetime.combine(first, time(), tzinfo=CAMPUS_ZONE)
    if last is not None:
        args["to"] = datetime.combine(last + timedelta(days=1), time(), tzinfo=CAMPUS_ZONE)
    return args


def _selection() -> list[Booking]:
    args = _filters()
    stmt: Select[tuple[Booking]] = filtered(visible_bookings(current_user), args).options(
        joinedload(Booking.trainer), joinedload(Booking.project))
    if "status" not in args:
        stmt = stmt.where(Booking.status.in_(SLOT_HOLDING_STATUSES))
    return list(db.session.scalars(stmt).unique())


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    headers = {**NO_STORE,
               "Content-Disposition": f'attachment; filename="{ascii_file_name(filename)}"'}
    return Response(body, content_type=f"{mimetype}; charset=utf-8", headers=headers)


@bp.route("/export.ics")
@login_required
def export_ics() -> Response:
    cal = calendar_of(_selection(), name=_("Plateforme — bookings"), now=utc_now(),
                      base_url=current_app.config["BASE_URL"], method="PUBLISH")
    return _attachment(to_bytes(cal), "text/calendar", "bookings.ics")


@bp.route("/export.csv")
@login_required
def export_csv() -> Response:
    return _attachment(bookings_csv(_selection()), "text/csv", "bookings.csv")
