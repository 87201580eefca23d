"""Kiosk screens and their links.

``/kiosk/<token>`` is the screen itself: no login, no cookie, read only, a
page of its own (large type, no app chrome) that reloads itself every minute.
An unknown or revoked token is a 404 at once, with nothing written. The
coordinators list, make and revoke the links on ``/kiosks``, through
booking.services.kiosk like the calendar feeds on /calendars.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from booking.extensions import db
from booking.handlers import commit, submit
from booking.kiosk.forms import NewKioskForm, RevokeKioskForm
from booking.labels import EQUIPMENT_STATUS_LABELS, KIOSK_SCOPE_LABELS
from booking.permissions import require
from booking.public_url import public_url
from booking.services.kiosk import operations as kiosks
from booking.services.kiosk.access import KioskTarget
from booking.services.kiosk.screen import screen_of
from booking.timeutil import utc_now
from models import Equipment, KioskLink, KioskScope

bp = Blueprint("kiosk", __name__)

# Seconds between two reloads of a screen (a meta refresh: works without JavaScript).
REFRESH_SECONDS = 60


@bp.route("/kiosk/<kiosk_token>", endpoint="screen")
def screen(kiosk_token: str) -> Response:
    link = kiosks.link_for_token(db.session, kiosk_token)
    shown = screen_of(db.session, link, utc_now()) if link is not None else None
    if shown is None:
        abort(404)
    refresh = int(current_app.config.get("KIOSK_REFRESH_SECONDS") or REFRESH_SECONDS)
    answer = make_response(render_template(
        "kiosk/screen.html", screen=shown, refresh=refresh,
        status_labels=EQUIPMENT_STATUS_LABELS))
    # A screen's address is a secret: kept out of search engines and caches.
    answer.headers["X-Robots-Tag"] = "noindex, nofollow"
    return answer


# --- the coordinators' page ------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    link: KioskLink
    scope_label: str
    name: str
    url: str


def target_name(target: KioskTarget | None) -> str:
    if target is None:
        return _("(no longer exists)")
    if isinstance(target.target, Equipment):
        return f"{target.target.name} ({target.target.code})"
    return f"{target.target.name} ({target.target.city})"


def _rows() -> list[LinkRow]:
    key, base_url = current_app.config["SECRET_KEY"], public_url()
    return [LinkRow(link, str(KIOSK_SCOPE_LABELS[link.scope]),
                    target_name(kiosks.link_target(db.session, link)),
                    kiosks.kiosk_url(link, key=key, base_url=base_url))
            for link in db.session.scalars(kiosks.live_links(current_user))]


def _new_form() -> NewKioskForm:
    form = NewKioskForm()
    form.target.choices = [
        SelectChoice(f"{t.scope.value}:{t.target.id}", target_name(t),
                     optgroup=str(KIOSK_SCOPE_LABELS[t.scope]))
        for t in kiosks.linkable(db.session, current_user)]
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]  # preselected from a site or machine page
    return form


def _page(form: NewKioskForm) -> str:
    return render_template("kiosk/manage.html", rows=_rows(), form=form)


@bp.route("/kiosks", endpoint="manage")
@login_required
def manage() -> str:
    require(current_user, "manage", KioskLink)
    return _page(_new_form())


@bp.route("/kiosks/new", methods=["POST"], endpoint="create")
@login_required
def create() -> str | Response:
    require(current_user, "manage", KioskLink)
    form = _new_form()
    if not form.validate_on_submit():
        return _page(form)
    scope_value, _sep, raw_id = form.target.data.partition(":")
    link = kiosks.create_link(db.session, actor=current_user, now=utc_now(),
                              scope=KioskScope(scope_value), target_id=int(raw_id),
                              label=form.label.data or "",
                              key=current_app.config["SECRET_KEY"])
    commit()
    flash(_("Screen link created: open it on the screen's browser."), "success")
    return redirect(url_for("kiosk.manage", _anchor=f"kiosk-{link.id}"))


@bp.route("/kiosks/<id:link_id>/revoke", methods=["GET", "POST"], endpoint="revoke")
@login_required
def revoke(link_id: int) -> str | Response:
    link = kiosks.load_link(db.session, link_id, actor=current_user)
    form = RevokeKioskForm()
    if form.validate_on_submit() and submit(
            lambda: kiosks.revoke_link(db.session, link, actor=current_user, now=utc_now()),
            success=_("Link revoked: the screen shows nothing any more.")):
        return redirect(url_for("kiosk.manage"))
    return render_template("kiosk/confirm.html", link=link, form=form,
                           scope_label=KIOSK_SCOPE_LABELS[link.scope],
                           name=target_name(kiosks.link_target(db.session, link)))
