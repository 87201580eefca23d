"""Sign-in by an LDAP bind: the person types the directory's username and
password into a form of ours, and the directory says whether they are right.

Unlike the other protocols there is no redirect and no answer to check: the
proof is the bind itself, made by the server over its own connection, so
there is nothing to replay and no clock involved. The price is that the
password passes through the platform: it is used for one bind and never kept
or logged.

Two ways to find the person's entry (``check_settings`` documents the keys):

- a DN template (``uid={username},ou=people,dc=example,dc=org``), the username
  escaped as an RDN value, then a bind as that DN;
- a search (``search_base`` and ``search_filter`` such as ``(uid={username})``,
  the username escaped for filters), as a service account or anonymously, for
  exactly one entry, then a bind as the DN found.

The stable subject is the entry's ``entryUUID`` (an operational attribute,
asked for by name) or the configured ``subject_attribute`` (``objectGUID`` on
Active Directory).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import ssl
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, make_response, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from booking.auth.sso.identity import Identity, ProviderDown, SignInFailed
from booking.auth.sso.ldap_form import LdapSignInForm
from booking.auth.sso.ldap_settings import check_settings
from models import IdentityProvider

with warnings.catch_warnings():
    # ldap3 2.9.1 (its last release) imports pyasn1's old names (tagMap, typeMap),
    # deprecated since pyasn1 0.6.1 and still there; the tests turn warnings into
    # errors, so ldap3 is imported here, once, for the application and the tests.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ldap3\.")
    import ldap3
    from ldap3.core.exceptions import (  # noqa: F401 (LDAPInvalidDnError: ldap_settings)
        LDAPException,
        LDAPInvalidDnError,
        LDAPStartTLSError,
    )
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn, parse_dn  # noqa: F401 (parse_dn: ldap_settings)

log = logging.getLogger(__name__)
__all__ = ["authenticate", "begin", "check_settings", "complete", "logout"]

DEFAULT_SUBJECT = "entryUUID"
# Operational attributes are only sent when asked for by name: the subject's,
# and the groups the memberof overlay (or Active Directory) keeps on the entry.
OPERATIONAL = ("entryUUID", "memberOf")
# Never handed on as attributes, even when the bound person may read them.
SECRET_ATTRIBUTES = frozenset({"userpassword", "unicodepwd", "sambantpassword",
                               "sambalmpassword", "authpassword"})
# Bind results that say "not these credentials" (wrong password, unknown DN,
# account locked or expired by a password policy): one answer for all of them.
REFUSED_BINDS = frozenset({19, 32, 34, 48, 49, 50, 53})
MAX_SUBJECT = 255


class WrongCredentials(SignInFailed):
    """Unknown username or wrong password (never says which)."""

    status = 401


# --- the page -----------------------------------------------------------------------------


def begin(provider: IdentityProvider, **_ignored: Any) -> Response | Identity:
    """GET: the form. POST: the form checked (CSRF included), then the bind."""
    form = LdapSignInForm()
    if not form.validate_on_submit():
        return _page(provider, form, 200)
    username = (form.username.data or "").strip()
    password = form.password.data or ""
    throttled = _throttled(provider, username)
    if throttled is not None:
        return throttled
    try:
        return authenticate(provider.settings, username, password,
                            timeout=float(current_app.config.get("SSO_TIMEOUT", 10)),
                            label=provider.label)
    except WrongCredentials as refusal:
        form.password.errors.append(refusal.message)
        return _page(provider, form, refusal.status)


def complete(provider: IdentityProvider) -> Identity:
    """Nothing comes back from an LDAP directory to a callback."""
    raise SignInFailed(_("This sign-in has no answer to receive; start again from its form."),
                       status=400)


def logout(provider: IdentityProvider, *, return_to: str) -> str | None:
    return None  # a bind leaves no session at the directory


def _page(provider: IdentityProvider, form: LdapSignInForm, status: int) -> Response:
    return make_response(render_template("auth/sso_ldap.html", provider=provider, form=form),
                         status)


# --- the directory ------------------------------------------------------------------------


def authenticate(settings: dict[str, Any], username: str, password: str, *,
                 timeout: float, label: str = "") -> Identity:
    """The identity of ``username`` if ``password`` binds as their entry.

    Raises WrongCredentials (unknown user, wrong password, any name that does
    not find exactly one entry), ProviderDown (no answer) or SignInFailed (the
    directory refuses what its own settings ask, e.g. the service account)."""
    wrong = WrongCredentials(_("Incorrect username or password."))
    # An LDAP simple bind with a DN and an empty password is an unauthenticated
    # bind, which directories accept as anonymous: it must never get that far.
    if not username or not password:
        raise wrong
    attributes = _wanted(settings)
    try:
        server = _server(settings, timeout)
        if settings.get("user_dn_template"):
            dn = settings["user_dn_template"].replace("{username}", escape_rdn(username))
            with _opened(server, settings, timeout, dn, password) as user:
                _bind(user, wrong)
                user.search(dn, "(objectClass=*)", search_scope=ldap3.BASE,
                            attributes=attributes, time_limit=math.ceil(timeout))
                entries = _entries(user)
        else:
            entries = _search(server, settings, escape_filter_chars(username), attributes,
                              timeout, label)
            if len(entries) != 1:  # none, or a filter that matches several people
                if entries:
                    log.warning("LDAP search for one person found %d entries", len(entries))
                raise wrong
            with _opened(server, settings, timeout, entries[0]["dn"], password) as user:
                _bind(user, wrong)
    except SignInFailed:
        raise
    except LDAPException as error:
        if isinstance(error, LDAPStartTLSError) or "certificate" in str(error).lower():
            log.warning("LDAP directory %s: TLS refused: %s", settings.get("url"), error)
            raise SignInFailed(_("The certificate of %(provider)s could not be verified; tell "
                                 "the platform's administrators.",
                                 provider=label or settings.get("url", "")), status=502) from None
        log.warning("LDAP directory %s unreachable: %s", settings.get("url"), error)
        raise ProviderDown(_("%(provider)s did not answer. Please try again later.",
                             provider=label or settings.get("url", ""))) from None
    if len(entries) != 1:
        # Bound, but the entry cannot be read back (the directory's access rules).
        raise SignInFailed(_("%(provider)s let you in but did not show your entry; tell the "
                             "platform's administrators.",
                             provider=label or settings.get("url", "")), status=502)
    return _identity(settings, entries[0]["raw_attributes"], label)


def _wanted(settings: dict[str, Any]) -> list[str]:
    subject = settings.get("subject_attribute") or DEFAULT_SUBJECT
    return ["*", *dict.fromkeys((*OPERATIONAL, subject))]


class _CheckedTls(ldap3.Tls):
    """TLS as the standard library checks it during the handshake: the chain
    (the system's authorities, or only the provider's ``ca_certificates``) and
    the host name. ldap3's default checks no certificate, and its own host-name
    check calls ssl.match_hostname, deprecated (gone in Python 3.12)."""

    def __init__(self, host: str, ca_certificates: str | None) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self.host = host
        self.context = ssl.create_default_context(cadata=ca_certificates or None)

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self.context.wrap_socket(
            connection.socket, server_hostname=self.host, do_handshake_on_connect=do_handshake)


def _server(settings: dict[str, Any], timeout: float) -> Any:
    tls = _CheckedTls(urlsplit(settings["url"]).hostname or "", settings.get("ca_certificates"))
    return ldap3.Server(settings["url"], connect_timeout=timeout, get_info=ldap3.NONE, tls=tls)


@contextlib.contextmanager
def _opened(server: Any, settings: dict[str, Any], timeout: float,
            user: str | None = None, password: str | None = None) -> Iterator[Any]:
    """An open connection (TLS started when asked), not yet bound; closed after."""
    # ldap3 packs the receive timeout into SO_RCVTIMEO as whole seconds.
    conn = ldap3.Connection(server, user=user, password=password, read_only=True,
                            receive_timeout=max(1, math.ceil(timeout)), raise_exceptions=False,
                            auto_referrals=False, auto_bind=ldap3.AUTO_BIND_NONE)
    try:
        conn.open()
        if settings.get("start_tls") and not conn.start_tls():
            raise ProviderDown(_("The directory refused to encrypt the connection (StartTLS)."))
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.unbind()
        # ldap3 leaves the socket open when the connection failed to open.
        sock = getattr(conn, "socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def _bind(conn: Any, wrong: WrongCredentials) -> None:
    if conn.bind():
        return
    result = conn.result or {}
    if result.get("result") in REFUSED_BINDS:
        raise wrong
    raise ProviderDown(_("The directory could not check the password (%(reason)s); try "
                         "again later.", reason=result.get("description", "?")))


def _search(server: Any, settings: dict[str, Any], escaped: str, attributes: list[str],
            timeout: float, label: str) -> list[dict[str, Any]]:
    with _opened(server, settings, timeout, settings.get("bind_dn"),
                 settings.get("bind_password")) as service:
        if not service.bind():
            log.warning("LDAP service account refused: %s", service.result)
            raise SignInFailed(_("%(provider)s refused the platform's service account; tell the "
                                 "platform's administrators.",
                                 provider=label or settings.get("url", "")), status=502)
        # Two at most: one is the person, two means the filter is ambiguous.
        service.search(settings["search_base"],
                       settings["search_filter"].replace("{username}", escaped),
                       search_scope=ldap3.SUBTREE, attributes=attributes, size_limit=2,
                       time_limit=math.ceil(timeout))
        return _entries(service)


def _entries(conn: Any) -> list[dict[str, Any]]:
    return [item for item in conn.response or () if item.get("type") == "searchResEntry"]


def _identity(settings: dict[str, Any], raw: Any, label: str) -> Identity:
    name = settings.get("subject_attribute") or DEFAULT_SUBJECT
    values = raw.get(name) or ()
    subject = _subject(name, values[0]) if len(values) == 1 else None
    if not subject:
        raise SignInFailed(_("%(provider)s gave no %(attribute)s for your entry; tell the "
                             "platform's administrators.",
                             provider=label or settings.get("url", ""), attribute=name),
                           status=502)
    return Identity(subject=subject, attributes=_texts(raw))


def _subject(name: str, value: bytes) -> str | None:
    if name.lower() == "objectguid" and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))  # Active Directory's binary GUID
    try:
        text = value.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = value.hex()
    return text if 0 < len(text) <= MAX_SUBJECT else None


def _texts(raw: Any) -> dict[str, list[str]]:
    """Every readable attribute as a list of strings; binary values (photos,
    certificates) and secrets left out."""
    attributes: dict[str, list[str]] = {}
    for name, values in raw.items():
        if name.lower() in SECRET_ATTRIBUTES:
            continue
        texts = []
        for value in values:
            try:
                texts.append(value.decode("utf-8") if isinstance(value, bytes) else str(value))
            except UnicodeDecodeError:
                continue
        if texts:
            attributes[name] = texts
    return attributes


# --- throttling ---------------------------------------------------------------------------


def _throttled(provider: IdentityProvider, username: str) -> Response | None:
    """Count a password guess like the local login does (booking.ratelimit): per
    person tried and per client address; the address's bucket is the local
    login's own, so alternating between the two forms gains nothing. The
    429 page once a limit is reached, before any bind."""
    from limits import parse

    from booking.ratelimit import client_address, limiter_of

    folded = f"{provider.code}\0{username.lower()}".encode("utf-8", "surrogatepass")
    account = "account:" + hashlib.sha256(folded).hexdigest()[:32]
    buckets = (("RATELIMIT_LOGIN_PER_ACCOUNT", "ldap-" + account),
               ("RATELIMIT_LOGIN_PER_ADDRESS", client_address()))
    try:
        strategy = limiter_of(current_app).limiter
        for setting, key in buckets:
            limit = parse(current_app.config[setting])
            # The identifiers Flask-Limiter gives a shared limit: key, then scope.
            if not strategy.hit(limit, key, setting):
                reset = strategy.get_window_stats(limit, key, setting).reset_time
                seconds = max(1, math.ceil(reset - time.time()))
                response = make_response(render_template(
                    "errors/429.html", minutes=math.ceil(seconds / 60)), 429)
                response.headers["Retry-After"] = str(seconds)
                return response
    except Exception:  # the counts' storage failing must not lock everyone out
        log.exception("LDAP sign-in throttle unavailable")
    return None
