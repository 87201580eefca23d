"""Throttling of password guesses and of costly requests, with Flask-Limiter.

Each throttled endpoint counts per account (the e-mail tried, normalised like
the login look-up, or the signed-in account) and per client address. Past a
limit the request is refused before any work with a 429 and ``Retry-After``
(booking.errors renders it: a page in the reader's language, or the API's error
body). Every password guess counts in one bucket per account and one per
address, whichever way it comes: the login page, the token endpoint or the
password change.

The counts live in ``RATELIMIT_STORAGE_URI``: ``memory://`` keeps them in each
process (a gunicorn worker counts on its own), ``redis://…`` shares them between
workers and servers; an unreachable Redis falls back to memory rather than fail.

One Limiter per app, not one unbound in booking.extensions: Flask-Limiter keeps
its storage on the object, so an object bound to two apps (tests, two instances)
would share counts that only a shared storage should share.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_login import current_user


def client_address() -> str:
    # The client's address as the WSGI server saw it: behind a reverse proxy,
    # the proxy must pass it on (docs/deployment.md), or every client is one.
    return "address:" + (request.remote_addr or "unknown")


def _account(email: object) -> str:
    if not isinstance(email, str) or not email.strip():
        return ""  # no account named: only the address counts (see _no_key)
    # Digested: the keys kept in a shared Redis name no one.
    folded = email.strip().lower().encode("utf-8", "surrogatepass")
    return "account:" + hashlib.sha256(folded).hexdigest()[:32]


def email_tried() -> str:
    """The account a login tries: the e-mail of the form or of the JSON body."""
    if request.is_json:
        body = request.get_json(silent=True)
        return _account(body.get("email") if isinstance(body, dict) else None)
    return _account(request.form.get("email"))


def signed_in_email() -> str:
    """The password change guesses the signed-in account's password: its bucket."""
    return _account(current_user.email) if current_user.is_authenticated else ""


def signed_in_account() -> str:
    user = g.get("api_user") or (current_user if current_user.is_authenticated else None)
    return f"user:{user.id}" if user is not None else ""


@dataclass(frozen=True)
class Throttle:
    setting: str  # the config key of the limit, e.g. "10 per 15 minutes"
    key: Callable[[], str]
    shared: bool  # one bucket for every endpoint of its setting, or one per endpoint


_GUESSES_PER_ADDRESS = Throttle("RATELIMIT_LOGIN_PER_ADDRESS", client_address, shared=True)
PASSWORD_GUESSES = (Throttle("RATELIMIT_LOGIN_PER_ACCOUNT", email_tried, shared=True),
                    _GUESSES_PER_ADDRESS)
PASSWORD_CHANGE = (Throttle("RATELIMIT_LOGIN_PER_ACCOUNT", signed_in_email, shared=True),
                   _GUESSES_PER_ADDRESS)
# An argon2 hash, a file to parse, a report or export over many rows.
COSTLY = (Throttle("RATELIMIT_COSTLY_PER_ACCOUNT", signed_in_account, shared=False),
          Throttle("RATELIMIT_COSTLY_PER_ADDRESS", client_address, shared=False))

_READ = ("GET", "HEAD")  # a HEAD runs the whole view too
# Endpoint: the methods counted (a form page's GET is free), and its throttles.
LIMITED: dict[str, tuple[tuple[str, ...], tuple[Throttle, ...]]] = {
    "auth.login": (("POST",), PASSWORD_GUESSES),
    "auth-tokens.create_token": (("POST",), PASSWORD_GUESSES),
    "auth.password": (("POST",), PASSWORD_CHANGE),
    # A mail per request: counted like guesses, per address asked and per client.
    "links.forgot": (("POST",), PASSWORD_GUESSES),
    "admin.account_password": (("POST",), COSTLY),
    "admin.account_new": (("POST",), COSTLY),
    "invitations.invite": (("POST",), COSTLY),  # a mail per request
    "Users.create_user": (("POST",), COSTLY),
    "imports.upload": (("POST",), COSTLY),
    "onboarding.upload": (("POST",), COSTLY),
    "onboarding.confirm": (("POST",), COSTLY),
    "Onboarding.post_accounts": (("POST",), COSTLY),
    "Onboarding.post_equipment": (("POST",), COSTLY),
    "Onboarding.post_certifications": (("POST",), COSTLY),
    "reports.csv": (_READ, COSTLY),
    "Reports.get_utilisation": (_READ, COSTLY),
    "exports.export_csv": (_READ, COSTLY),
    "exports.export_ics": (_READ, COSTLY),
    "exports.export_xlsx": (_READ, COSTLY),
    "reports.xlsx": (_READ, COSTLY),
}


def init_rate_limits(app: Flask) -> None:
    """Bind a Limiter to ``app`` and wrap the views of :data:`LIMITED` (after
    every blueprint is registered)."""
    limiter = Limiter(key_func=client_address)
    limiter.init_app(app)
    for endpoint, (methods, throttles) in LIMITED.items():
        view = app.view_functions[endpoint]
        for throttle in throttles:
            options = {"key_func": throttle.key, "methods": list(methods),
                       "exempt_when": _no_key(throttle.key)}
            limit = _configured(throttle.setting)
            if throttle.shared:  # one bucket, named by the setting, for every endpoint
                view = limiter.shared_limit(limit, throttle.setting, **options)(view)
            else:
                view = limiter.limit(limit, **options)(view)
        app.view_functions[endpoint] = view


def _no_key(key: Callable[[], str]) -> Callable[[], bool]:
    # No account named (a body without e-mail): the address's count is enough.
    return lambda: not key()


def _configured(setting: str) -> Callable[[], str]:
    # Read at each request: a test (or an operator's reload) may change it.
    return lambda: current_app.config[setting]


def limiter_of(app: Flask) -> Limiter:
    return next(iter(app.extensions["limiter"]))


def retry_after_seconds() -> int:
    """Seconds until the breached limit of this request lets a request through."""
    breached = limiter_of(current_app).current_limit
    if breached is None:
        return 1
    # The limits library counts on time.time(), not on the app's (frozen) clock.
    return max(1, math.ceil(breached.window.reset_time - time.time()))
