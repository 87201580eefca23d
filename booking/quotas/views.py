"""Quota pages: « Mon utilisation » for everyone (their use and their
establishment's against each quota that applies), the coordinators' list and
forms for their establishment's machines, and the shares report.

Every write goes through booking.services.sharing.quota_admin, as the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from booking.coordination.access import staff_required
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.labels import CATEGORY_LABELS
from booking.pagination import paginate
from booking.permissions import may, require
from booking.quotas.forms import (
    APPLIES_TO_LABELS,
    OVER_LABELS,
    PERIOD_LABELS,
    DeleteForm,
    QuotaForm,
    QuotaSettingsForm,
    SharesForm,
    read_hours,
)
from booking.services.accounts.access import coordinated_establishments
from booking.services.errors import N_
from booking.services.policy import CAMPUS_ZONE
from booking.services.reports.access import Reports, default_establishment
from booking.services.sharing import quota_admin
from booking.services.sharing.access import applying_clause, managed_quotas
from booking.services.sharing.quota_periods import format_hours
from booking.services.sharing.quotas import Use, reader_use
from booking.services.sharing.shares import shares as quota_shares
from booking.timeutil import utc_now
from models import Equipment, EquipmentCategory, Establishment, Quota, QuotaAppliesTo

bp = Blueprint("quotas", __name__, url_prefix="/quotas")

# Where a refusal of the service goes in the forms.
FIELDS = {"equipment_id": "target", "category": "target", "establishment_id": "target",
          "beneficiary_establishment_id": "beneficiary"}


@bp.app_template_filter("quota_hours")
def quota_hours(minutes: int | None) -> str:
    """« 12 h 30 » / "12.5 h" (booking.services.sharing.quota_periods.format_hours)."""
    return "" if minutes is None else format_hours(minutes, get_locale() or "fr")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"quota_applies_to_labels": APPLIES_TO_LABELS, "quota_period_labels": PERIOD_LABELS,
            "quota_over_labels": OVER_LABELS}


@dataclass(frozen=True)
class Line:
    """A quota as a row of a page: what it limits, for whom, and a use."""

    quota: Quota
    what: str
    owner: Establishment
    beneficiary: Establishment | None
    use: Use | None = None

    @property
    def hours_part(self) -> float | None:
        """The part of the hours used, for the meter (None without an hours limit)."""
        if self.use is None or not self.quota.max_minutes:
            return None
        return min(1.0, self.use.minutes / self.quota.max_minutes)


def _lines(quotas: list[Quota], *, with_use: bool = False) -> list[Line]:
    """Rows of quotas with their machines and establishments, loaded in two queries."""
    machines = {m.id: m for m in db.session.scalars(select(Equipment).where(
        Equipment.id.in_({q.equipment_id for q in quotas if q.equipment_id})))}
    places = {e.id: e for e in db.session.scalars(select(Establishment).where(
        Establishment.id.in_({q.establishment_id for q in quotas}
                             | {q.beneficiary_establishment_id for q in quotas
                                if q.beneficiary_establishment_id})))}
    now = utc_now()
    return [Line(q, machines[q.equipment_id].name if q.equipment_id else
                 _("“%(category)s” machines", category=CATEGORY_LABELS[q.category]),
                 places[q.establishment_id],
                 places.get(q.beneficiary_establishment_id or 0),
                 reader_use(db.session, q, current_user, now=now) if with_use else None)
            for q in quotas]


# --- « Mon utilisation » ---------------------------------------------------------------


@bp.route("/")
@login_required
def mine() -> str:
    quotas = list(db.session.scalars(select(Quota).where(applying_clause(current_user))
                                     .order_by(Quota.establishment_id, Quota.id)))
    lines = _lines(quotas, with_use=True)
    return render_template(
        "quotas/mine.html",
        mine=[line for line in lines if line.quota.applies_to is QuotaAppliesTo.USER],
        establishment=[line for line in lines
                       if line.quota.applies_to is QuotaAppliesTo.ESTABLISHMENT],
        manages=may(current_user, "manage", Quota))


# --- the coordinators' pages -----------------------------------------------------------


def _beneficiary_choices(form: QuotaSettingsForm) -> None:
    establishments = db.session.scalars(select(Establishment).order_by(Establishment.name))
    form.beneficiary.choices = [
        SelectChoice(0, _("Every establishment but the owner (and companies, per user)")),
        *(SelectChoice(e.id, e.name) for e in establishments)]


def _target_choices(form: QuotaForm) -> None:
    owned = list(db.session.scalars(coordinated_establishments(current_user)))
    by_id = {e.id: e for e in owned}
    machines = db.session.scalars(select(Equipment).where(
        Equipment.establishment_id.in_(list(by_id))).order_by(Equipment.name))
    several = len(owned) > 1
    one, category = _("One machine"), _("Every machine of a category")
    form.target.choices = [
        *(SelectChoice(f"equipment-{m.id}", f"{m.name} — {by_id[m.establishment_id].name}"
                       if several else m.name, optgroup=one) for m in machines),
        *(SelectChoice(f"category-{e.id}-{c.value}",
                       f"{CATEGORY_LABELS[c]} — {e.name}" if several else
                       str(CATEGORY_LABELS[c]), optgroup=category)
          for e in owned for c in EquipmentCategory),
    ]


def _settings(form: QuotaSettingsForm) -> dict[str, Any]:
    return {"applies_to": form.applies_to.data, "period": form.period.data,
            "over": form.over.data,
            "beneficiary_establishment_id": form.beneficiary.data or None,
            "max_hours": read_hours(form.max_hours.data),
            "max_future_bookings": form.max_future_bookings.data}


def _target(value: str) -> dict[str, Any]:
    """The form's "equipment-7" or "category-3-pilot_line" (one of its choices)."""
    kind, _sep, rest = value.partition("-")
    if kind == "equipment":
        return {"equipment_id": int(rest)}
    establishment, _sep, category = rest.partition("-")
    return {"establishment_id": int(establishment), "category": category}


def _page() -> int:
    return request.args.get("page", 1, type=int)


@bp.route("/manage", methods=["GET", "POST"])
@staff_required
def manage() -> str | Response:
    form = QuotaForm()
    _target_choices(form)
    _beneficiary_choices(form)
    if form.validate_on_submit() and submit(
            lambda: quota_admin.create_quota(db.session, actor=current_user, now=utc_now(),
                                             **_target(form.target.data), **_settings(form)),
            form=form, fields=FIELDS, success=_("Quota saved.")):
        return redirect(url_for("quotas.manage"))
    page = paginate(db.session, managed_quotas(current_user).order_by(Quota.id), _page())
    return render_template("quotas/manage.html", form=form, page=page,
                           lines=_lines(page.items))


@bp.route("/<id:quota_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(quota_id: int) -> str | Response:
    quota = get_or_404(Quota, quota_id, current_user, "manage")
    form = QuotaSettingsForm()
    _beneficiary_choices(form)
    if request.method == "GET":
        form.applies_to.data = quota.applies_to.value
        form.beneficiary.data = quota.beneficiary_establishment_id or 0
        form.period.data = quota.period.value
        form.over.data = quota.over.value
        form.max_hours.data = "" if quota.max_minutes is None else \
            f"{quota.max_minutes / 60:.2f}".rstrip("0").rstrip(".")
        form.max_future_bookings.data = quota.max_future_bookings
    if form.validate_on_submit() and submit(
            lambda: quota_admin.update_quota(db.session, quota, actor=current_user,
                                             now=utc_now(), changes=_settings(form)),
            form=form, fields=FIELDS, success=_("Quota saved.")):
        return redirect(url_for("quotas.manage"))
    return render_template("quotas/edit.html", form=form, line=_lines([quota])[0])


@bp.route("/<id:quota_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(quota_id: int) -> str | Response:
    quota = get_or_404(Quota, quota_id, current_user, "manage")
    line = _lines([quota])[0]
    form = DeleteForm()
    if form.validate_on_submit() and submit(
            lambda: quota_admin.delete_quota(db.session, quota, actor=current_user,
                                             now=utc_now()),
            success=_("Quota deleted: it no longer limits the bookings on %(what)s.",
                      what=line.what)):
        return redirect(url_for("quotas.manage"))
    return render_template("quotas/delete.html", form=form, line=line)


# --- the report --------------------------------------------------------------------------


@bp.route("/shares")
@login_required
def shares() -> str:
    """Each establishment's share of each shared machine against its quota."""
    require(current_user, "view", Reports, N_("Reports are for coordinators and admins."))
    form = SharesForm(request.args)
    form.validate()
    day = form.day.data or utc_now().astimezone(CAMPUS_ZONE).date()
    scope = default_establishment(current_user)
    found = quota_shares(db.session, actor=current_user, day=day, establishment_id=scope)
    lines = {line.quota.id: line for line in _lines([f.quota for f in found])}
    return render_template("quotas/shares.html", form=form, day=day, found=found, lines=lines)
