"""Administration of equipment: list, create (establishment first), edit.

Rules, components, required certifications and weekly opening hours are all
written by booking.services.equipment, the same functions as the API's.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from booking.admin.blueprint import bp
from booking.admin.forms import (
    ChooseEstablishmentForm,
    EquipmentFilterForm,
    EquipmentForm,
    place_error,
)
from booking.equipment.views import CATEGORY_LABELS
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.pagination import paginate
from booking.query import arg_id
from booking.services.equipment.operations import (
    create_equipment,
    equipment_problems,
    update_equipment,
)
from booking.services.errors import DomainError
from booking.timeutil import utc_now
from models import CertificationType, Equipment, EquipmentCategory, Establishment

# Which form field a refusal of the equipment service belongs next to.
EQUIPMENT_ERRORS = {
    "code": "code", "name": "name", "status_reason": "status_reason",
    "slot_minutes": "slot_minutes", "min_minutes": "min_minutes",
    "max_minutes": "max_minutes", "changeover_minutes": "changeover_minutes",
    "parent_id": "parent", "required_certification_type_ids": "certification_types",
    "notice_minutes": "notice_minutes", "max_advance_days": "max_advance_days",
    "cancel_deadline_hours": "cancel_deadline_hours", "others_open_days": "others_open_days",
    "check_in_grace_minutes": "check_in_grace_minutes",
}


def _establishment_choices() -> list[tuple[int, str]]:
    return [(e.id, f"{e.name} ({e.city})") for e in
            db.session.scalars(select(Establishment).order_by(Establishment.name))]


def _fill_choices(form: EquipmentForm, establishment: Establishment,
                  equipment: Equipment | None) -> None:
    form.category.choices = [(c.value, label) for c, label in CATEGORY_LABELS.items()]
    lines = db.session.scalars(
        select(Equipment).where(Equipment.establishment_id == establishment.id,
                                Equipment.category == EquipmentCategory.PILOT_LINE,
                                Equipment.parent_id.is_(None))
        .order_by(Equipment.name))
    form.parent.choices = [(0, _("— none: not a component —"))] + [
        (line.id, f"{line.name} ({line.code})") for line in lines
        if equipment is None or line.id != equipment.id]
    form.certification_types.choices = [
        (t.id, f"{t.name} ({t.code})")
        for t in db.session.scalars(select(CertificationType).order_by(CertificationType.name))]


@bp.route("/equipment")
def equipment_list() -> str:
    form = EquipmentFilterForm(request.args)
    form.establishment.choices = [(0, _("All establishments")), *_establishment_choices()]
    if not form.validate():  # a hand-edited query string: show everything
        form.establishment.data, form.q.data = 0, ""
    stmt = (select(Equipment)
            .options(selectinload(Equipment.establishment), selectinload(Equipment.parent),
                     selectinload(Equipment.components))
            .order_by(Equipment.code))
    if form.establishment.data:
        stmt = stmt.where(Equipment.establishment_id == form.establishment.data)
    if form.q.data:
        like = f"%{form.q.data.strip()}%"
        stmt = stmt.where(or_(Equipment.name.ilike(like), Equipment.code.ilike(like)))
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    args = {k: v for k, v in (("establishment", form.establishment.data or None),
                              ("q", form.q.data or None)) if v}
    return render_template("admin/equipment_list.html", page=page, form=form, args=args)


@bp.route("/equipment/new", methods=["GET", "POST"])
def equipment_new() -> str | Response:
    """First choose the establishment (its lines are the only possible parents),
    then fill in the equipment."""
    establishment_id = arg_id("establishment")
    establishment = db.session.get(Establishment, establishment_id) if establishment_id else None
    if establishment is None:
        if request.method == "POST":
            abort(400)
        chooser = ChooseEstablishmentForm()
        chooser.establishment.choices = _establishment_choices()
        return render_template("admin/equipment_choose.html", form=chooser)
    form = EquipmentForm()
    _fill_choices(form, establishment, None)
    if request.method == "GET":
        form.category.data = EquipmentCategory.TRAINING_EQUIPMENT.value
        form.fill_default_hours()
    if form.validate_on_submit():
        data = {**form.for_new_equipment(form.data_for_service()),
                "establishment_id": establishment.id}
        done = submit(lambda: create_equipment(db.session, actor=current_user, data=data,
                                               now=utc_now()),
                      on_error=lambda error: _place(form, error),
                      success=lambda e: _("Equipment %(name)s created.", name=e.name))
        if done:
            return redirect(url_for("admin.equipment_list"))
    else:
        _check_the_rest(form, establishment, None)
    return render_template("admin/equipment_form.html", form=form, equipment=None,
                           establishment=establishment, hours_fit=True)


@bp.route("/equipment/<id:equipment_id>/edit", methods=["GET", "POST"])
def equipment_edit(equipment_id: int) -> str | Response:
    equipment = get_or_404(Equipment, equipment_id, current_user, "manage")
    form = EquipmentForm()
    establishment = equipment.establishment
    _fill_choices(form, establishment, equipment)
    hours_fit = True
    if request.method == "GET":
        hours_fit = form.fill_from(equipment)
    if form.validate_on_submit():
        done = submit(lambda: update_equipment(db.session, actor=current_user,
                                               equipment=equipment,
                                               data=form.data_for_service(), now=utc_now()),
                      on_error=lambda error: _place(form, error),
                      success=_("Equipment %(name)s saved.", name=equipment.name))
        if done:
            return redirect(url_for("admin.equipment_list"))
    else:
        _check_the_rest(form, establishment, equipment)
    return render_template("admin/equipment_form.html", form=form, equipment=equipment,
                           establishment=establishment, hours_fit=hours_fit)


def _place(form: EquipmentForm, error: DomainError) -> None:
    """Every refusal of the service next to its field (refuse() carries them all)."""
    for refusal in getattr(error, "refusals", [error]):
        if refusal.details.get("field") == "opening_hours":
            form.hours_errors.append(refusal.message)
        else:
            place_error(form, refusal, EQUIPMENT_ERRORS)


def _check_the_rest(form: EquipmentForm, establishment: Establishment,
                    equipment: Equipment | None) -> None:
    """A submit the form refused: the service's rules on the fields that passed, so
    that one submit shows every mistake (nothing is written)."""
    if request.method != "POST" or "csrf_token" in form.errors:
        return
    for refusal in equipment_problems(db.session, establishment=establishment,
                                      data=form.checked_data_for_service(),
                                      equipment=equipment):
        _place(form, refusal)
