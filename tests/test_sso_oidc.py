"""OpenID Connect sign-in against a real provider (oidc-provider-mock, in a
subprocess), through Flask's test client: what a browser cannot easily do.

The flow is the browser's: our login URL sends to the provider, its login
form is posted (with ``requests``, not followed), and the callback URL it
redirects to is opened by the test client. Tampered tokens are real tokens
of the provider, altered, and given to the validation itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwk, jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.auth.sso import oidc
from booking.auth.sso.identity import ProviderDown
from booking.services.accounts.providers import create_provider
from booking.services.errors import ValidationError
from models import IdentityLink, IdentityProvider, User
from tests.sso_servers import oidc as servers
from tests.sso_servers.oidc import (
    CLIENT_ID,
    OidcProvider,
    OidcProviders,
    closed_port_url,
    maintenance_url,
)

# The provider's fixtures (session-wide, shared with the browser tests).
oidc_providers = servers.oidc_providers
oidc_provider = servers.oidc_provider

STAFF = [{"attribute": "groups", "value": "staff", "role": "trainer"}]
CREATED = datetime(2026, 12, 1, tzinfo=UTC)
_subjects = iter(range(1_000_000))


def _subject(prefix: str = "user") -> str:
    """A subject unknown to the session's provider and to the database."""
    return f"{prefix}-{next(_subjects)}"


@pytest.fixture
def configure(make: Any, db: Session) -> Callable[..., IdentityProvider]:
    establishment = make.establishment()

    def configure_(provider: OidcProvider | str, code: str = "oidc-tests",
                   **settings: Any) -> IdentityProvider:
        issuer = provider if isinstance(provider, str) else provider.issuer
        base = {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": "s3cret"}
        return create_provider(db, actor=None, establishment=establishment, kind="oidc",
                               code=code, label="Keycloak du lycée",
                               settings={**base, **settings}, role_rules=STAFF, now=CREATED)

    return configure_


def _to_provider(client: FlaskClient, code: str) -> str:
    answer = client.get(f"/auth/sso/{code}/login")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return answer.headers["Location"]


def _sign_in_at_provider(authorize_url: str, sub: str, *, deny: bool = False) -> str:
    """Post the provider's login form; the callback URL it sends the browser to."""
    data = {"action": "deny"} if deny else {"sub": sub}
    answer = requests.post(authorize_url, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def _local(url: str) -> str:
    """The callback URL as the test client opens it (path and query)."""
    parts = urlsplit(url)
    assert parts.path.endswith("/callback"), url
    return f"{parts.path}?{parts.query}"


def _flow(client: FlaskClient, code: str, sub: str) -> str:
    return _local(_sign_in_at_provider(_to_provider(client, code), sub))


def _text(answer: Any) -> str:
    return answer.get_data(as_text=True)


# --- the whole flow -----------------------------------------------------------


def test_the_authorization_request_carries_state_nonce_and_pkce(
        client: FlaskClient, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    configure(oidc_provider)
    location = _to_provider(client, "oidc-tests")
    assert location.startswith(oidc_provider.issuer + "/oauth2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/auth/sso/oidc-tests/callback"]
    with client.session_transaction() as session:
        flow = session["sso:oidc-tests:flow"]
    assert query["state"] == [flow["state"]]
    assert query["nonce"] == [flow["nonce"]]
    assert query["code_challenge"][0] != flow["verifier"]  # S256, never the verifier itself


def test_a_sign_in_creates_the_account_with_the_claims(
        client: FlaskClient, db: Session, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    provider = configure(oidc_provider)
    sub = _subject("camille")
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", name="Camille Martin",
                           groups=["staff", "maths"])
    answer = client.get(_flow(client, "oidc-tests", sub))
    assert answer.status_code == 302, _text(answer)[:500]
    user = db.scalar(select(User).join(IdentityLink).where(
        IdentityLink.provider_id == provider.id, IdentityLink.subject == sub))
    assert user is not None
    assert (user.email, user.name, user.role.value) == (f"{sub}@lycee.test", "Camille Martin",
                                                        "trainer")
    with client.session_transaction() as session:
        assert session["sso:oidc-tests:id_token"].count(".") == 2  # kept for the logout
        assert "sso:oidc-tests:flow" not in session


def test_a_refusal_at_the_provider_is_a_clear_page(
        client: FlaskClient, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    configure(oidc_provider)
    callback = _sign_in_at_provider(_to_provider(client, "oidc-tests"), "", deny=True)
    assert "error=access_denied" in callback
    answer = client.get(_local(callback))
    assert answer.status_code == 403
    assert "Keycloak du lycée" in _text(answer)


def test_an_error_naming_another_sign_in_is_refused_as_a_forgery(
        client: FlaskClient, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    configure(oidc_provider)
    _to_provider(client, "oidc-tests")
    answer = client.get("/auth/sso/oidc-tests/callback",
                        query_string={"error": "access_denied", "state": "forged"})
    assert answer.status_code == 400


# --- state, replay ------------------------------------------------------------


@pytest.mark.parametrize("state", ["forged", "", "é" * 10])
def test_a_callback_with_another_state_is_refused(
        client: FlaskClient, db: Session, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider, state: str) -> None:
    configure(oidc_provider)
    sub = _subject()
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    callback = _flow(client, "oidc-tests", sub)
    path, query = callback.split("?", 1)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    answer = client.get(path, query_string={**params, "state": state})
    assert answer.status_code == 400
    assert db.scalar(select(IdentityLink).where(IdentityLink.subject == sub)) is None
    # The genuine answer is no good either now: the flow was used up.
    assert client.get(callback).status_code == 400


def test_a_callback_without_a_sign_in_started_here_is_refused(
        client: FlaskClient, app: Flask, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    configure(oidc_provider)
    sub = _subject()
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    callback = _flow(client, "oidc-tests", sub)
    stranger = app.test_client()  # another browser: the answer was stolen
    assert stranger.get(callback).status_code == 400
    assert client.get("/auth/sso/oidc-tests/callback").status_code == 400


def test_the_same_answer_twice_is_refused(
        client: FlaskClient, db: Session, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    configure(oidc_provider)
    sub = _subject()
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    callback = _flow(client, "oidc-tests", sub)
    assert client.get(callback).status_code == 302
    replayed = client.get(callback)
    assert replayed.status_code == 400


def test_a_replay_with_the_flow_copied_too_is_refused_by_the_provider(
        client: FlaskClient, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider) -> None:
    """Even with the browser's flow put back (state, nonce, verifier), the
    code was used once: the provider refuses it and so do we."""
    configure(oidc_provider)
    sub = _subject()
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    callback = _flow(client, "oidc-tests", sub)
    with client.session_transaction() as session:
        flow = dict(session["sso:oidc-tests:flow"])
    assert client.get(callback).status_code == 302
    with client.session_transaction() as session:
        session["sso:oidc-tests:flow"] = flow
    replayed = client.get(callback)
    assert replayed.status_code == 400
    assert "Keycloak du lycée" in _text(replayed)


# --- clock skew -----------------------------------------------------------------


def _signs_in(client: FlaskClient, provider: OidcProvider, code: str) -> Any:
    sub = _subject("skew")
    provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    return client.get(_flow(client, code, sub))


AHEAD, FAR_AHEAD, FAR_BEHIND = 60, 300, -3600 - 300  # the provider's tokens live one hour


@pytest.fixture(scope="module")
def skewed(oidc_providers: OidcProviders) -> OidcProviders:
    oidc_providers.start(AHEAD, FAR_AHEAD, FAR_BEHIND)
    return oidc_providers


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == oidc.__name__ and "ID token refused" in record.getMessage()]


def test_a_provider_clock_ahead_within_the_leeway_is_accepted(
        client: FlaskClient, configure: Callable[..., IdentityProvider],
        skewed: OidcProviders, caplog: pytest.LogCaptureFixture) -> None:
    """SSO_CLOCK_SKEW is 120 s: a provider 60 s ahead signs in."""
    provider = skewed.at(AHEAD)
    configure(provider, code="oidc-skew")
    answer = _signs_in(client, provider, "oidc-skew")
    assert answer.status_code == 302, _text(answer)[:500]
    assert _refusals(caplog) == []


@pytest.mark.parametrize(("skew", "reason"), [(FAR_AHEAD, "future"), (FAR_BEHIND, "expired")])
def test_a_provider_clock_beyond_the_leeway_is_refused(
        client: FlaskClient, db: Session, configure: Callable[..., IdentityProvider],
        skewed: OidcProviders, caplog: pytest.LogCaptureFixture, skew: int,
        reason: str) -> None:
    """300 s ahead, its token is dated in the future; an hour and 300 s
    behind, its token has expired before it was sent."""
    provider = skewed.at(skew)
    row = configure(provider, code="oidc-skew")
    answer = _signs_in(client, provider, "oidc-skew")
    assert answer.status_code == 403, _text(answer)[:500]
    assert "Keycloak du lycée" in _text(answer)
    assert _refusals(caplog) == [f"OpenID provider oidc-skew: ID token refused ({reason})"]
    assert db.scalar(select(IdentityLink).where(IdentityLink.provider_id == row.id)) is None


def test_the_leeway_is_the_configured_one(
        client: FlaskClient, app: Flask, configure: Callable[..., IdentityProvider],
        skewed: OidcProviders, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = skewed.at(FAR_AHEAD)
    configure(provider, code="oidc-lenient")
    monkeypatch.setitem(app.config, "SSO_CLOCK_SKEW", 600)
    assert _signs_in(client, provider, "oidc-lenient").status_code == 302


# --- a provider down ---------------------------------------------------------------


def test_a_provider_that_does_not_answer_is_a_502_page(
        client: FlaskClient, configure: Callable[..., IdentityProvider]) -> None:
    configure(closed_port_url(), code="oidc-down")
    answer = client.get("/auth/sso/oidc-down/login")
    assert answer.status_code == 502
    assert "Keycloak du lycée" in _text(answer)


def test_a_provider_behind_a_gateway_answering_503_is_a_502_page(
        client: FlaskClient, configure: Callable[..., IdentityProvider]) -> None:
    with maintenance_url() as url:
        configure(url, code="oidc-maintenance")
        answer = client.get("/auth/sso/oidc-maintenance/login")
    assert answer.status_code == 502
    assert "Keycloak du lycée" in _text(answer)


@pytest.mark.parametrize("gone", ["refused", "503"])
def test_a_provider_gone_between_the_two_legs_is_a_502_page(
        client: FlaskClient, app: Flask, configure: Callable[..., IdentityProvider],
        oidc_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch, gone: str) -> None:
    configure(oidc_provider)
    sub = _subject()
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    callback = _flow(client, "oidc-tests", sub)
    # Its documents are cached: the token endpoint is what stops answering.
    real = oidc.discovery
    with maintenance_url() as maintenance:
        dead = closed_port_url() if gone == "refused" else maintenance

        def moved(provider: IdentityProvider) -> dict[str, Any]:
            return {**real(provider), "token_endpoint": dead + "/oauth2/token"}

        monkeypatch.setattr(oidc, "discovery", moved)
        answer = client.get(callback)
    assert answer.status_code == 502, _text(answer)[:300]


# --- the ID token itself ------------------------------------------------------------


@pytest.fixture
def genuine(oidc_provider: OidcProvider, app: Flask) -> dict[str, Any]:
    """A real ID token of the provider, for nonce "n-1" and our client id,
    obtained as our callback would (code, then token endpoint)."""
    sub = _subject("token")
    oidc_provider.set_user(sub, email=f"{sub}@lycee.test", groups=["staff"])
    return {"sub": sub, **_token(oidc_provider, sub, CLIENT_ID, nonce="n-1")}


def _token(provider: OidcProvider, sub: str, client_id: str, nonce: str) -> dict[str, Any]:
    meta = requests.get(provider.issuer + "/.well-known/openid-configuration", timeout=10).json()
    redirect_uri = "http://127.0.0.1:5000/auth/sso/oidc-tokens/callback"
    login = requests.post(meta["authorization_endpoint"], params={
        "client_id": client_id, "response_type": "code", "scope": "openid email profile",
        "redirect_uri": redirect_uri, "state": "s", "nonce": nonce}, data={"sub": sub},
        allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(login.headers["Location"]).query)["code"][0]
    token = requests.post(meta["token_endpoint"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": client_id, "client_secret": "x"}, timeout=10).json()
    return {"meta": meta, "id_token": token["id_token"], "access_token": token["access_token"]}


def _provider_row(oidc_provider: OidcProvider) -> IdentityProvider:
    return IdentityProvider(code="oidc-tokens", kind="oidc", label="Keycloak du lycée",
                            settings={"issuer": oidc_provider.issuer, "client_id": CLIENT_ID})


def _validate(app: Flask, oidc_provider: OidcProvider, genuine: dict[str, Any], *,
              id_token: str | None = None, nonce: str = "n-1", **changes: Any) -> dict[str, Any]:
    with app.test_request_context("/"):
        return oidc.validate_id_token(
            _provider_row(oidc_provider), id_token or genuine["id_token"],
            meta={**genuine["meta"], **changes}, nonce=nonce,
            access_token=genuine["access_token"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _header_of(token: str) -> dict[str, Any]:
    return _part(token, 0)


def _claims_of(token: str) -> dict[str, Any]:
    return _part(token, 1)


def _rejected(reason: str, call: Callable[[], Any]) -> None:
    with pytest.raises(oidc.TokenRejected) as caught:
        call()
    assert caught.value.reason == reason
    assert caught.value.status == 403


def test_the_genuine_token_passes(app: Flask, oidc_provider: OidcProvider,
                                  genuine: dict[str, Any]) -> None:
    claims = _validate(app, oidc_provider, genuine)
    assert claims["sub"] == genuine["sub"]
    assert claims["groups"] == ["staff"]


def test_a_token_with_altered_claims_is_refused(app: Flask, oidc_provider: OidcProvider,
                                                genuine: dict[str, Any]) -> None:
    header, _payload, signature = genuine["id_token"].split(".")
    claims = {**_claims_of(genuine["id_token"]), "sub": "someone-else", "groups": ["staff"]}
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    _rejected("signature", lambda: _validate(app, oidc_provider, genuine, id_token=forged))


def test_a_token_with_an_altered_signature_is_refused(app: Flask, oidc_provider: OidcProvider,
                                                      genuine: dict[str, Any]) -> None:
    header, payload, signature = genuine["id_token"].split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    forged = f"{header}.{payload}.{_b64(bytes(raw))}"
    _rejected("signature", lambda: _validate(app, oidc_provider, genuine, id_token=forged))


def test_a_token_signed_by_another_key_is_refused(app: Flask, oidc_provider: OidcProvider,
                                                  genuine: dict[str, Any]) -> None:
    # The same key id, if the provider names one: only the signature tells them apart.
    header = {"alg": "RS256", **{k: v for k, v in _header_of(genuine["id_token"]).items()
                                 if k == "kid"}}
    ours = jwk.RSAKey.generate_key(2048, {"kid": header["kid"]} if "kid" in header else None)
    forged = jwt.encode(header, _claims_of(genuine["id_token"]), ours)
    _rejected("signature", lambda: _validate(app, oidc_provider, genuine, id_token=forged))


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_a_token_unsigned_or_signed_with_a_shared_secret_is_refused(
        app: Flask, oidc_provider: OidcProvider, genuine: dict[str, Any], alg: str) -> None:
    claims = _claims_of(genuine["id_token"])
    if alg == "none":
        header = _b64(json.dumps({"alg": "none"}).encode())
        forged = f"{header}.{_b64(json.dumps(claims).encode())}."
    else:
        forged = jwt.encode({"alg": "HS256"}, claims, jwk.OctKey.import_key("s3cret" * 6))
    _rejected("malformed", lambda: _validate(app, oidc_provider, genuine, id_token=forged))


def test_a_token_for_another_sign_in_is_refused(app: Flask, oidc_provider: OidcProvider,
                                                genuine: dict[str, Any]) -> None:
    _rejected("nonce", lambda: _validate(app, oidc_provider, genuine, nonce="n-2"))


def test_a_token_for_another_client_is_refused(app: Flask, oidc_provider: OidcProvider,
                                               genuine: dict[str, Any]) -> None:
    other = _token(oidc_provider, genuine["sub"], "another-site", nonce="n-1")
    _rejected("audience", lambda: _validate(app, oidc_provider, genuine,
                                            id_token=other["id_token"]))


def test_a_token_from_another_issuer_is_refused(app: Flask, oidc_provider: OidcProvider,
                                                genuine: dict[str, Any]) -> None:
    _rejected("issuer", lambda: _validate(app, oidc_provider, genuine,
                                          issuer="https://login.example.org"))


def test_an_access_token_that_does_not_match_is_refused(
        app: Flask, oidc_provider: OidcProvider, genuine: dict[str, Any]) -> None:
    assert "at_hash" in _claims_of(genuine["id_token"])
    _rejected("malformed", lambda: _validate(app, oidc_provider,
                                             {**genuine, "access_token": "swapped"}))


# --- settings and attributes ------------------------------------------------------------


def test_the_settings_are_checked_and_normalised() -> None:
    checked = oidc.check_settings({"issuer": "https://login.example.org/realms/staff",
                                   "client_id": " plateforme ", "scopes": "email groups",
                                   "client_secret": ""})
    assert checked == {"issuer": "https://login.example.org/realms/staff",
                       "client_id": "plateforme", "scopes": "openid email groups"}


@pytest.mark.parametrize(("settings", "field"), [
    ({"client_id": "x"}, "settings.issuer"),
    ({"issuer": "http://login.example.org", "client_id": "x"}, "settings.issuer"),
    ({"issuer": "https://login.example.org?realm=1", "client_id": "x"}, "settings.issuer"),
    ({"issuer": "https://login.example.org"}, "settings.client_id"),
    ({"issuer": "https://login.example.org", "client_id": "x", "scopes": ["a b"]},
     "settings.scopes"),
    ({"issuer": "https://login.example.org", "client_id": "x", "secret": "typo"},
     "settings.secret"),
])
def test_wrong_settings_name_their_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        oidc.check_settings(settings)
    assert caught.value.details == {"field": field}


def test_claims_become_lists_of_strings() -> None:
    assert oidc.attributes({"sub": "a", "email_verified": True, "groups": ["x", "y"],
                            "address": {"locality": "Orléans"}, "nonce": "n", "exp": 1,
                            "picture": None}) == {
        "sub": ["a"], "email_verified": ["true"], "groups": ["x", "y"],
        "address": ['{"locality": "Orléans"}']}


def test_the_logout_goes_to_the_end_session_endpoint(
        app: Flask, oidc_provider: OidcProvider) -> None:
    with app.test_request_context("/"):
        url = oidc.logout(_provider_row(oidc_provider), return_to="http://127.0.0.1:5000/auth/login")
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == \
        oidc_provider.issuer + "/oauth2/end_session"
    assert parse_qs(parts.query) == {"client_id": [CLIENT_ID],
                                     "post_logout_redirect_uri": ["http://127.0.0.1:5000/auth/login"]}


def test_no_logout_address_when_the_provider_is_down(app: Flask) -> None:
    row = IdentityProvider(code="oidc-gone", kind="oidc", label="X",
                           settings={"issuer": closed_port_url(), "client_id": "x"})
    with app.test_request_context("/"):
        assert oidc.logout(row, return_to="http://127.0.0.1:5000/auth/login") is None
        with pytest.raises(ProviderDown):
            oidc.discovery(row)
