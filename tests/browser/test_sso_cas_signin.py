"""Signing in through a university's CAS, in Chromium, against a real CAS 3.0
server (django-cas-server on loopback, tests/sso_servers/cas.py).

The provider is added to the live server (tests/browser/sso.py) for the
Faculté de pharmacie of Tours, its staff made trainers. Tickets replayed,
issued for another site, forged or too old, a server down:
tests/test_sso_cas.py (Flask's test client against the same server).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browser import sso
from tests.sso_servers.cas import CasServer, cas_server  # noqa: F401 (the fixture)

PASSWORD = "cas-password"
RULES = [{"attribute": "eduPersonAffiliation", "value": "staff", "role": "trainer"},
         {"attribute": "eduPersonAffiliation", "value": "faculty", "role": "coordinator"}]


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             cas_server: CasServer) -> Iterator[sso.Provider]:  # noqa: F811
    yield from sso.installed(live_setup, sso.Provider(
        "cas-signin-browser", "CAS Université de Tours", "cas", "TRS-PHA",
        "Faculté de pharmacie", cas_server.settings(), RULES))


def sign_in(page: Any, provider: sso.Provider, cas: CasServer, username: str) -> Any:
    """Our button, then the CAS server's own login form as the person fills
    it; the answer of our callback."""
    sso.press_button(page, provider)
    expect(page).to_have_url(re.compile("^" + re.escape(cas.url + "login?service=")))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with sso.callback(page, provider) as answer:
        page.locator("#login_form [type=submit]").click()
    return answer.value


def test_sign_in_logout_through_the_cas_and_the_next_sign_in_updates(
        provider: sso.Provider, page: Any, live_server: Any,
        cas_server: CasServer) -> None:  # noqa: F811
    # Not the SAML file's people: both files sign in at the same faculty.
    cas_server.set_user("lmartin", PASSWORD, uid="lmartin", mail="louise.martin@univ-tours.test",
                        displayName="Louise Martin", eduPersonAffiliation=["staff", "member"])
    user_id, _ = sso.first_sign_in(
        page, live_server, provider, "lmartin",
        lambda: sign_in(page, provider, cas_server, "lmartin"),
        email="louise.martin@univ-tours.test", name="Louise Martin")
    sso.signed_in_again_silently(page, provider)

    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    sso.log_out(page)
    # Through the CAS's logout, back to our login page.
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    assert cas_server.url + "logout?" + urlencode(
        {"service": live_server.url + "/auth/login"}) in visited
    sso.signed_out(page)

    # She married; the university changed her name and address. The CAS asks
    # for her password again (sign_in fills its form): its session ended too.
    cas_server.set_user("lmartin", PASSWORD, uid="lmartin",
                        mail="louise.martin-petit@univ-tours.test",
                        displayName="Louise Martin-Petit", eduPersonAffiliation=["staff", "member"])
    sso.next_sign_in_updates(
        page, live_server, provider, "lmartin",
        lambda: sign_in(page, provider, cas_server, "lmartin"), user_id=user_id,
        email="louise.martin-petit@univ-tours.test", name="Louise Martin-Petit")
