"""The settings of an LDAP provider (booking.auth.sso.ldap), checked when an
administrator saves them: a wrong one is said then, not at someone's sign-in."""

from __future__ import annotations

import re
import ssl
from typing import Any
from urllib.parse import urlsplit

from booking.services.errors import N_, ValidationError

_ATTRIBUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]{0,63}|[0-9]+(?:\.[0-9]+)+)$")
_MAX_SETTING = 1000
_MAX_PEM = 64 * 1024


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings of an LDAP provider, checked and normalised:

    - ``url``: ``ldap://host[:port]`` or ``ldaps://host[:port]`` (required);
    - ``start_tls``: true to encrypt an ``ldap://`` connection before binding
      (default false; certificates and host names are checked either way);
    - ``ca_certificates``: the PEM of the authorities that sign the
      directory's certificate, when not a public one (then only they are trusted);
    - either ``user_dn_template``, a DN holding ``{username}``
      (``uid={username},ou=people,dc=example,dc=org``), bound as directly;
    - or ``search_base`` and ``search_filter`` (holding ``{username}``, e.g.
      ``(&(objectClass=inetOrgPerson)(uid={username}))``), searched as
      ``bind_dn`` / ``bind_password`` (a read-only service account; both or
      neither: neither searches anonymously) for exactly one entry;
    - ``subject_attribute``: the stable identifier (default ``entryUUID``;
      ``objectGUID`` on Active Directory);
    - ``email_attribute``, ``name_attribute``: as for every provider.
    """
    # Imported through booking.auth.sso.ldap, which silences ldap3's warnings.
    from booking.auth.sso.ldap import LDAPInvalidDnError, parse_dn

    checked = dict(settings)

    def text(key: str, *, required: bool = False) -> str | None:
        value = settings.get(key)
        if value is None or value == "":
            if required:
                raise ValidationError(N_("This field is required."), {"field": f"settings.{key}"})
            checked.pop(key, None)
            return None
        if (not isinstance(value, str) or len(value) > _MAX_SETTING
                or any(ord(c) < 32 for c in value)):
            raise ValidationError(N_("This value is too long or holds control characters."),
                                  {"field": f"settings.{key}"})
        checked[key] = value.strip() if key != "bind_password" else value
        return checked[key]

    def dn(key: str, value: str) -> None:
        try:
            parse_dn(value.replace("{username}", "x"))
        except LDAPInvalidDnError:
            raise ValidationError(N_("“%(value)s” is not a distinguished name (DN)."),
                                  {"field": f"settings.{key}"}, value=value) from None

    url = text("url", required=True) or ""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (parts.scheme.lower() not in ("ldap", "ldaps") or not parts.hostname or not port_ok
            or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username):
        raise ValidationError(N_("The directory's address is ldap://host[:port] or "
                                 "ldaps://host[:port]."), {"field": "settings.url"})
    start_tls = settings.get("start_tls", False)
    if not isinstance(start_tls, bool):
        raise ValidationError(N_("StartTLS is true or false."), {"field": "settings.start_tls"})
    if start_tls and parts.scheme.lower() == "ldaps":
        raise ValidationError(N_("StartTLS is for an ldap:// address; ldaps:// is already "
                                 "encrypted."), {"field": "settings.start_tls"})
    checked["start_tls"] = start_tls

    template = text("user_dn_template")
    base, search = text("search_base"), text("search_filter")
    bind_dn, bind_password = text("bind_dn"), text("bind_password")
    if bool(template) == bool(base or search):
        raise ValidationError(N_("Give either a DN template or a search base and filter, not "
                                 "both."), {"field": "settings.user_dn_template"})
    if template:
        if "{username}" not in template:
            raise ValidationError(N_("The DN template must hold {username}."),
                                  {"field": "settings.user_dn_template"})
        dn("user_dn_template", template)
        if bind_dn or bind_password:
            raise ValidationError(N_("A service account is only used to search."),
                                  {"field": "settings.bind_dn"})
    else:
        if not base or not search:
            field = "settings.search_base" if not base else "settings.search_filter"
            raise ValidationError(N_("This field is required."), {"field": field})
        dn("search_base", base)
        if "{username}" not in search or not _balanced(search):
            raise ValidationError(N_("The search filter is an LDAP filter in parentheses "
                                     "holding {username}."),
                                  {"field": "settings.search_filter"})
        if bool(bind_dn) != bool(bind_password):
            # A DN without password would be an unauthenticated (anonymous) bind.
            raise ValidationError(N_("Give the service account's DN and password together."),
                                  {"field": "settings.bind_password"})
        if bind_dn:
            dn("bind_dn", bind_dn)
    authorities = settings.get("ca_certificates")
    if authorities in (None, ""):
        checked.pop("ca_certificates", None)
    else:
        try:
            if not isinstance(authorities, str) or len(authorities) > _MAX_PEM:
                raise ValueError
            ssl.create_default_context(cadata=authorities)
        except (ValueError, ssl.SSLError):
            raise ValidationError(N_("The certificate authorities are one or more PEM "
                                     "certificates (-----BEGIN CERTIFICATE-----)."),
                                  {"field": "settings.ca_certificates"}) from None
    subject = text("subject_attribute")
    if subject is not None and not _ATTRIBUTE.match(subject):
        raise ValidationError(N_("“%(value)s” is not an attribute name."),
                              {"field": "settings.subject_attribute"}, value=subject)
    return checked


def _balanced(search_filter: str) -> bool:
    depth = 0
    for char in search_filter.replace("\\(", "").replace("\\)", ""):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and search_filter.startswith("(") and search_filter.endswith(")")
