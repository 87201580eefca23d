"""OpenID Connect: the authorization code flow with PKCE, state and nonce.

The provider is found by discovery (``<issuer>/.well-known/openid-configuration``);
Authlib's requests client speaks OAuth 2 (authorization URL, code exchange,
userinfo) and joserfc checks the ID token: its signature against the
provider's published keys (JWKS), then ``iss``, ``aud``, ``exp``, ``iat`` and
``nonce``, times with ``SSO_CLOCK_SKEW`` seconds of leeway.

What one sign-in needs between the two legs (state, nonce, PKCE verifier)
lives in the Flask session under ``sso:<code>:flow`` and is taken out by the
callback whatever its outcome: an answer can be used once, so the same
callback URL twice (a replay, a back button) is refused.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core.util import create_half_hash
from flask import Response, current_app, redirect, request, session
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from booking.auth.sso.identity import Identity, ProviderDown, SignInFailed
from booking.auth.sso.urls import callback_url
from booking.services.errors import N_, ValidationError
from booking.timeutil import utc_now
from models import IdentityProvider

log = logging.getLogger(__name__)

DEFAULT_SCOPES = "openid email profile"
# Asymmetric signatures only: "none" would sign nothing, and HS256 would make
# the client secret (which we hold) a signing key.
SAFE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                   "ES256", "ES384", "ES512", "EdDSA")
# Discovery documents and keys change rarely; a short cache spares the
# provider two requests per sign-in, and a key id we do not know (a rotation)
# fetches the keys again at once.
CACHE_SECONDS = 300
# Between leaving for the provider and coming back: long enough to type a
# password and pass a second factor.
FLOW_SECONDS = 15 * 60
MAX_SUBJECT = 255  # IdentityLink.subject
# Claims about the token rather than the person: not attributes.
TOKEN_CLAIMS = frozenset({"nonce", "at_hash", "c_hash", "s_hash", "exp", "iat", "nbf",
                          "auth_time", "jti", "sid", "azp", "aud", "iss", "acr", "amr"})
SETTINGS = frozenset({"issuer", "client_id", "client_secret", "scopes",
                      "email_attribute", "name_attribute"})
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")

_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


class TokenRejected(SignInFailed):
    """The ID token failed a check; ``reason`` says which (for the logs and tests):
    signature, malformed, issuer, audience, nonce, expired, future, subject."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, status=403)
        self.reason = reason


# --- settings ---------------------------------------------------------------


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The provider's settings, normalised.

    - ``issuer`` (required): the provider's issuer URL, https (http only on
      the loopback, for tests); discovery is read at
      ``<issuer>/.well-known/openid-configuration``.
    - ``client_id`` (required), ``client_secret`` (optional: without it we are
      a public client, PKCE protecting the code).
    - ``scopes``: space-separated or a list, ``openid`` always included
      (default ``openid email profile``); add ``groups`` or the like when the
      role rules read a claim the provider gives only on request.
    - ``email_attribute``, ``name_attribute`` (optional): claims to read the
      e-mail address and the name from, when not ``email`` and ``name``.
    """
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        raise ValidationError(N_("Unknown setting “%(value)s”."),
                              {"field": f"settings.{unknown[0]}"}, value=unknown[0])
    checked: dict[str, Any] = {"issuer": _issuer(settings.get("issuer")),
                               "client_id": _text(settings.get("client_id"), "client_id")}
    secret = settings.get("client_secret")
    if secret not in (None, ""):
        _text(secret, "client_secret")
        checked["client_secret"] = secret  # as given: a space may belong to a secret
    checked["scopes"] = _scopes(settings.get("scopes"))
    for key in ("email_attribute", "name_attribute"):
        if settings.get(key) not in (None, ""):
            checked[key] = _text(settings[key], key)
    return checked


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(N_("This field is required."), {"field": f"settings.{key}"})
    value = value.strip()
    if len(value) > 500 or any(ord(c) < 32 for c in value):
        raise ValidationError(N_("This value is too long or holds control characters."),
                              {"field": f"settings.{key}"})
    return value


def _issuer(value: Any) -> str:
    issuer = _text(value, "issuer")
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("localhost",) or _is_loopback(parts.hostname)
    if (parts.scheme != "https" and not (parts.scheme == "http" and loopback)) \
            or not parts.hostname or parts.query or parts.fragment:
        raise ValidationError(
            N_("The issuer is the provider's https address, without “?” or “#” "
               "(for example https://login.example.org/realms/staff)."),
            {"field": "settings.issuer"})
    return issuer


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ip_address(host).is_loopback
    except ValueError:
        return False


def _scopes(value: Any) -> str:
    if value in (None, ""):
        return DEFAULT_SCOPES
    scopes = value.split() if isinstance(value, str) else value
    if not isinstance(scopes, list) or not all(isinstance(s, str) and SCOPE_TOKEN.match(s)
                                               for s in scopes) or len(scopes) > 20:
        raise ValidationError(N_("The scopes are words separated by spaces, such as "
                                 "“openid email profile”."), {"field": "settings.scopes"})
    if "openid" not in scopes:
        scopes = ["openid", *scopes]
    return " ".join(dict.fromkeys(scopes))


# --- the provider's documents -------------------------------------------------


def _timeout() -> float:
    return float(current_app.config.get("SSO_TIMEOUT", 10))


def _down(provider: IdentityProvider) -> ProviderDown:
    return ProviderDown(_("%(provider)s is not answering at the moment. Try again in a few "
                          "minutes.", provider=provider.label))


def _get_json(provider: IdentityProvider, url: str, *, fresh: bool = False) -> Any:
    """A provider's JSON document, cached briefly; any failure: the provider is down."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(url)
    if cached and cached[0] > now and not fresh:
        return cached[1]
    try:
        answer = requests.get(url, timeout=_timeout(), headers={"Accept": "application/json"})
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as error:
        log.warning("OpenID provider %s: %s unreadable: %s", provider.code, url, error)
        raise _down(provider) from error
    if not isinstance(document, dict):
        log.warning("OpenID provider %s: %s is not a JSON object", provider.code, url)
        raise _down(provider)
    with _cache_lock:
        _cache[url] = (now + CACHE_SECONDS, document)
    return document


def discovery(provider: IdentityProvider) -> dict[str, Any]:
    issuer = provider.settings["issuer"]
    meta = _get_json(provider, issuer.rstrip("/") + "/.well-known/openid-configuration")
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    # The document must speak for the issuer we were given (OpenID Connect
    # Discovery 1.0, section 4.3), or a look-alike could pass its tokens off.
    if not all(isinstance(meta.get(key), str) for key in needed) \
            or meta["issuer"].rstrip("/") != issuer.rstrip("/"):
        log.warning("OpenID provider %s: discovery document incomplete or for another issuer",
                    provider.code)
        raise _down(provider)
    return meta


def signing_keys(provider: IdentityProvider, meta: dict[str, Any], *,
                 fresh: bool = False) -> KeySet:
    document = _get_json(provider, meta["jwks_uri"], fresh=fresh)
    try:
        return KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        log.warning("OpenID provider %s: unusable JWKS: %s", provider.code, error)
        raise _down(provider) from error


def _client(provider: IdentityProvider, meta: dict[str, Any]) -> OAuth2Session:
    settings = provider.settings
    secret = settings.get("client_secret")
    client = OAuth2Session(
        client_id=settings["client_id"], client_secret=secret,
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        scope=settings.get("scopes") or DEFAULT_SCOPES, redirect_uri=callback_url(provider),
        code_challenge_method="S256", default_timeout=_timeout())
    return client


# --- the two legs -----------------------------------------------------------


def _flow_key(provider: IdentityProvider) -> str:
    return f"sso:{provider.code}:flow"


def _id_token_key(provider: IdentityProvider) -> str:
    return f"sso:{provider.code}:id_token"


def begin(provider: IdentityProvider, *, return_to: str | None = None) -> Response:
    """Send the browser to the provider's authorization endpoint. ``return_to``
    is the view's business (it keeps ``next`` itself)."""
    meta = discovery(provider)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    with _client(provider, meta) as client:
        url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    session[_flow_key(provider)] = {"state": state, "nonce": nonce, "verifier": verifier,
                                    "started": utc_now().timestamp()}
    return redirect(url)


def complete(provider: IdentityProvider) -> Identity:
    """Check the provider's answer and return who signed in."""
    # Taken out first: whatever happens next, this answer cannot be played again.
    flow = session.pop(_flow_key(provider), None)
    answer = request.args if request.method == "GET" else request.form
    error = answer.get("error")
    # An error names the sign-in it ends when it can (some providers send no
    # state with a refusal); one naming another sign-in is a forgery.
    if error and ("state" not in answer or _state_matches(flow, answer)):
        if error == "access_denied":
            raise SignInFailed(_("The sign-in was cancelled or refused at %(provider)s.",
                                 provider=provider.label), status=403)
        code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "?"
        raise SignInFailed(_("%(provider)s refused the sign-in (%(error)s).",
                             provider=provider.label, error=code), status=400)
    if not isinstance(flow, dict) or not _state_matches(flow, answer):
        raise SignInFailed(_("This answer does not belong to a sign-in started in this browser, "
                             "or it was already used. Start again from the login page."),
                           status=400)
    if utc_now().timestamp() - float(flow.get("started", 0)) > FLOW_SECONDS:
        raise SignInFailed(_("This sign-in took too long. Start again from the login page."),
                           status=400)
    code = answer.get("code")
    if not code:
        raise SignInFailed(_("The answer of %(provider)s holds no authorization code. Start "
                             "again from the login page.", provider=provider.label), status=400)
    meta = discovery(provider)
    with _client(provider, meta) as client:
        token = _exchange(provider, client, meta, code, str(flow.get("verifier")))
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRejected(_("%(provider)s sent no identity token.",
                                  provider=provider.label), "malformed")
        claims = validate_id_token(
            provider, id_token, meta=meta, nonce=str(flow.get("nonce")),
            access_token=token.get("access_token"))
        profile = _userinfo(provider, client, meta, claims["sub"])
    # The logout's id_token_hint: the provider ends the right session without asking.
    return Identity(subject=claims["sub"], attributes=attributes({**claims, **profile}),
                    keep={_id_token_key(provider): id_token})


def _state_matches(flow: Any, answer: Any) -> bool:
    state = answer.get("state")
    return isinstance(flow, dict) and isinstance(state, str) and hmac.compare_digest(
        state.encode(), str(flow.get("state")).encode())


def _exchange(provider: IdentityProvider, client: OAuth2Session, meta: dict[str, Any],
              code: str, verifier: str) -> dict[str, Any]:
    try:
        return dict(client.fetch_token(meta["token_endpoint"], grant_type="authorization_code",
                                       code=code, code_verifier=verifier,
                                       redirect_uri=callback_url(provider)))
    except OAuthError as error:
        # invalid_grant: a code already used, expired or stolen.
        log.warning("OpenID provider %s refused the code: %s", provider.code, error.error)
        raise SignInFailed(_("%(provider)s refused to confirm this sign-in (the code may "
                             "have been used already). Start again from the login page.",
                             provider=provider.label), status=400) from error
    except (requests.RequestException, ValueError) as error:
        log.warning("OpenID provider %s: token endpoint failed: %s", provider.code, error)
        raise _down(provider) from error


def _userinfo(provider: IdentityProvider, client: OAuth2Session, meta: dict[str, Any],
              subject: str) -> dict[str, Any]:
    url = meta.get("userinfo_endpoint")
    if not isinstance(url, str):
        return {}
    try:
        answer = client.get(url, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise _down(provider) from error
    if answer.status_code >= 500:
        raise _down(provider)
    try:
        profile = answer.json() if answer.status_code == 200 else None
    except ValueError:
        profile = None
    if not isinstance(profile, dict):
        # A signed userinfo or a refusal: the ID token's claims will do.
        log.warning("OpenID provider %s: userinfo unusable (%s)", provider.code,
                    answer.status_code)
        return {}
    if profile.get("sub") != subject:
        # OpenID Connect Core 5.3.2: another person's profile must not be used.
        raise TokenRejected(_("%(provider)s described another person than the one who signed "
                              "in.", provider=provider.label), "subject")
    return profile


def validate_id_token(provider: IdentityProvider, id_token: str, *, meta: dict[str, Any],
                      nonce: str, access_token: str | None = None,
                      keys: KeySet | None = None) -> dict[str, Any]:
    """The ID token's claims once every check passed, or :class:`TokenRejected`.

    Times are compared with the real clock, not the app's (frozen in tests):
    the provider stamps its tokens with its own real clock."""
    try:
        return _validated(provider, id_token, meta=meta, nonce=nonce,
                          access_token=access_token, keys=keys)
    except TokenRejected as refusal:
        # The page says it in the reader's words; the log says which check, for the IT staff.
        log.warning("OpenID provider %s: ID token refused (%s)", provider.code, refusal.reason)
        raise


def _validated(provider: IdentityProvider, id_token: str, *, meta: dict[str, Any],
               nonce: str, access_token: str | None, keys: KeySet | None) -> dict[str, Any]:
    label = provider.label
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in SAFE_ALGORITHMS if alg in offered] or ["RS256"]
    try:
        token = _decode(provider, id_token, meta, algorithms, keys)
    except BadSignatureError as error:
        raise TokenRejected(_("The identity token sent by %(provider)s has an invalid "
                              "signature.", provider=label), "signature") from error
    except (JoseError, ValueError, TypeError) as error:
        raise TokenRejected(_("The identity token sent by %(provider)s is unreadable or signed "
                              "in a way we do not accept.", provider=label),
                            "malformed") from error
    claims = token.claims
    leeway = int(current_app.config.get("SSO_CLOCK_SKEW", 120))
    registry = jwt.JWTClaimsRegistry(
        leeway=leeway,
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": provider.settings["client_id"]},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as error:
        raise TokenRejected(_("The identity token sent by %(provider)s has expired. If this "
                              "happens again, the clocks of %(provider)s and of this site "
                              "disagree.", provider=label), "expired") from error
    except ClaimError as error:
        raise _claim_refused(label, error) from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.settings["client_id"]:
        raise _claim_refused(label, ClaimError("aud"))
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT:
        raise _claim_refused(label, ClaimError("sub"))
    at_hash = claims.get("at_hash")
    if at_hash is not None and access_token is not None:
        expected = create_half_hash(access_token, token.header.get("alg", "RS256"))
        if expected is None or not hmac.compare_digest(str(at_hash).encode(), expected):
            raise _claim_refused(label, ClaimError("at_hash"))
    return claims


def _decode(provider: IdentityProvider, id_token: str, meta: dict[str, Any],
            algorithms: list[str], keys: KeySet | None) -> jwt.Token:
    try:
        return jwt.decode(id_token, keys or signing_keys(provider, meta), algorithms=algorithms)
    except InvalidKeyIdError:
        if keys is not None:
            raise
        # A key we have not seen: the provider may have rotated its keys.
        return jwt.decode(id_token, signing_keys(provider, meta, fresh=True),
                          algorithms=algorithms)


def _claim_refused(label: str, error: ClaimError) -> TokenRejected:
    claim = error.claim
    if isinstance(error, MissingClaimError):
        claim = "nonce" if "nonce" in claim.split(",") else "missing"
    if claim == "nonce":
        return TokenRejected(_("The identity token sent by %(provider)s belongs to another "
                               "sign-in. Start again from the login page.", provider=label),
                             "nonce")
    if claim in ("iat", "nbf"):
        return TokenRejected(_("The identity token sent by %(provider)s is dated in the future: "
                               "the clocks of %(provider)s and of this site disagree.",
                               provider=label), "future")
    if claim in ("iss", "aud"):
        return TokenRejected(_("The identity token sent by %(provider)s was not issued for "
                               "this site.", provider=label),
                             "issuer" if claim == "iss" else "audience")
    return TokenRejected(_("The identity token sent by %(provider)s is incomplete or invalid.",
                           provider=label), "subject" if claim == "sub" else "malformed")


def attributes(claims: dict[str, Any]) -> dict[str, list[str]]:
    """Every claim about the person as a list of strings (``groups`` stays a
    list, ``email_verified`` becomes ``["true"]``, an object its JSON)."""
    result: dict[str, list[str]] = {}
    for name, value in claims.items():
        if name in TOKEN_CLAIMS or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        result[name] = [_string(v) for v in values if v is not None]
    return result


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- logout -----------------------------------------------------------------


def logout(provider: IdentityProvider, *, return_to: str) -> str | None:
    """The provider's end-session endpoint (RP-initiated logout), which sends
    the browser back to ``return_to``; None when it has none or cannot be read
    (our own logout is done either way)."""
    try:
        meta = discovery(provider)
    except SignInFailed:
        return None
    endpoint = meta.get("end_session_endpoint")
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https"):
        return None
    params = {"client_id": provider.settings["client_id"], "post_logout_redirect_uri": return_to}
    hint = session.get(_id_token_key(provider))
    if isinstance(hint, str):
        params["id_token_hint"] = hint
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)
