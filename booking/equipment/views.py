"""The equipment catalogue and the equipment page with its week calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.equipment.forms import VIEWS, CatalogueForm, WeekForm
from booking.equipment.month import build_month
from booking.equipment.week import build_days, build_week
from booking.extensions import db
from booking.handlers import get_or_404
from booking.i18n import display_zone, local_day_names
from booking.labels import CATEGORY_LABELS
from booking.permissions import may
from booking.search import contains
from booking.services.bookings.availability import availability
from booking.services.bookings.rules import describe_opening_hours, required_types
from booking.services.certifications.held import types_held_on
from booking.services.equipment import hours
from booking.services.waitlist.listing import line_of
from booking.timeutil import utc_now
from models import (
    Booking,
    CertificationType,
    Equipment,
    EquipmentCategory,
    Establishment,
    equipment_certification_type,
)

bp = Blueprint("equipment", __name__, url_prefix="/equipment")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"category_labels": CATEGORY_LABELS}


def _catalogue_form() -> CatalogueForm:
    form = CatalogueForm(request.args)
    form.establishment.choices = [("", _l("All establishments"))] + [
        (str(e.id), f"{e.name} ({e.city})")
        for e in db.session.scalars(select(Establishment).order_by(Establishment.name))]
    form.category.choices = [("", _l("All categories"))] + [
        (c.value, label) for c, label in CATEGORY_LABELS.items()]
    form.certification.choices = [("", _l("Any"))] + [
        (str(t.id), t.name)
        for t in db.session.scalars(select(CertificationType).order_by(CertificationType.name))]
    return form


def _local(value: datetime | None) -> datetime | None:
    return hours.wall_clock(value.date(), value.time(), display_zone()) if value else None


@bp.route("")
@login_required
def catalogue() -> str:
    """Filter by establishment, category, required certification, words, and
    "free between … and …"; each card says whether the user is certified."""
    form = _catalogue_form()
    form.validate()
    stmt = (select(Equipment)
            .options(selectinload(Equipment.establishment),
                     selectinload(Equipment.required_certification_types),
                     selectinload(Equipment.components).selectinload(
                         Equipment.required_certification_types),
                     selectinload(Equipment.opening_hours), selectinload(Equipment.parent))
            .order_by(Equipment.name))
    if form.q.data:
        stmt = stmt.where(contains(form.q.data, Equipment.name, Equipment.code,
                                   Equipment.description))
    if form.establishment.data:
        stmt = stmt.where(Equipment.establishment_id == int(form.establishment.data))
    if form.category.data:
        stmt = stmt.where(Equipment.category == EquipmentCategory(form.category.data))
    if form.certification.data:
        stmt = stmt.where(Equipment.id.in_(
            select(equipment_certification_type.c.equipment_id).where(
                equipment_certification_type.c.certification_type_id
                == int(form.certification.data))))
    machines = list(db.session.scalars(stmt))
    window = (_local(form.free_from.data), _local(form.free_to.data))
    if all(window) and not form.errors:
        if window[0] >= window[1]:
            form.free_to.errors.append(_l("Choose an end after the start."))
        else:
            machines = _free_during(machines, window[0], window[1])
    held = types_held_on(db.session, current_user, utc_now().astimezone(display_zone()).date())
    cards = [{"equipment": m, "missing": [t for t in required_types(m) if t.id not in held]}
             for m in machines]
    return render_template("equipment/catalogue.html", form=form, cards=cards)


def _free_during(machines: list[Equipment], start: datetime, end: datetime) -> list[Equipment]:
    free = []
    for result in availability(db.session, machines, start, end):
        if any(s <= start and end <= e for s, e in result.free):
            free.append(result.equipment)
    return free


@bp.route("/<id:equipment_id>")
@login_required
def page(equipment_id: int) -> str:
    """The machine and its calendar: a day, a week (the default) or a month."""
    equipment = get_or_404(Equipment, equipment_id, current_user)
    form = WeekForm(request.args)
    form.validate()
    now = utc_now()
    zone = hours.zone_of(equipment)
    today = now.astimezone(zone).date()
    view = form.view.data if form.view.data in VIEWS and not form.view.errors else "week"
    day = next((f.data for f in (form.date, form.week) if f.data and not f.errors), today)
    form.view.data, form.date.data = view, day

    def may_see(booking: Booking) -> bool:
        return may(current_user, "view", booking)

    week = month = None
    if view == "month":
        month = build_month(db.session, equipment, day, may_see=may_see)
    elif view == "day":
        week = build_days(db.session, equipment, day, 1, now=now, may_see=may_see)
    else:
        week = build_week(db.session, equipment, day, now=now, may_see=may_see)
    held = types_held_on(db.session, current_user, now.astimezone(display_zone()).date())
    missing = [t for t in required_types(equipment) if t.id not in held]
    return render_template(
        "equipment/page.html", equipment=equipment, week=week, month=month, view=view,
        day=day, form=form, missing=missing,
        hours=describe_opening_hours(equipment, local_day_names()),
        today=today, can_book=may(current_user, "book", equipment),
        prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
        day_names=local_day_names(),
        waitlist=line_of(db.session, equipment, now=now)
        if may(current_user, "see_waitlist", equipment) else None,
    )
