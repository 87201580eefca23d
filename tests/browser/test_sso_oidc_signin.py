"""Signing in through a company's or an institute's OpenID Connect provider,
in Chromium, against a real provider (oidc-provider-mock on loopback,
tests/sso_servers/oidc.py).

The provider is added to the live server (tests/browser/sso.py) for the
training institute of Chartres, its ``staff`` group made trainers and
``coordination`` coordinators. The provider's login page asks for the subject
to sign in as; the claims it vouches for are set beforehand through its API.
Tampered and replayed answers, clock skew, a provider down:
tests/test_sso_oidc.py (Flask's test client against the same provider).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser import sso
from tests.sso_servers import oidc as servers
from tests.sso_servers.oidc import OidcProvider

# The provider's fixtures, shared with tests/test_sso_oidc.py (one per session).
oidc_providers = servers.oidc_providers
oidc_provider = servers.oidc_provider

RULES = [{"attribute": "groups", "value": "staff", "role": "trainer"},
         {"attribute": "groups", "value": "coordination", "role": "coordinator"}]


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             oidc_provider: OidcProvider) -> Iterator[sso.Provider]:
    yield from sso.installed(live_setup, sso.Provider(
        "oidc-signin-browser", "Entra ID de l’institut", "oidc", "CHA-OF",
        "Institut de formation industrielle", oidc_provider.settings(), RULES))


def sign_in(page: Any, provider: sso.Provider, oidc: OidcProvider, subject: str) -> Any:
    """The whole round trip, the provider's form filled as a person would;
    the answer of our callback."""
    sso.press_button(page, provider)
    expect(page).to_have_url(re.compile("^" + re.escape(oidc.issuer + "/oauth2/authorize?")))
    page.locator("input[name=sub]").fill(subject)
    with sso.callback(page, provider) as answer:
        page.get_by_role("button", name="Authorize", exact=True).click()
    return answer.value


def test_sign_in_logout_through_the_provider_and_the_next_sign_in_updates(
        provider: sso.Provider, new_context: Callable[..., Any], live_server: Any,
        oidc_provider: OidcProvider) -> None:
    oidc_provider.set_user("a1b2-nadia", email="nadia.benali@if-chartres.test",
                           name="Nadia Benali", groups=["staff", "chimie"])
    page = new_context().new_page()
    user_id, _ = sso.first_sign_in(
        page, live_server, provider, "a1b2-nadia",
        lambda: sign_in(page, provider, oidc_provider, "a1b2-nadia"),
        email="nadia.benali@if-chartres.test", name="Nadia Benali")

    sso.log_out(page)
    # The provider's end-session page, told who is leaving (the ID token of
    # this sign-in) and where to send her back.
    expect(page).to_have_url(re.compile(
        "^" + re.escape(oidc_provider.issuer + "/oauth2/end_session?")))
    query = parse_qs(urlsplit(page.url).query)
    assert query["post_logout_redirect_uri"] == [live_server.url + "/auth/login"]
    assert query["id_token_hint"][0].count(".") == 2
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    sso.signed_out(page)

    # The institute changed her name and address. Another day, another browser.
    oidc_provider.set_user("a1b2-nadia", email="nadia.benali-roux@if-chartres.test",
                           name="Nadia Benali-Roux", groups=["staff", "chimie"])
    later = new_context().new_page()
    sso.next_sign_in_updates(
        later, live_server, provider, "a1b2-nadia",
        lambda: sign_in(later, provider, oidc_provider, "a1b2-nadia"), user_id=user_id,
        email="nadia.benali-roux@if-chartres.test", name="Nadia Benali-Roux")
