"""Login, logout and password change pages."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from booking.auth.forms import LoginForm, PasswordForm
from booking.auth.passwords import hash_password, needs_rehash, verify_password
from booking.auth.sessions import end_login_session, start_login_session
from booking.extensions import db
from booking.handlers import commit
from booking.services.accounts.authentication import authenticate
from booking.services.accounts.operations import change_password
from booking.services.accounts.providers import BUTTONS_ON_LOGIN, enabled_providers
from booking.services.errors import ValidationError
from booking.timeutil import utc_now
from models import LoginSession, User

bp = Blueprint("auth", __name__, url_prefix="/auth")
LEAVING = "sso:logout_to"


def safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or scheme-relative URL is dropped, and
    so is anything with a control or invisible character (a CR/LF would end the
    Location header: a 500 after the login, or a header of the attacker's)."""
    if not target or not _printable(target):
        return url_for("main.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.dashboard")
    if "\\" in target:
        return url_for("main.dashboard")
    return target


def _printable(text: str) -> bool:
    """No control (C0, DEL, C1), format, surrogate or line/paragraph separator."""
    return not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in text)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            now = utc_now()
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data or "")
            start_login_session(user, now=now)
            commit()
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append(_("Unknown e-mail or wrong password."))
    return render_template("auth/login.html", form=form, **_provider_choice())


def _provider_choice() -> dict[str, object]:
    """The « Se connecter avec … » buttons, or, past a few, a link to choose
    one's establishment first."""
    providers = enabled_providers(db.session)
    if len(providers) > BUTTONS_ON_LOGIN:
        return {"providers": [], "choose_establishment": True}
    return {"providers": providers, "choose_establishment": False}


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    from booking.auth.sso.views import logout_target  # it imports this module

    # Asked before the session is cleared: a provider's logout may need what
    # the sign-in kept there (an ID token, a SAML session index).
    provider_id = db.session.scalar(select(LoginSession.provider_id).where(
        LoginSession.id == current_user.login_session_id))
    target = logout_target(provider_id)
    end_login_session(current_user, now=utc_now())
    commit()
    flash(_("You are logged out."), "info")
    if target:
        # Not a redirect to the provider: the policy `form-action 'self'` stops
        # a form's redirect that leaves the site. A page of ours sends it on.
        session[LEAVING] = target
        return redirect(url_for("auth.leaving"), 303)
    return redirect(url_for("auth.login"))


@bp.route("/leaving")
def leaving() -> str | Response:
    """After logging out of a login made through a provider: on to the
    provider's logout (its session ends too), which comes back to our login."""
    target = session.pop(LEAVING, None)
    if not isinstance(target, str) or not target.startswith(("https://", "http://")):
        return redirect(url_for("auth.login"))
    return render_template("auth/leaving.html", target=target)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    form = PasswordForm()
    if form.validate_on_submit():
        user: User = current_user  # type: ignore[assignment]
        if not verify_password(user.password_hash, form.current_password.data or ""):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                change_password(
                    db.session, user, form.new_password.data or "", now=utc_now(),
                    keep_session_id=user.login_session_id,
                )
            except ValidationError as exc:
                form.new_password.errors.append(exc.message)
            else:
                commit()
                flash(_("Your password is changed; your other sessions are closed."), "success")
                return redirect(url_for("main.dashboard"))
    return render_template("auth/password.html", form=form)
