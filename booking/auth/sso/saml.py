"""SAML 2.0: the establishment's identity provider (universities, the
higher-education federation), with pysaml2 as the service provider and Debian's
xmlsec1 checking signatures.

We send an AuthnRequest through HTTP-Redirect; the IdP posts a Response to our
assertion consumer service (the callback, HTTP-POST). That post comes from the
IdP's site, so our SameSite=Lax session cookie is NOT sent with it: nothing
of the flow may live in the Flask session. Instead:

- the request id is ours to choose: ``_<issued>.<HMAC(secret key, code, issued,
  nonce)>``, the nonce in a cookie of its own, scoped to the callback's path
  (SameSite=None and Secure on https, so the IdP's post carries it). A Response
  is accepted only if its InResponseTo is such an id, recent, made for this
  provider and this browser's nonce: a Response to a request someone else
  made (a login planted in another's browser) is refused.
- the id is then claimed once on the server (:class:`AnsweredRequests`): the
  same Response posted twice, or a second Response to one request, is refused.

Settings: see :func:`check_settings`. The SP metadata (entity id = its own URL,
/auth/sso/<code>/metadata) is what an establishment gives its IdP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.sigver import SignatureError, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import SIG_RSA_SHA256

from booking.auth.sso.identity import Identity, ProviderDown, SignInFailed
from booking.auth.sso.saml_settings import check_settings
from booking.auth.sso.saml_support import (
    AnsweredRequests,
    MetadataUnreachable,
    fetch_metadata,
    forget_metadata,
    sp_key_pair,
)
from booking.auth.sso.urls import callback_url, metadata_url
from booking.public_url import public_url
from models import IdentityProvider

log = logging.getLogger(__name__)
# How long the IdP's login page may take before its answer is refused.
REQUEST_MAX_AGE = 15 * 60
NONCE_COOKIE = "saml_request"
MAX_SUBJECT = 255  # IdentityLink.subject


# --- configuration --------------------------------------------------------

def _config(provider: IdentityProvider, idp_xml: str | None) -> SPConfig:
    key_file, cert_file = sp_key_pair()
    sp: dict[str, Any] = {
        "name": "Plateforme",
        "endpoints": {
            "assertion_consumer_service": [(callback_url(provider), BINDING_HTTP_POST)],
            # The IdP's LogoutResponse lands on our login page: our own logout
            # is done before the browser goes to the IdP, nothing is left to check.
            "single_logout_service": [(public_url() + url_for("auth.login"),
                                       BINDING_HTTP_REDIRECT)],
        },
        "allow_unsolicited": False,
        "authn_requests_signed": False,
        "logout_requests_signed": True,
        # Shibboleth signs the Response, others the assertion: either will do,
        # an unsigned answer never.
        "want_assertions_signed": False,
        "want_response_signed": False,
        "want_assertions_or_response_signed": True,
        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
        "name_id_format_allow_create": True,
    }
    conf = SPConfig()
    conf.load({
        "entityid": metadata_url(provider),
        "xmlsec_binary": shutil.which("xmlsec1"),
        "key_file": key_file,
        "cert_file": cert_file,
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "metadata": {"inline": [idp_xml]} if idp_xml else {},
        "accepted_time_diff": int(current_app.config.get("SSO_CLOCK_SKEW", 120)),
        "allow_unknown_attributes": True,
        "http_client_timeout": current_app.config.get("SSO_TIMEOUT", 10),
        "service": {"sp": sp},
    })
    return conf


def _idp_xml(provider: IdentityProvider) -> str:
    settings = provider.settings
    if settings.get("idp_metadata_xml"):
        return str(settings["idp_metadata_xml"])
    try:
        return fetch_metadata(str(settings["idp_metadata_url"]))
    except MetadataUnreachable as error:
        log.warning("SAML metadata of %s unreachable: %s", provider.code, error)
        raise ProviderDown(_("%(provider)s could not be reached. Please try again later, or "
                             "log in with your password if you have one.",
                             provider=provider.label)) from error


def _client(provider: IdentityProvider) -> tuple[Saml2Client, str]:
    """The SP for ``provider`` and the entity id of its IdP."""
    if shutil.which("xmlsec1") is None:
        log.error("xmlsec1 is not installed: no SAML signature can be checked "
                  "(apt-get install xmlsec1)")
        raise SignInFailed(_("%(provider)s cannot be used for now. Please tell the "
                             "platform's administrators.", provider=provider.label), status=502)
    try:
        client = Saml2Client(config=_config(provider, _idp_xml(provider)))
        idps = list(client.metadata.identity_providers())
    except SignInFailed:
        raise
    except Exception as error:  # metadata pysaml2 cannot read (expired, not SAML)
        log.warning("SAML metadata of %s unusable: %s", provider.code, error)
        idps = []
    wanted = provider.settings.get("idp_entity_id")
    if wanted in idps or (not wanted and len(idps) == 1):
        return client, wanted or idps[0]
    log.warning("SAML metadata of %s names no usable IdP (%s)", provider.code, idps[:5])
    raise SignInFailed(_("The configuration of %(provider)s cannot be used (its metadata "
                         "names no identity provider). Please tell the platform's "
                         "administrators.", provider=provider.label), status=502)


# --- request ids bound to this browser ------------------------------------

def _mac(provider: IdentityProvider, issued: int, nonce: str) -> str:
    secret = str(current_app.secret_key).encode()
    message = f"saml-authn|{provider.code}|{issued}|{nonce}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


class _IssuedToThisBrowser(Mapping[str, str]):
    """The "outstanding queries" pysaml2 checks InResponseTo against: every id
    we issued to the browser holding ``nonce`` in the last REQUEST_MAX_AGE
    seconds (an xs:ID, so it starts with "_")."""

    def __init__(self, provider: IdentityProvider, nonce: str, skew: int) -> None:
        self.provider, self.nonce, self.skew = provider, nonce, skew

    def __contains__(self, request_id: object) -> bool:
        if not isinstance(request_id, str) or not self.nonce:
            return False
        issued_text, _dot, mac = request_id.removeprefix("_").partition(".")
        if not (issued_text.isascii() and issued_text.isdigit()) or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        age = time.time() - issued
        return (-self.skew <= age <= REQUEST_MAX_AGE
                and hmac.compare_digest(mac, _mac(self.provider, issued, self.nonce)))

    def __getitem__(self, request_id: str) -> str:
        if request_id not in self:
            raise KeyError(request_id)
        return "/"  # pysaml2's "came_from": where we go next is the view's business

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True  # pysaml2 takes an empty (falsy) mapping for "none given"


def _cookie_path(provider: IdentityProvider) -> str:
    return url_for("sso.callback", code=provider.code)


# --- the interface of booking/auth/sso ------------------------------------

def begin(provider: IdentityProvider, *, return_to: str | None = None) -> Response:
    """Send the browser to the IdP with an AuthnRequest (HTTP-Redirect)."""
    del return_to  # the view keeps where to go next
    client, idp = _client(provider)
    services = client.metadata.single_sign_on_service(idp, BINDING_HTTP_REDIRECT)
    if not services:
        raise SignInFailed(_("The configuration of %(provider)s cannot be used (its metadata "
                             "names no identity provider). Please tell the platform's "
                             "administrators.", provider=provider.label), status=502)
    nonce, issued = secrets.token_urlsafe(24), int(time.time())
    request_id = f"_{issued}.{_mac(provider, issued, nonce)}"
    name_id_format = None if provider.settings.get("subject_attribute") else \
        NAMEID_FORMAT_PERSISTENT
    _id, authn_request = client.create_authn_request(
        services[0]["location"], binding=BINDING_HTTP_POST, message_id=request_id,
        nameid_format=name_id_format)
    http = client.apply_binding(BINDING_HTTP_REDIRECT, str(authn_request),
                                services[0]["location"], relay_state=_relay_state(),
                                sign=False)
    response = redirect(dict(http["headers"])["Location"])
    secure = urlsplit(callback_url(provider)).scheme == "https" or request.is_secure
    # The IdP's answer is a cross-site POST: only a SameSite=None cookie goes
    # with it, and browsers take those over https alone. Over http (a laptop,
    # the tests on loopback, where the IdP is same-site), Lax.
    response.set_cookie(NONCE_COOKIE, nonce, max_age=REQUEST_MAX_AGE, path=_cookie_path(provider),
                        secure=secure, httponly=True, samesite="None" if secure else "Lax")
    return response


def complete(provider: IdentityProvider) -> Identity:
    """Check the Response the IdP posted: signature, audience, times (within
    SSO_CLOCK_SKEW), InResponseTo one of our recent requests to this browser,
    never seen before; then read the subject and the attributes."""
    encoded = request.form.get("SAMLResponse", "") if request.method == "POST" else ""
    if not encoded:
        raise SignInFailed(_("The identity provider sent no answer. Please sign in again."),
                           status=400)
    skew = int(current_app.config.get("SSO_CLOCK_SKEW", 120))
    nonce = request.cookies.get(NONCE_COOKIE, "")
    client, idp = _client(provider)
    answer = _parse(provider, client, encoded, _IssuedToThisBrowser(provider, nonce, skew))
    # The assertion's signature was checked with the key of the issuer it names:
    # with a federation's metadata, any of its IdPs. It must be this one.
    issuers = {answer.issuer() or idp, (answer.assertion.issuer.text or "").strip()
               if answer.assertion.issuer is not None else ""}
    if issuers != {idp}:
        log.warning("SAML answer for %s issued by %r, not %r", provider.code, issuers, idp)
        raise SignInFailed(_("This answer does not come from %(provider)s. Please sign in "
                             "again.", provider=provider.label))
    if not AnsweredRequests().claim(answer.in_response_to,
                                    keep_seconds=REQUEST_MAX_AGE + 2 * skew):
        raise SignInFailed(_("This answer of the identity provider was already used. "
                             "Please sign in again."))
    attributes = _attributes(answer)
    return Identity(subject=_subject(provider, answer, attributes), attributes=attributes,
                    keep={_logout_key(provider): json.dumps(_logout_info(answer))},
                    next_page=request.form.get("RelayState") or None)


def _relay_state() -> str:
    """Where to go after the sign-in, through the IdP: its cross-site POST
    brings no session cookie in production, so the page the view remembered
    in the session would be lost. SAML caps RelayState at 80 bytes: a longer
    path is dropped (the dashboard then). The view checks it as any ?next=."""
    target = session.get("sso:next")
    return target if isinstance(target, str) and len(target.encode()) <= 80 else ""


def _parse(provider: IdentityProvider, client: Saml2Client, encoded: str,
           outstanding: _IssuedToThisBrowser) -> Any:
    again = _("Please sign in again.")
    try:
        answer = client.parse_authn_request_response(encoded, BINDING_HTTP_POST,
                                                     outstanding=outstanding)
    except UnsolicitedResponse as error:
        log.info("SAML answer for %s to no request of this browser: %s", provider.code, error)
        raise SignInFailed(_("This answer is not for a sign-in started from this browser "
                             "(or it started too long ago).") + " " + again) from error
    except (ResponseLifetimeExceed, ToEarly) as error:
        log.info("SAML answer for %s out of its validity: %s", provider.code, error)
        raise SignInFailed(_("This answer has expired or is not valid yet: the clocks of "
                             "%(provider)s and of the platform may differ.",
                             provider=provider.label) + " " + again) from error
    except (SignatureError, SigverError, IncorrectlySigned) as error:
        log.warning("SAML answer for %s badly signed: %s", provider.code, error)
        if provider.settings.get("idp_metadata_url"):
            # The IdP may have changed its key: the next try reads its metadata anew.
            forget_metadata(str(provider.settings["idp_metadata_url"]))
        raise SignInFailed(_("The signature of this answer is missing or wrong.") + " "
                           + again) from error
    except StatusError as error:
        log.info("SAML answer for %s refuses: %s", provider.code, error)
        raise SignInFailed(_("%(provider)s did not sign you in.", provider=provider.label)
                           + " " + again) from error
    except Exception as error:  # malformed, wrong audience or destination, bad XML
        log.warning("SAML answer for %s refused: %s: %s", provider.code,
                    type(error).__name__, error)
        raise SignInFailed(_("The answer of %(provider)s could not be checked.",
                             provider=provider.label) + " " + again, status=400) from error
    if answer is None or answer.assertion is None:
        raise SignInFailed(_("The answer of %(provider)s could not be checked.",
                             provider=provider.label) + " " + again, status=400)
    return answer


def _attributes(answer: Any) -> dict[str, list[str]]:
    """Every attribute under its friendly name (pysaml2's maps turn
    urn:oid:0.9.2342.19200300.100.1.3 into "mail"), also under the
    FriendlyName the IdP gave and its full name, each a list of strings."""
    attributes: dict[str, list[str]] = {}
    for name, values in (answer.ava or {}).items():
        attributes[str(name)] = [_text(value) for value in values]
    for statement in answer.assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [_text(value.text) for value in attribute.attribute_value
                      if value.text is not None]
            for name in (attribute.friendly_name, attribute.name):
                if name and name not in attributes:
                    attributes[name] = values
    return attributes


def _text(value: Any) -> str:
    return value.text if isinstance(value, NameID) else str(value).strip()


def _subject(provider: IdentityProvider, answer: Any, attributes: dict[str, list[str]]) -> str:
    again = _("Please sign in again.")
    attribute = provider.settings.get("subject_attribute")
    if attribute:
        values = attributes.get(attribute) or [""]
        subject = values[0]
    else:
        name_id = answer.name_id
        subject = name_id.text.strip() if name_id is not None and name_id.text else ""
        if subject and name_id.format != NAMEID_FORMAT_PERSISTENT:
            raise SignInFailed(_("%(provider)s sent no persistent identifier for you; its "
                                 "administrators must release one to the platform.",
                                 provider=provider.label))
    if not subject or len(subject) > MAX_SUBJECT:
        raise SignInFailed(_("%(provider)s sent no usable identifier for you.",
                             provider=provider.label) + " " + again)
    return subject


# --- logout -----------------------------------------------------------------

def _logout_key(provider: IdentityProvider) -> str:
    return f"sso:{provider.code}:saml"


def _logout_info(answer: Any) -> dict[str, str | None]:
    name_id = answer.name_id
    indexes = [statement.session_index for statement in answer.assertion.authn_statement]
    return {"name_id": name_id.text if name_id is not None else None,
            "format": name_id.format if name_id is not None else None,
            "name_qualifier": name_id.name_qualifier if name_id is not None else None,
            "sp_name_qualifier": name_id.sp_name_qualifier if name_id is not None else None,
            "session_index": next((index for index in indexes if index), None)}


def logout(provider: IdentityProvider, *, return_to: str) -> str | None:
    """A signed LogoutRequest (HTTP-Redirect) to the IdP's SingleLogoutService,
    or None when its metadata has none or we do not know the NameID (a
    session from before this was kept). The IdP answers on our login page."""
    del return_to  # the IdP sends its answer to our metadata's SingleLogoutService
    kept = session.get(_logout_key(provider))
    if not kept:
        return None
    info = json.loads(kept)
    if not info.get("name_id"):
        return None
    try:
        client, idp = _client(provider)
    except SignInFailed:  # the IdP is down: sending the browser there helps nobody
        return None
    services = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    if not services:
        return None
    destination = services[0]["location"]
    name_id = NameID(text=info["name_id"], format=info.get("format"),
                     name_qualifier=info.get("name_qualifier"),
                     sp_name_qualifier=info.get("sp_name_qualifier"))
    _id, logout_request = client.create_logout_request(
        destination, idp, name_id=name_id,
        session_indexes=[info["session_index"]] if info.get("session_index") else None,
        sign=False)
    http = client.apply_binding(BINDING_HTTP_REDIRECT, str(logout_request), destination,
                                relay_state="", sign=True, sigalg=SIG_RSA_SHA256)
    return str(dict(http["headers"])["Location"])


# --- SP metadata ------------------------------------------------------------

def metadata(provider: IdentityProvider) -> Response:
    """Our SP metadata: entity id, assertion consumer service, certificate.
    Made without the IdP's metadata, so it is served even when the IdP is down."""
    conf = _config(provider, None)
    # Without xmlsec1's path pysaml2 lists no algorithm in the metadata; with it,
    # every one xmlsec1 knows, MD5 and SHA-1 included, which an IdP could then
    # pick. Nothing is signed here, so the metadata is served even without it.
    conf.xmlsec_binary = None
    descriptor = entity_descriptor(conf)
    return Response(str(descriptor), mimetype="application/samlmetadata+xml")


__all__ = ["begin", "check_settings", "complete", "logout", "metadata"]
