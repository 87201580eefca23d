"""Administration of the travel times between establishments: the campus
default and the pairs given their own time, written by
booking.services.sharing.travel_admin (the API's functions too).

Each form posts to its own URL; a refusal shows the page again with the
refused form and its errors, a success goes back to the page.
"""

from __future__ import annotations

from typing import TypeVar

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from booking.admin.blueprint import bp
from booking.admin.travel_forms import (
    TRAVEL_ERRORS,
    TravelClearForm,
    TravelDefaultForm,
    TravelPairForm,
)
from booking.extensions import db
from booking.handlers import submit
from booking.services.sharing import travel_admin
from booking.services.sharing.travel import default_minutes
from booking.timeutil import utc_now
from models import Establishment

F = TypeVar("F", TravelPairForm, TravelClearForm)


def _choices() -> list[tuple[int, str]]:
    return [(e.id, f"{e.name} ({e.city})") for e in
            db.session.scalars(select(Establishment).order_by(Establishment.name))]


def _with_choices(form: F) -> F:
    form.establishment_a.choices = form.establishment_b.choices = _choices()
    return form


def _page(*, default_form: TravelDefaultForm | None = None,
          pair_form: TravelPairForm | None = None,
          clear_form: TravelClearForm | None = None) -> str:
    if default_form is None:
        default_form = TravelDefaultForm(formdata=None,
                                         default_minutes=default_minutes(db.session))
    if pair_form is None:
        pair_form = _with_choices(TravelPairForm(formdata=None))
    return render_template("admin/travel_times.html", default_form=default_form,
                           pair_form=pair_form, clear_form=clear_form,
                           legs=travel_admin.legs(db.session),
                           default=default_minutes(db.session))


@bp.route("/travel-times")
def travel_times() -> str:
    return _page()


@bp.route("/travel-times/default", methods=["POST"])
def travel_default() -> str | Response:
    form = TravelDefaultForm()
    if form.validate_on_submit():
        minutes = form.default_minutes.data
        done = submit(lambda: travel_admin.set_default_minutes(
            db.session, actor=current_user, minutes=minutes, now=utc_now()),
            form=form, fields={"minutes": "default_minutes"},
            success=_("Default travel time saved: %(n)d min.", n=minutes))
        if done:
            return redirect(url_for("admin.travel_times"))
    return _page(default_form=form)


@bp.route("/travel-times/pair", methods=["POST"])
def travel_pair() -> str | Response:
    form = _with_choices(TravelPairForm())
    if form.validate_on_submit():
        a, b, minutes = form.establishment_a.data, form.establishment_b.data, form.minutes.data
        done = submit(lambda: travel_admin.set_travel_time(
            db.session, actor=current_user, establishment_a_id=a, establishment_b_id=b,
            minutes=minutes, now=utc_now()),
            form=form, fields=TRAVEL_ERRORS, success=_("Travel time saved."))
        if done:
            return redirect(url_for("admin.travel_times"))
    return _page(pair_form=form)


@bp.route("/travel-times/clear", methods=["POST"])
def travel_clear() -> str | Response:
    form = _with_choices(TravelClearForm())
    if form.validate_on_submit():
        a, b = form.establishment_a.data, form.establishment_b.data
        done = submit(lambda: travel_admin.clear_travel_time(
            db.session, actor=current_user, establishment_a_id=a, establishment_b_id=b,
            now=utc_now()),
            form=form, fields=TRAVEL_ERRORS,
            success=_("These two establishments now use the default travel time."))
        if done:
            return redirect(url_for("admin.travel_times"))
    return _page(clear_form=form)
