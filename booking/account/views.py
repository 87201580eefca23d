"""Integration tokens (a user's own, or any account's for an admin) and
preferences pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from booking.account.forms import IntegrationTokenForm, PreferencesForm, RevokeForm
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.permissions import may
from booking.services.accounts.integration_tokens import (
    create_integration_token,
    integration_tokens,
    revoke_integration_token,
)
from booking.services.accounts.preferences import Preferences, receives_digest, save_preferences
from booking.services.errors import N_, NotFound
from booking.timeutil import utc_now
from models import ApiToken, User

bp = Blueprint("account", __name__, url_prefix="/account")
JUST_CREATED = "integration_just_created"  # session key


def _owner(user_id: int) -> User:
    # Someone else's tokens are not even shown to exist: 404, not 403.
    owner = db.session.get(User, user_id)
    if owner is None or not may(current_user, "manage_tokens", owner):
        raise NotFound(N_("Not found."))
    return owner


@bp.route("/users/<id:user_id>/tokens", methods=["GET", "POST"])
@login_required
def tokens(user_id: int) -> str | Response:
    owner = _owner(user_id)
    form = IntegrationTokenForm()
    if form.validate_on_submit():
        done = submit(lambda: create_integration_token(
            db.session, actor=current_user, owner=owner, name=form.name.data or "",
            scope=form.scope.data or "", expires_on=form.expires_on.data, now=utc_now(),
        ), form=form, success=_("Token created. Copy it now: it will not be shown again."))
        if done:
            # Through the (HttpOnly) session to the next page only, which pops
            # it: a reload then shows it no more, and resubmits nothing.
            session[JUST_CREATED] = {"owner": owner.id, "secret": done.value[0]}
            return redirect(url_for("account.tokens", user_id=owner.id))
    new = session.pop(JUST_CREATED, None) if request.method == "GET" else None
    secret = new["secret"] if new and new.get("owner") == owner.id else None
    return render_template("account/tokens.html", owner=owner, form=form, secret=secret,
                           tokens=integration_tokens(db.session, owner),
                           revoke_form=RevokeForm(), now=utc_now())


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int) -> Response:
    token = get_or_404(ApiToken, token_id, current_user, "revoke")
    if token.kind != "integration":
        raise NotFound(N_("Not found."))
    if RevokeForm().validate_on_submit():
        submit(lambda: revoke_integration_token(db.session, actor=current_user, token=token,
                                                now=utc_now()),
               success=_("Token revoked: programs using it are refused from now on."))
    return redirect(url_for("account.tokens", user_id=token.user_id))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> str | Response:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = PreferencesForm(obj=user)
    digest = receives_digest(user)
    if not digest:
        del form.notify_digest, form.digest_hour
    if form.validate_on_submit():
        wanted = Preferences(
            reminder_hours=form.reminder_hours.data, locale=form.locale.data or "",
            notify_bookings=bool(form.notify_bookings.data),
            end_reminder_minutes=form.end_reminder_minutes.data,
            notify_digest=bool(form.notify_digest.data) if digest else user.notify_digest,
            digest_hour=form.digest_hour.data if digest else user.digest_hour)
        done = submit(lambda: save_preferences(db.session, actor=user, user=user,
                                               wanted=wanted, now=utc_now()), form=form)
        if done:
            # The language takes effect at once (the switch's choice is in the session).
            session["lang"] = user.locale
            with force_locale(user.locale):
                flash(_("Your preferences are saved."), "success")
            return redirect(url_for("account.preferences"))
    return render_template("account/preferences.html", form=form, digest=digest)
