"""« Quand puis-je ? »: the planning search page (booking.services.planning.slots).

A GET form; the results are grouped by day, each range linking to the
booking form filled in (the machine, the day, the first slot of the length
asked and, for a coordinator, the trainer). Opened from the catalogue, a
machine's page (that machine) and a project's page (its machines, its
period, "with a trainer available", and the project carried into the links).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time, timedelta
from itertools import groupby
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from booking.extensions import db
from booking.handlers import place_error
from booking.i18n import display_zone
from booking.labels import CATEGORY_LABELS
from booking.permissions import TRAINING_ROLES, may
from booking.planning.forms import SlotSearchForm
from booking.query import optional_id
from booking.services.equipment import hours
from booking.services.errors import DomainError, Forbidden, NotFound
from booking.services.planning.slots import SlotRange, find_slots, shows_trainers
from booking.timeutil import utc_now
from models import Booking, Equipment, EquipmentCategory, EquipmentStatus, Establishment, User

bp = Blueprint("planning", __name__, url_prefix="/planning")

LENGTHS = (30, 60, 90, 120, 180, 240, 360, 480)
SHOWN = 200  # results on one page; the others are counted
FIELDS = {"from": "free_from", "to": "free_to", "minutes": "minutes",
          "equipment_id": "equipment", "category": "category", "establishment_id": "site",
          "trainer_id": "trainer"}


def _length_label(minutes: int) -> str:
    hours_, rest = divmod(minutes, 60)
    if not hours_:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    if not rest:
        return ngettext("%(num)d hour", "%(num)d hours", hours_)
    return gettext("%(hours)d h %(minutes)02d", hours=hours_, minutes=rest)


def _choices(form: SlotSearchForm, planner: bool) -> None:
    machines = db.session.scalars(select(Equipment).where(
        Equipment.status == EquipmentStatus.ACTIVE).order_by(Equipment.name))
    form.equipment.choices = [(m.id, f"{m.name} ({m.code})") for m in machines]
    form.minutes.choices = [(n, _length_label(n)) for n in LENGTHS]
    form.category.choices = [SelectChoice("", _l("Any category"))] + [
        SelectChoice(c.value, CATEGORY_LABELS[c]) for c in EquipmentCategory]
    form.site.choices = [(0, _l("Any establishment"))] + [
        (e.id, e.name) for e in db.session.scalars(select(Establishment).order_by(
            Establishment.name))]
    form.trainer.choices = [(0, _l("Any certified trainer"))]
    if planner:
        form.trainer.choices += [(u.id, u.name) for u in db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_(TRAINING_ROLES))
            .order_by(User.name))]


@bp.route("", endpoint="search")
@login_required
def search() -> str:
    """The form and, once a length and something to search are given, the ranges."""
    planner = may(current_user, "book_for_others", Booking)
    form = SlotSearchForm(request.args)
    _choices(form, planner)
    form.validate()
    today = utc_now().astimezone(display_zone()).date()
    # Nothing is offered in the past (a project's period may have begun).
    first = max(form.free_from.data or today, today)
    last = form.free_to.data or first + timedelta(days=13)
    form.free_from.data, form.free_to.data = first, last
    if not form.minutes.data:
        form.minutes.data = 60
    project_id = optional_id("project")
    asked = bool(form.equipment.data or form.category.data or form.site.data)
    found: list[SlotRange] | None = None
    trainers: dict[int, User] = {}
    if asked and not form.errors:
        zone = display_zone()
        try:
            result = find_slots(
                db.session, actor=current_user, now=utc_now(),
                start=hours.wall_clock(first, time(0), zone),
                end=hours.wall_clock(last + timedelta(days=1), time(0), zone),
                minutes=form.minutes.data, equipment_ids=form.equipment.data or None,
                category=EquipmentCategory(form.category.data) if form.category.data else None,
                establishment_id=form.site.data or None,
                trainer_id=(form.trainer.data or None) if planner else None,
                with_trainer=True if form.with_trainer.data else None)
            found = result.items
            trainers = _people(r.trainer_ids for r in found[:SHOWN])
        except (NotFound, Forbidden) as error:
            form.form_errors.append(error.message)
        except DomainError as error:
            place_error(form, error, FIELDS)
    days = None
    if found is not None:
        days = [(day, list(items)) for day, items in
                groupby(found[:SHOWN], key=lambda r: r.start.date())]
    return render_template(
        "planning/search.html", form=form, planner=planner, days=days,
        total=len(found) if found is not None else 0, shown=SHOWN, trainers=trainers,
        named=shows_trainers(current_user), project_id=project_id,
        trainer_names=lambda r: ", ".join(trainers[t].name for t in r.trainer_ids),
        booking_link=lambda r: _booking_link(r, form.minutes.data, planner, project_id))


def _people(ids: Iterable[tuple[int, ...]]) -> dict[int, User]:
    wanted = sorted({i for group in ids for i in group})
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def _booking_link(item: SlotRange, minutes: int, planner: bool,
                  project_id: int | None) -> dict[str, Any]:
    """The booking form's query: the range's first slot of the length asked."""
    end = item.start + timedelta(minutes=minutes)
    args: dict[str, Any] = {"equipment": item.equipment.id,
                            "date": item.start.date().isoformat(),
                            "start": item.start.strftime("%H:%M"),
                            "end": end.strftime("%H:%M")}
    if planner and item.trainer_ids:
        args["trainer"] = item.trainer_ids[0]
    if project_id is not None:
        args["project"] = project_id
    return args

