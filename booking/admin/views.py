"""Administration home, establishments and certification types.

Each handler: load (404), the blueprint's guard has checked the role (403),
call the directory service, commit, flash, redirect.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from booking.admin.blueprint import bp
from booking.admin.forms import (
    KIND_LABELS,
    CertificationTypeForm,
    EstablishmentForm,
)
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.pagination import paginate
from booking.services.accounts import directory
from booking.services.certifications import operations as certifications
from booking.timeutil import utc_now
from models import (
    CertificationType,
    Company,
    Equipment,
    EquipmentStatus,
    Establishment,
    EstablishmentKind,
    Role,
    User,
    equipment_certification_type,
)

ESTABLISHMENT_ERRORS = {name: name for name in directory.ESTABLISHMENT_FIELDS}
TYPE_ERRORS = {"code": "code", "name": "name", "validity_months": "validity_months"}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS}


def _count(stmt: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


@bp.route("")
def index() -> str:
    """Links to each administration page, with how many rows each holds."""
    counts = {
        "establishments": _count(select(Establishment.id)),
        "equipment": _count(select(Equipment.id)),
        "unavailable": _count(select(Equipment.id).where(
            Equipment.status != EquipmentStatus.ACTIVE)),
        "certification_types": _count(select(CertificationType.id)),
        "accounts": _count(select(User.id).where(User.active.is_(True))),
        "inactive": _count(select(User.id).where(User.active.is_(False))),
        "companies": _count(select(Company.id)),
    }
    by_role = dict(db.session.execute(
        select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)).all())
    return render_template("admin/index.html", counts=counts,
                           by_role={role.value: by_role.get(role, 0) for role in Role})


# --- establishments -------------------------------------------------------------------


def _establishment(establishment_id: int) -> Establishment:
    return get_or_404(Establishment, establishment_id, current_user, "manage")


def _establishment_values(form: EstablishmentForm) -> dict[str, Any]:
    return {"code": form.code.data.strip(), "name": form.name.data.strip(),
            "city": form.city.data.strip(), "department": form.department.data,
            "kind": EstablishmentKind(form.kind.data), "timezone": form.timezone.data.strip()}


@bp.route("/establishments")
def establishments() -> str:
    stmt = select(Establishment).order_by(Establishment.department, Establishment.city,
                                          Establishment.name)
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    ids = [e.id for e in page.items]
    equipment_counts = dict(db.session.execute(
        select(Equipment.establishment_id, func.count())
        .where(Equipment.establishment_id.in_(ids)).group_by(Equipment.establishment_id)).all())
    return render_template("admin/establishments.html", page=page,
                           equipment_counts=equipment_counts)


@bp.route("/establishments/new", methods=["GET", "POST"])
def establishment_new() -> str | Response:
    form = EstablishmentForm()
    if form.validate_on_submit() and submit(lambda: directory.create_establishment(
            db.session, actor=current_user, now=utc_now(), **_establishment_values(form)),
            form=form, fields=ESTABLISHMENT_ERRORS,
            success=lambda e: _("Establishment %(name)s created.", name=e.name)):
        return redirect(url_for("admin.establishments"))
    return render_template("admin/establishment_form.html", form=form, establishment=None)


@bp.route("/establishments/<id:establishment_id>/edit", methods=["GET", "POST"])
def establishment_edit(establishment_id: int) -> str | Response:
    establishment = _establishment(establishment_id)
    form = EstablishmentForm(obj=establishment if request.method == "GET" else None)
    form.with_department(establishment.department)
    if request.method == "GET":
        form.kind.data = establishment.kind.value
    if form.validate_on_submit() and submit(lambda: directory.update_establishment(
            db.session, establishment, actor=current_user, now=utc_now(),
            **_establishment_values(form)), form=form, fields=ESTABLISHMENT_ERRORS,
            success=lambda e: _("Establishment %(name)s saved.", name=e.name)):
        return redirect(url_for("admin.establishments"))
    return render_template("admin/establishment_form.html", form=form,
                           establishment=establishment)


# --- certification types -------------------------------------------------------------


@bp.route("/certification-types")
def certification_types() -> str:
    stmt = select(CertificationType).order_by(CertificationType.code)
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    ids = [t.id for t in page.items]
    link = equipment_certification_type.c
    used_by = dict(db.session.execute(
        select(link.certification_type_id, func.count())
        .where(link.certification_type_id.in_(ids)).group_by(link.certification_type_id)).all())
    return render_template("admin/certification_types.html", page=page, used_by=used_by)


@bp.route("/certification-types/new", methods=["GET", "POST"])
def certification_type_new() -> str | Response:
    form = CertificationTypeForm()
    if form.validate_on_submit() and submit(lambda: certifications.create_type(
            db.session, actor=current_user, now=utc_now(), code=form.code.data.strip(),
            name=form.name.data.strip(), validity_months=form.validity_months.data,
            description=(form.description.data or "").strip()), form=form,
            fields=TYPE_ERRORS,
            success=lambda t: _("Certification type %(name)s created.", name=t.name)):
        return redirect(url_for("admin.certification_types"))
    return render_template("admin/certification_type_form.html", form=form)
