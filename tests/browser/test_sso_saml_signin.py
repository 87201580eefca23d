"""Signing in through a university's SAML IdP, in Chromium, against a real IdP
(pysaml2's Server signing with xmlsec1 on loopback, tests/sso_servers/saml.py).

The provider is added to the live server (tests/browser/sso.py) for the
Faculté de pharmacie of Tours, from the IdP's metadata URL, its staff made
trainers; the IdP is given our SP metadata from its stable URL. A second
provider points at a metadata URL nobody answers (the IdP down). Tampered,
unsigned and replayed Responses and clock skew: tests/test_sso_saml.py
(Flask's test client against the same IdP).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import sso
from tests.sso_servers.saml import SamlIdP, closed_metadata_url, saml_idp  # noqa: F401 (fixture)

RULES = [{"attribute": "eduPersonAffiliation", "value": "staff", "role": "trainer"},
         {"attribute": "eduPersonAffiliation", "value": "faculty", "role": "coordinator"}]


def saml_provider(code: str, label: str, metadata_url: str) -> sso.Provider:
    return sso.Provider(code, label, "saml", "TRS-PHA", "Faculté de pharmacie",
                        {"idp_metadata_url": metadata_url}, RULES)


@pytest.fixture(scope="module")
def providers(live_setup: Any, live_server: Any,
              saml_idp: SamlIdP) -> Iterator[tuple[sso.Provider, sso.Provider]]:  # noqa: F811
    up = saml_provider("saml-signin-browser", "Fédération Université de Tours",
                       saml_idp.metadata_url)
    down = saml_provider("saml-down-browser", "IdP SAML en panne", closed_metadata_url())
    with sso.added(live_setup, up, down):
        # What the university's IT staff do with the URL we give them.
        with urllib.request.urlopen(f"{live_server.url}/auth/sso/{up.code}/metadata",  # noqa: S310
                                    timeout=30) as answer:
            saml_idp.trust_sp("live-server", answer.read().decode())
        yield up, down


def sign_in(page: Any, provider: sso.Provider, idp: SamlIdP, username: str) -> Any:
    """Our button, then the IdP's own login form as the person fills it; its
    page then posts the signed Response to our callback by itself."""
    sso.press_button(page, provider)
    expect(page).to_have_url(re.compile("^" + re.escape(idp.base + "/sso/redirect?SAMLRequest=")))
    page.locator("#username").fill(username)
    with sso.callback(page, provider) as answer:
        page.locator("#idp-login").click()
    return answer.value


def test_sign_in_logout_through_the_idp_and_the_next_sign_in_updates(
        providers: tuple[sso.Provider, sso.Provider], page: Any, live_server: Any,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    provider, _down = providers
    # Not the CAS file's people: both files sign in at the same faculty.
    saml_idp.set_user("asimon", name_id="saml-asimon-7c1d", mail=["anne.simon@univ-tours.test"],
                      displayName=["Anne Simon"], eduPersonAffiliation=["staff", "member"])
    user_id, answer = sso.first_sign_in(
        page, live_server, provider, "saml-asimon-7c1d",
        lambda: sign_in(page, provider, saml_idp, "asimon"),
        email="anne.simon@univ-tours.test", name="Anne Simon")
    assert answer.request.method == "POST"  # the HTTP-POST binding, from the IdP's page
    sso.signed_in_again_silently(page, provider)

    before = len(saml_idp.logouts())
    sso.log_out(page)
    # Through the IdP's SingleLogoutService, back to our login page.
    expect(page).to_have_url(re.compile(r"/auth/login(\?.*)?$"))
    logouts = saml_idp.logouts()[before:]
    assert logouts == [{"issuer": f"{live_server.url}/auth/sso/{provider.code}/metadata",
                        "name_id": "saml-asimon-7c1d",
                        "session_index": logouts[0]["session_index"], "signed": True}]
    assert logouts[0]["session_index"]  # the session the IdP opened for us
    sso.signed_out(page)

    # She married; the university changed her name and address. The IdP asks
    # who she is again (sign_in fills its form): its session ended too. The
    # same persistent NameID: the same account.
    saml_idp.set_user("asimon", name_id="saml-asimon-7c1d",
                      mail=["anne.simon-petit@univ-tours.test"], displayName=["Anne Simon-Petit"],
                      eduPersonAffiliation=["staff", "member"])
    sso.next_sign_in_updates(
        page, live_server, provider, "saml-asimon-7c1d",
        lambda: sign_in(page, provider, saml_idp, "asimon"), user_id=user_id,
        email="anne.simon-petit@univ-tours.test", name="Anne Simon-Petit")


def test_an_idp_whose_metadata_is_unreachable_is_a_clear_page_and_passwords_still_work(
        providers: tuple[sso.Provider, sso.Provider], page: Any) -> None:
    _up, down = providers
    with page.expect_response(lambda r: f"/auth/sso/{down.code}/login" in r.url) as answer:
        sso.press_button(page, down)
    assert answer.value.status == 502
    expect(page.locator("h1")).to_contain_text(f"La connexion par {down.label} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text(f"{down.label} n’a pas répondu")
    # A password still opens the platform meanwhile.
    sso.password_still_works(page)
