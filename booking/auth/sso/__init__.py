"""Sign-in through an establishment's identity provider (issue 12).

One module per protocol (``oidc``, ``cas``, ``saml``, ``ldap``), each with the
same five functions, called by ``views.py``:

- ``begin(provider, *, return_to) -> Response | Identity``: GET (and, for a
  form of ours such as LDAP's, POST) on ``/auth/sso/<code>/login``: send the
  browser to the provider, or show the form and, once posted, give the identity.
- ``complete(provider) -> Identity``: the provider's answer arrives at
  ``/auth/sso/<code>/callback`` (GET or POST); every check of the protocol
  (signature, audience, issuer, times, state, replay) happens here.
- ``logout(provider, *, return_to) -> str | None``: where to send the browser
  after our own logout so the provider's session ends too (None: nowhere).
- ``check_settings(settings) -> dict``: the provider's settings normalised, or
  ValidationError naming ``{"field": "settings.<key>"}``.
- ``metadata(provider) -> Response``: SAML only, the SP metadata.

A failure raises :class:`~booking.auth.sso.identity.SignInFailed` (or
``ProviderDown``), which the view shows as a page that says what happened;
local passwords keep working whatever a provider does.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Imported when first used: a deployment that configures no SAML provider
# never loads pysaml2.
_MODULES = {
    "oidc": "booking.auth.sso.oidc",
    "cas": "booking.auth.sso.cas",
    "saml": "booking.auth.sso.saml",
    "ldap": "booking.auth.sso.ldap",
}


def adapter(kind: str) -> ModuleType:
    return importlib.import_module(_MODULES[kind])
