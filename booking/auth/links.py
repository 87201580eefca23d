"""Pages of the mailed links: « Mot de passe oublié » and the page where a
link (a reset or an invitation) sets the password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from booking.auth.forms import ForgotPasswordForm, LinkPasswordForm
from booking.extensions import db
from booking.handlers import commit
from booking.services.accounts.links import (
    LinkGone,
    live_link,
    request_password_reset,
    set_password_with_link,
)
from booking.services.errors import NotFound, ValidationError
from booking.timeutil import utc_now

bp = Blueprint("links", __name__, url_prefix="/auth")


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # One answer whether or not an account uses the address (nor whether it
        # is closed): the page must not tell who has an account.
        request_password_reset(db.session, form.email.data or "", now=utc_now())
        commit()
        return render_template("auth/forgot_sent.html")
    return render_template("auth/forgot.html", form=form)


@bp.route("/link/<link>", methods=["GET", "POST"])
def use(link: str) -> str | Response | tuple[str, int]:
    now = utc_now()
    try:
        found = live_link(db.session, link, now=now)
    except (NotFound, LinkGone) as exc:
        return render_template("auth/link_gone.html", message=exc.message,
                               code=exc.status), exc.status
    form = LinkPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_with_link(db.session, link, form.new_password.data or "", now=now)
        except ValidationError as exc:
            form.new_password.errors.append(exc.message)
        else:
            commit()
            flash(_("Your password is saved. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/link.html", form=form, link=found)


# --- a password someone else chose ------------------------------------------------------------

# What a user whose password must change may still open: the change itself,
# logging out, the language switch, the mailed links, static files.
_STILL_OPEN = {"auth.password", "auth.logout", "main.set_language", "static"}


@bp.before_app_request
def _force_password_change() -> Response | None:
    """Pages only: the API's bearer tokens keep working (a script has no page to
    change a password on, and its token was made with the password already)."""
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    endpoint = request.endpoint or ""
    if (endpoint in _STILL_OPEN or endpoint.startswith("links.")
            or request.path.startswith("/api/")):
        return None
    return redirect(url_for("auth.password"))
