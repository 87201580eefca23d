"""Pages of pricing (issue 15): an establishment's price list in force on a
day, adding and withdrawing a price, a machine's price history; the billing
profile and the machines' analytic codes. Staff only; the rules are
booking.services.pricing's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.permissions import may, require
from booking.pricing.forms import (
    PRICE_FIELDS,
    AnalyticCodeForm,
    BillingProfileForm,
    EstablishmentChoiceForm,
    PriceForm,
    WithdrawForm,
)
from booking.services.errors import N_
from booking.services.pricing import operations as pricing
from booking.services.pricing.lookup import price_list
from booking.timeutil import utc_now
from models import Equipment, Establishment, Price, PriceKind, Public

bp = Blueprint("pricing", __name__, url_prefix="/pricing")


def _establishments() -> list[Establishment]:
    return list(db.session.scalars(select(Establishment).order_by(Establishment.name)))


def _chosen(establishments: list[Establishment], wanted: int | None) -> Establishment | None:
    """The establishment asked for, else the coordinator's own, else the first."""
    by_id = {e.id: e for e in establishments}
    for candidate in (wanted, current_user.establishment_id):
        if candidate in by_id:
            return by_id[candidate]
    return establishments[0] if establishments else None


def _machines(establishment: Establishment) -> list[Equipment]:
    return list(db.session.scalars(select(Equipment)
                                   .where(Equipment.establishment_id == establishment.id)
                                   .order_by(Equipment.name, Equipment.id)))


def _grouped(prices: list[Price], machines: list[Equipment]) -> list[dict[str, Any]]:
    """Per kind, its rows (machines by name, then items by label), one cell per public."""
    names = {m.id: m.name for m in machines}
    groups = []
    for kind in PriceKind:
        rows: dict[tuple[Any, ...], dict[Public, Price]] = defaultdict(dict)
        for price in prices:
            if price.kind is kind:
                key = (names.get(price.equipment_id or 0, ""), price.equipment_id or 0,
                       price.label)
                rows[key][price.public] = price
        if rows:
            groups.append({"kind": kind, "rows": [
                {"machine": key[0], "equipment_id": key[1] or None, "label": key[2],
                 "cells": cells} for key, cells in sorted(rows.items(), key=lambda kv: kv[0])]})
    return groups


def _render_index(establishment: Establishment | None, on: date, choice: EstablishmentChoiceForm,
                  form: PriceForm | None = None) -> str:
    machines = _machines(establishment) if establishment else []
    can_set = establishment is not None and may(current_user, "set_prices", establishment)
    if can_set and form is None:
        form = PriceForm(formdata=None)
        form.valid_from.data = pricing.campus_today(utc_now())
    if form is not None:
        form.machine.choices = [(0, "—")] + [(m.id, m.name) for m in machines]
    history_of = request.args.get("machine", type=int)
    machine = next((m for m in machines if m.id == history_of), None)
    history = (pricing.price_history(db.session, establishment_id=establishment.id,
                                     equipment_id=machine.id)
               if establishment is not None and machine is not None else [])
    now = utc_now()
    prices = price_list(db.session, establishment_id=establishment.id, on=on) \
        if establishment else []
    return render_template(
        "pricing/index.html", establishment=establishment, on=on, choice=choice,
        groups=_grouped(prices, machines), publics=list(Public), form=form if can_set else None,
        machines=machines, machine=machine, history=history, can_set=can_set,
        withdrawable={p.id for p in history
                      if pricing.withdraw_reason(db.session, p, now) is None},
        withdraw=WithdrawForm(formdata=None),
        can_see_profile=establishment is not None
        and may(current_user, "view_billing", establishment))


@bp.route("/")
@login_required
def index() -> str:
    """The list in force on a day (default today), per establishment."""
    require(current_user, "view", Price,
            N_("Price lists are for coordinators and administrators."))
    establishments = _establishments()
    choice = EstablishmentChoiceForm(request.args)
    choice.establishment.choices = [(e.id, e.name) for e in establishments]
    choice.validate()
    establishment = _chosen(establishments, choice.establishment.data)
    if establishment is not None:
        choice.establishment.data = establishment.id
    on = choice.on.data or pricing.campus_today(utc_now())
    choice.on.data = on
    return _render_index(establishment, on, choice)


@bp.route("/<id:establishment_id>/prices", methods=["POST"])
@login_required
def add(establishment_id: int) -> str | Response:
    establishment = get_or_404(Establishment, establishment_id, current_user, "set_prices")
    form = PriceForm()
    form.machine.choices = [(0, "—")] + [(m.id, m.name) for m in _machines(establishment)]
    if form.validate_on_submit():
        done = submit(lambda: pricing.add_price(
            db.session, actor=current_user, now=utc_now(), establishment=establishment,
            kind=PriceKind(form.kind.data), public=Public(form.public.data),
            equipment_id=form.machine.data or None, label=form.label.data or "",
            unit=form.unit.data or "", unit_price_cents=form.cents,
            vat_rate_bp=form.vat_rate.data, valid_from=form.valid_from.data),
            form=form, fields=PRICE_FIELDS, success=_("Price added."))
        if done:
            return redirect(url_for("pricing.index", establishment=establishment.id,
                                    on=done.value.valid_from.isoformat(),
                                    machine=done.value.equipment_id))
    choice = EstablishmentChoiceForm(formdata=None)
    choice.establishment.choices = [(e.id, e.name) for e in _establishments()]
    choice.establishment.data = establishment.id
    today = pricing.campus_today(utc_now())
    choice.on.data = today
    return _render_index(establishment, today, choice, form)


@bp.route("/prices/<id:price_id>/withdraw", methods=["POST"])
@login_required
def withdraw(price_id: int) -> Response:
    price = get_or_404(Price, price_id, current_user, "set")
    establishment_id, equipment_id = price.establishment_id, price.equipment_id
    form = WithdrawForm()
    if form.validate_on_submit():
        submit(lambda: pricing.withdraw_price(db.session, actor=current_user, now=utc_now(),
                                              price=price), success=_("Price withdrawn."))
    return redirect(url_for("pricing.index", establishment=establishment_id,
                            machine=equipment_id))


# --- billing profile ---------------------------------------------------------------------


def _render_profile(establishment: Establishment, form: BillingProfileForm | None = None
                    ) -> str:
    profile = pricing.billing_profile(db.session, establishment)
    editable = may(current_user, "edit_billing", establishment)
    if editable and form is None:
        form = BillingProfileForm(formdata=None, obj=profile)
    return render_template("pricing/profile.html", establishment=establishment,
                           profile=profile, form=form if editable else None,
                           machines=_machines(establishment),
                           codes=pricing.analytic_codes(db.session, establishment),
                           editable=editable)


@bp.route("/profile/<id:establishment_id>", methods=["GET", "POST"])
@login_required
def profile(establishment_id: int) -> str | Response:
    """The billing profile: an admin edits it, the establishment's coordinators read it."""
    establishment = get_or_404(Establishment, establishment_id, current_user, "view_billing")
    form = None
    if request.method == "POST":
        require(current_user, "edit_billing", establishment)
        form = BillingProfileForm()
        if form.validate_on_submit():
            done = submit(lambda: pricing.update_billing_profile(
                db.session, actor=current_user, now=utc_now(), establishment=establishment,
                **form.values()), form=form, success=_("Billing details saved."))
            if done:
                return redirect(url_for("pricing.profile", establishment_id=establishment.id))
    return _render_profile(establishment, form)


@bp.route("/machines/<id:equipment_id>/analytic-code", methods=["GET", "POST"])
@login_required
def analytic_code(equipment_id: int) -> str | Response:
    """A machine's analytic code (admins)."""
    machine = get_or_404(Equipment, equipment_id, current_user)
    establishment = machine.establishment
    require(current_user, "edit_billing", establishment,
            N_("Only an administrator sets analytic codes."))
    form = AnalyticCodeForm()
    if request.method == "GET":
        form.code.data = pricing.analytic_codes(db.session, establishment).get(machine.id, "")
    if form.validate_on_submit():
        done = submit(lambda: pricing.set_analytic_code(
            db.session, actor=current_user, now=utc_now(), equipment=machine,
            code=form.code.data or ""), form=form, success=_("Analytic code saved."))
        if done:
            return redirect(url_for("pricing.profile", establishment_id=establishment.id))
    return render_template("pricing/analytic_code.html", machine=machine,
                           establishment=establishment, form=form)
