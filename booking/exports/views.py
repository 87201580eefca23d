"""GET /bookings/export.ics, .csv and .xlsx: the bookings a user may see, with
the filters of the bookings list (API.md), as a file to open in a calendar
program or a spreadsheet.

``from`` and ``to`` are dates read in Europe/Paris, both included; ``mine=1``
keeps the reader's own bookings (« Mes réservations »). The CSV and the
workbook speak the reader's language (headers, purposes, statuses, dates as
their spreadsheet reads them); ``codes=1`` gives the CSV's machine form of
before (English keys, the API's values, ISO dates) to scripts. Without a
``status`` filter, cancelled, rejected and expired bookings are left out: a
file imported once into a calendar program cannot withdraw them later.
Registered before the "bookings" blueprint, whose ``/bookings/<id>.ics`` would
otherwise be tried first.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select
from sqlalchemy.orm import joinedload

from booking.exports.links import export_links
from booking.extensions import db
from booking.public_url import public_url
from booking.query import arg_day, arg_enum, arg_id
from booking.services.bookings.sheet import bookings_table
from booking.services.bookings.visibility import filtered, my_bookings, visible_bookings
from booking.services.feeds.exports import bookings_csv
from booking.services.feeds.ical import calendar_of, to_bytes
from booking.services.inputs import ascii_file_name
from booking.services.policy import CAMPUS_ZONE
from booking.services.tables import XLSX_MIMETYPE, csv_bytes, layout_for, xlsx_bytes
from booking.timeutil import utc_now
from models import SLOT_HOLDING_STATUSES, Booking, BookingStatus

bp = Blueprint("exports", __name__, url_prefix="/bookings")
bp.add_app_template_global(export_links)

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


def _flag(name: str) -> bool:
    """A yes/no switch of the query string: ``1`` or nothing; 400 otherwise."""
    raw = request.args.get(name, "").strip()
    if raw not in ("", "0", "1"):
        abort(400, description=_("“%(name)s” is 1 or 0.", name=name))
    return raw == "1"


def _selection() -> list[Booking]:
    args = _filters()
    source = my_bookings if _flag("mine") else visible_bookings
    stmt: Select[tuple[Booking]] = filtered(source(current_user), args).options(
        joinedload(Booking.trainer), joinedload(Booking.project))
    if "status" not in args:
        stmt = stmt.where(Booking.status.in_(SLOT_HOLDING_STATUSES))
    return list(db.session.scalars(stmt).unique())


def _attachment(body: bytes, mimetype: str, filename: str, *, text: bool = True) -> Response:
    headers = {**NO_STORE,
               "Content-Disposition": f'attachment; filename="{ascii_file_name(filename)}"'}
    return Response(body, content_type=f"{mimetype}; charset=utf-8" if text else mimetype,
                    headers=headers)


@bp.route("/export.ics")
@login_required
def export_ics() -> Response:
    cal = calendar_of(_selection(), name=_("Plateforme — bookings"), now=utc_now(),
                      base_url=public_url(), method="PUBLISH")
    return _attachment(to_bytes(cal), "text/calendar", "bookings.ics")


@bp.route("/export.csv")
@login_required
def export_csv() -> Response:
    if _flag("codes"):
        return _attachment(bookings_csv(_selection()), "text/csv", "bookings.csv")
    table = bookings_table(_selection(), _("Bookings"))
    return _attachment(csv_bytes(table, layout_for(get_locale())), "text/csv",
                       _("bookings") + ".csv")


@bp.route("/export.xlsx")
@login_required
def export_xlsx() -> Response:
    table = bookings_table(_selection(), _("Bookings"))
    return _attachment(xlsx_bytes([table], layout_for(get_locale())), XLSX_MIMETYPE,
                       _("bookings") + ".xlsx", text=False)
