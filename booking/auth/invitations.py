"""The invitation page: open an account for someone, who chooses its password
through the mailed link (booking.services.accounts.invitations)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from booking.auth.forms import InvitationForm
from booking.extensions import db
from booking.handlers import submit
from booking.labels import ROLE_LABELS
from booking.permissions import is_admin, is_company, require
from booking.services.accounts.invitations import invitable_roles, invite_user
from booking.timeutil import utc_now
from models import Company, Establishment, Role, User

bp = Blueprint("invitations", __name__, url_prefix="/accounts")

FIELDS = {"email": "email", "name": "name", "role": "role",
          "establishment_id": "establishment", "company_id": "company"}


@bp.route("/invite", methods=["GET", "POST"])
@login_required
def invite() -> str | Response:
    actor: User = current_user  # type: ignore[assignment]
    require(actor, "invite", User)
    form = InvitationForm()
    form.role.choices = [(r.value, ROLE_LABELS[r]) for r in invitable_roles(actor)]
    form.establishment.choices = [(0, "—")] + ([
        (e.id, f"{e.name} ({e.city})")
        for e in db.session.scalars(select(Establishment).order_by(Establishment.name))]
        if is_admin(actor) else [])
    form.company.choices = [(0, "—")] + ([
        (c.id, c.name) for c in db.session.scalars(select(Company).order_by(Company.name))]
        if not is_company(actor) else [])
    if form.validate_on_submit():
        done = submit(lambda: invite_user(
            db.session, actor=actor, now=utc_now(), email=form.email.data or "",
            name=form.name.data or "", role=Role(form.role.data),
            establishment_id=form.establishment.data or None,
            company_id=form.company.data or None),
            form=form, fields=FIELDS,
            success=lambda user: _("Invitation sent to %(email)s; the link works for 7 days.",
                                   email=user.email))
        if done:
            return redirect(url_for("invitations.invite"))
    return render_template("auth/invite.html", form=form, admin=is_admin(actor),
                           company_actor=is_company(actor))
