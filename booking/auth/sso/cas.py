"""CAS 3.0: the establishment's Central Authentication Service (universities).

The browser goes to ``<server_url>login?service=<our callback>`` and comes back
with a service ticket; we ask ``<server_url>p3/serviceValidate`` whether that
ticket was issued for our callback, and the server answers with the user and
their attributes. The server alone judges a ticket: it is single-use and
short-lived (the server checks its age against its own clock, so no clock skew
applies here), and bound to the service it was issued for.

python-cas builds the URLs and reads the answer; the validation request is our
own so that it has a timeout, a bounded answer, and an XML parser that refuses
entities (the answer crosses the network).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from cas import CASClient, CASClientV3
from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from flask import Response, current_app, redirect, request, session
from flask_babel import gettext as _

from booking.auth.sso.identity import Identity, ProviderDown, SignInFailed
from booking.auth.sso.urls import callback_url
from booking.services.errors import N_, ValidationError
from models import IdentityProvider

CAS_NS = "{http://www.yale.edu/tp/cas}"
MAX_ANSWER = 1_000_000  # bytes: a validation answer is a few hundred
# The CAS server's error codes for a ticket that is not (or no longer) good.
_REFUSED_TICKET = {"INVALID_TICKET", "INVALID_TICKET_SPEC", "UNAUTHORIZED_SERVICE_PROXY",
                   "INVALID_PROXY_CALLBACK"}


def _client(provider: IdentityProvider) -> Any:
    return CASClient(version=3, server_url=provider.settings["server_url"],
                     service_url=callback_url(provider))


def _pending_key(provider: IdentityProvider) -> str:
    return f"sso:{provider.code}:pending"


def begin(provider: IdentityProvider, *, return_to: str | None = None) -> Response:
    """Send the browser to the CAS login page. The mark in the session makes
    the callback accept only a sign-in this browser started here (CAS carries
    no state): someone else's ticket planted in a link signs nobody in."""
    del return_to  # the view keeps where to go next
    _check_up(provider)
    session[_pending_key(provider)] = True
    return redirect(_client(provider).get_login_url())


def _check_up(provider: IdentityProvider) -> None:
    """A CAS server that is down would leave the browser on its own error
    page, with no way back: ask its login page first (one short request) and
    say so on ours, where the password form is a click away."""
    url = provider.settings["server_url"] + "login"
    timeout = min(float(current_app.config.get("SSO_TIMEOUT", 10)), 5.0)
    try:
        with requests.get(url, timeout=timeout, stream=True, allow_redirects=False) as answer:
            status = answer.status_code
    except requests.RequestException as error:
        current_app.logger.warning("CAS %s: login page unreachable: %s", provider.code, error)
        status = 599
    if status >= 500 or status == 404:
        raise ProviderDown(_("%(provider)s did not answer. Please try again later.",
                             provider=provider.label))


def complete(provider: IdentityProvider) -> Identity:
    """Validate the ticket the CAS server sent the browser back with."""
    started = session.pop(_pending_key(provider), False)
    ticket = request.values.get("ticket", "")
    if not ticket:
        raise SignInFailed(_("The sign-in service sent no ticket. Please sign in again."),
                           status=400)
    if not started:
        raise SignInFailed(_("This sign-in was not started from this browser. "
                             "Please sign in again from the login page."), status=400)
    if len(ticket) > 256 or not ticket.isascii() or not ticket.isprintable():
        raise SignInFailed(_("The sign-in ticket is not valid. Please sign in again."))
    client = _client(provider)
    user, attributes, failure = _read(provider, _validation_answer(provider, client, ticket))
    if failure == "INVALID_SERVICE":
        raise SignInFailed(_("This sign-in ticket was issued for another site. "
                             "Please sign in again."))
    if failure in _REFUSED_TICKET:
        raise SignInFailed(_("This sign-in ticket has expired or was already used. "
                             "Please sign in again."))
    if failure is not None or not user:
        raise SignInFailed(_("%(provider)s refused this sign-in. Please sign in again.",
                             provider=provider.label))
    return Identity(subject=user, attributes=attributes)


def _validation_answer(provider: IdentityProvider, client: Any, ticket: str) -> bytes:
    """The body of ``p3/serviceValidate``'s answer, or ProviderDown."""
    url = client.server_url + CASClientV3.url_suffix
    down = ProviderDown(_("%(provider)s did not answer. Please try again later.",
                          provider=provider.label))
    timeout = float(current_app.config.get("SSO_TIMEOUT", 10))
    try:
        with requests.get(url, params={"ticket": ticket, "service": client.service_url},
                          timeout=timeout, stream=True, allow_redirects=False) as answer:
            if answer.status_code != 200:
                current_app.logger.warning("CAS %s: serviceValidate answered %s",
                                           provider.code, answer.status_code)
                raise down
            body = answer.raw.read(MAX_ANSWER + 1, decode_content=True)
    except requests.RequestException as error:
        current_app.logger.warning("CAS %s: serviceValidate failed: %s", provider.code, error)
        raise down from error
    if len(body) > MAX_ANSWER:
        raise down
    return body


def _read(provider: IdentityProvider,
          body: bytes) -> tuple[str, dict[str, list[str]], str | None]:
    """(user, attributes, failure code) from a serviceResponse."""
    try:
        tree = SafeXML.fromstring(body)
        failure = tree.find(f"{CAS_NS}authenticationFailure")
        if failure is not None:
            return "", {}, (failure.get("code") or "").strip().upper() or "UNKNOWN"
        if tree.find(f"{CAS_NS}authenticationSuccess") is None:
            raise ValueError("neither success nor failure")
        # Read by python-cas only once defusedxml has found no entity in it.
        user, attributes, _pgtiou = CASClientV3.parse_response_xml(body)
    except (SafeXML.ParseError, DefusedXmlException, ValueError, AttributeError,
            IndexError, TypeError) as error:
        current_app.logger.warning("CAS %s: unreadable serviceResponse: %s", provider.code, error)
        raise ProviderDown(_("%(provider)s sent an answer that could not be read. "
                             "Please try again later.", provider=provider.label)) from error
    return (user or "").strip(), _as_lists(attributes or {}), None


def _as_lists(attributes: dict[str, Any]) -> dict[str, list[str]]:
    """Each attribute as a list of strings (python-cas gives a string for one
    value, a list for several, None for an empty element)."""
    shown: dict[str, list[str]] = {}
    for name, value in attributes.items():
        values = value if isinstance(value, list) else [value]
        shown[name] = [str(v).strip() for v in values if v is not None]
    return shown


def logout(provider: IdentityProvider, *, return_to: str) -> str | None:
    """The CAS logout, which ends the CAS session and comes back to ``return_to``."""
    return str(_client(provider).get_logout_url(redirect_url=return_to))


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check a CAS provider's settings.

    - ``server_url`` (required): the CAS server's base address, http or https,
      under which ``login``, ``p3/serviceValidate`` and ``logout`` live (for
      instance ``https://cas.univ-orleans.fr/cas/``); stored ending with ``/``.
    - ``email_attribute``, ``name_attribute`` (optional, read by provisioning):
      the attributes holding the e-mail address and the full name.
    """
    settings = dict(settings)
    server_url = settings.get("server_url")
    if not isinstance(server_url, str) or not server_url.strip():
        raise ValidationError(N_("The CAS server address is required."),
                              {"field": "settings.server_url"})
    server_url = server_url.strip()
    invalid = ValidationError(N_("The CAS server address must be an http or https URL "
                                 "without query, such as https://cas.example.org/cas/."),
                              {"field": "settings.server_url"})
    try:
        parts = urlsplit(server_url)
        _port = parts.port  # reading it checks it
    except ValueError as error:  # a malformed host or port
        raise invalid from error
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or not server_url.isascii() or not server_url.isprintable()
            or " " in server_url):
        raise invalid
    settings["server_url"] = server_url.rstrip("/") + "/"
    return settings
