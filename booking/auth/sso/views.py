"""Pages of sign-in through an identity provider: start, answer, SP metadata,
and « Choisir mon établissement »."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from booking.auth.sessions import start_login_session
from booking.auth.sso import adapter
from booking.auth.sso.identity import Identity, ProviderDown, SignInFailed
from booking.auth.views import safe_next
from booking.extensions import csrf, db
from booking.handlers import commit
from booking.public_url import public_url
from booking.services.accounts.providers import enabled_providers, provider_by_code
from booking.services.accounts.provisioning import sign_in
from booking.services.errors import DomainError
from booking.timeutil import utc_now
from models import Establishment, IdentityProvider

bp = Blueprint("sso", __name__, url_prefix="/auth")
log = logging.getLogger(__name__)
NEXT = "sso:next"


def _provider(code: str) -> IdentityProvider:
    provider = provider_by_code(db.session, code)
    if provider is None or not provider.enabled:
        abort(404)
    return provider


def _failed(provider: IdentityProvider, message: str, status: int, *,
            reason: str = "refused") -> tuple[str, int]:
    """``reason`` (on the page as data-reason): refused, provider-down, unreadable."""
    db.session.rollback()
    return render_template("auth/sso_error.html", provider=provider, message=message,
                           code=status, reason=reason), status


@bp.route("/sso/<code>/login", methods=["GET", "POST"])
def login(code: str) -> Response | str | tuple[str, int]:
    provider = _provider(code)
    if request.method == "GET" and "next" in request.args:
        session[NEXT] = safe_next(request.args.get("next"))
    try:
        result = adapter(provider.kind).begin(provider)
    except SignInFailed as failure:
        return _failed(provider, failure.message, failure.status, reason=_reason(failure))
    except Exception:  # a provider's configuration or metadata we could not use
        log.exception("sign-in through %s could not start", provider.code)
        return _failed(provider, _("%(provider)s could not be reached or answered something "
                                   "the platform cannot use.", provider=provider.label), 502,
                       reason="unreadable")
    if isinstance(result, Identity):
        return _finish(provider, result)
    return result


# The provider's answer comes from another site: SAML posts it (no CSRF token
# of ours can be in it); each protocol checks its own state, nonce or request id.
@bp.route("/sso/<code>/callback", methods=["GET", "POST"])
@csrf.exempt
def callback(code: str) -> Response | str | tuple[str, int]:
    provider = _provider(code)
    try:
        identity = adapter(provider.kind).complete(provider)
    except SignInFailed as failure:
        return _failed(provider, failure.message, failure.status, reason=_reason(failure))
    except Exception:  # an answer no check foresaw: refused, never a server error
        log.exception("unreadable answer from %s", provider.code)
        return _failed(provider, _("The answer of %(provider)s could not be read; sign in "
                                   "again.", provider=provider.label), 400)
    return _finish(provider, identity)


def _reason(failure: SignInFailed) -> str:
    return "provider-down" if isinstance(failure, ProviderDown) else "refused"


def _finish(provider: IdentityProvider, identity: Identity) -> Response | tuple[str, int]:
    now = utc_now()
    try:
        user = sign_in(db.session, provider, identity.subject, identity.attributes, now=now)
    except DomainError as refusal:
        return _failed(provider, refusal.message, refusal.status)
    target = session.pop(NEXT, None) or identity.next_page
    start_login_session(user, now=now, provider_id=provider.id)
    for key, value in identity.keep.items():
        session[key] = value
    commit()
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return redirect(safe_next(target))


@bp.route("/sso/<code>/metadata")
def metadata(code: str) -> Response:
    """The SAML service provider's metadata: the stable URL an IdP is given."""
    provider = _provider(code)
    if provider.kind != "saml":
        abort(404)
    return adapter("saml").metadata(provider)


@bp.route("/establishments")
def choose() -> str:
    """« Choisir mon établissement »: each establishment that has a provider."""
    providers = enabled_providers(db.session)
    establishments: dict[int, Establishment] = {}
    for provider in providers:
        establishments.setdefault(provider.establishment_id, provider.establishment)
    return render_template("auth/choose_establishment.html",
                           establishments=list(establishments.values()))


@bp.route("/establishments/<id:establishment_id>")
def establishment(establishment_id: int) -> str:
    place = db.session.get(Establishment, establishment_id)
    providers = enabled_providers(db.session, establishment_id=establishment_id)
    if place is None or not providers:
        abort(404)
    return render_template("auth/establishment_providers.html", establishment=place,
                           providers=providers)


def logout_target(provider_id: int | None) -> str | None:
    """Where to send the browser after our logout so the provider's session
    ends too; None when the login came from a password or the provider has no
    such address. Never fails: our own logout has already happened."""
    if provider_id is None:
        return None
    provider = db.session.get(IdentityProvider, provider_id)
    if provider is None or not provider.enabled:
        return None
    try:
        return adapter(provider.kind).logout(
            provider, return_to=public_url() + url_for("auth.login"))
    except Exception:
        log.exception("no logout address for %s", provider.code)
        return None
