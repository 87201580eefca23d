"""Site calendars: every machine of an establishment for a day or a week.

A company user sees other companies' bookings only as "Busy"
(booking.permissions decides, booking by booking).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from booking.calendar_panel import once, panels, url_of
from booking.extensions import db
from booking.handlers import get_or_404
from booking.i18n import local_time
from booking.labels import KIND_LABELS
from booking.permissions import may
from booking.services.bookings.free_ranges import FreeRange, first_free_ranges
from booking.services.equipment import hours
from booking.sites.forms import VIEWS, FreeRangeForm, SiteCalendarForm
from booking.sites.grid import Row, build_day, build_week, zone_of_site
from booking.timeutil import utc_now
from models import Equipment, EquipmentStatus, Establishment

bp = Blueprint("sites", __name__, url_prefix="/sites")
MAX_SEARCH_DAYS = 31


def _establishments() -> list[Establishment]:
    return list(db.session.scalars(
        select(Establishment).order_by(Establishment.city, Establishment.name)))


@bp.route("")
@login_required
def index() -> str:
    counts = {establishment_id: n for establishment_id, n in db.session.execute(
        select(Equipment.establishment_id, func.count(Equipment.id))
        .where(Equipment.status != EquipmentStatus.RETIRED)
        .group_by(Equipment.establishment_id))}
    return render_template("sites/index.html", establishments=_establishments(),
                           counts=counts, kind_labels=KIND_LABELS)


@bp.route("/<id:establishment_id>", endpoint="calendar")
@login_required
def site_calendar(establishment_id: int) -> str | Response:
    establishment = get_or_404(Establishment, establishment_id, current_user)
    form = SiteCalendarForm(request.args)
    sites = _establishments()
    form.site.choices = [SelectChoice(str(e.id), f"{e.city} — {e.name}") for e in sites]
    form.validate()
    view = form.view.data if form.view.data in VIEWS else "day"
    # A date outside the supported years is the form's error (booking.forms), and dropped.
    day = form.date.data if form.date.data and not form.date.errors else None
    # The establishment chooser is a GET form: send its choice to its own URL.
    chosen = request.args.get("site", type=int)
    if chosen and chosen != establishment.id and chosen in {e.id for e in sites}:
        return redirect(url_for("sites.calendar", establishment_id=chosen, view=view,
                                date=day.isoformat() if day else None))
    form.site.data = establishment.id
    now = utc_now()
    today = now.astimezone(zone_of_site(establishment)).date()
    day = day or today
    form.view.data, form.date.data = view, day

    def may_see(booking: object) -> bool:
        return may(current_user, "view", booking)

    if view == "week":
        grid = build_week(db.session, establishment, day, may_see=may_see)
        previous, following = grid.monday - timedelta(days=7), grid.monday + timedelta(days=7)
    else:
        grid = build_day(db.session, establishment, day, now=now, may_see=may_see)
        previous, following = day - timedelta(days=1), day + timedelta(days=1)
    finder, ranges = _free_ranges(grid.rows, today, now)
    endpoints = current_app.view_functions
    # The bookings the viewer may read (the others show as « Busy »).
    shown = {i.booking.id: i.booking for items in grid.items.values() for i in items
             if i.booking is not None}.values() if view == "day" else ()
    bookable = {r.equipment.id for r in grid.rows
                if r.equipment.status is EquipmentStatus.ACTIVE
                and may(current_user, "book", r.equipment)}
    return render_template(
        "sites/calendar.html", establishment=establishment, form=form, view=view, day=day,
        grid=grid, today=today, previous=previous, following=following, bookable=bookable,
        kind_labels=KIND_LABELS, finder=finder, ranges=ranges, clock=once(local_time),
        show_url=url_of("bookings.show", "booking_id") if "bookings.show" in endpoints else None,
        panels=panels(shown, current_user) if view == "day" and "bookings.show" in endpoints
        else {})


def _free_ranges(rows: list[Row], today: date, now: datetime
                 ) -> tuple[FreeRangeForm, list[FreeRange] | None]:
    """The « trouver N h libres » form and, once asked, what it found (None
    before); the days default to the next two weeks, at most 31 at a time."""
    form = FreeRangeForm(request.args)
    form.validate()
    if not form.hours.data or form.hours.errors:
        return form, None
    first = form.free_from.data if form.free_from.data and not form.free_from.errors else today
    last = (form.free_to.data if form.free_to.data and not form.free_to.errors
            else first + timedelta(days=13))
    if last < first:
        form.free_to.errors.append(_l("Choose an end after the start."))
        return form, None
    if (last - first).days > MAX_SEARCH_DAYS:
        form.free_to.errors.append(_l("Search at most 31 days at a time."))
        return form, None
    form.free_from.data, form.free_to.data = first, last
    machines = [r.equipment for r in rows]
    zone = hours.zone_of(machines[0]) if machines else None
    if zone is None:
        return form, []
    return form, first_free_ranges(
        db.session, machines, start=hours.wall_clock(first, time(0), zone),
        end=hours.wall_clock(last + timedelta(days=1), time(0), zone),
        minutes=form.hours.data * 60, now=now)
