"""Signing in through a university's SAML IdP, in Chromium, against a real IdP
(pysaml2's Server signing with xmlsec1 on loopback, tests/sso_servers/saml.py).

The provider is added to the live server with ``flask providers add`` (as an
administrator would) for the Faculté de pharmacie of Tours, from the IdP's
metadata URL, its staff made trainers; the IdP is given our SP metadata from
its stable URL. A second provider points at a metadata URL nobody answers
(the IdP down). Both are removed when the module ends; local passwords stay on.
Tampered, unsigned and replayed Responses and clock skew:
tests/test_sso_saml.py (Flask's test client against the same IdP).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, DEMO_PASSWORD
from tests.sso_servers.saml import SamlIdP, closed_port_url, saml_idp  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
CODE = "saml-signin-browser"  # unique to this file: the live server is shared
DOWN_CODE = "saml-down-browser"
LABEL = "Fédération Université de Tours"
DOWN_LABEL = "IdP SAML en panne"
ESTABLISHMENT = "TRS-PHA"
ADMIN = "admin@plateforme.test"
RULES = [{"attribute": "eduPersonAffiliation", "value": "staff", "role": "trainer"},
         {"attribute": "eduPersonAffiliation", "value": "faculty", "role": "coordinator"}]


def button_name(label: str) -> re.Pattern[str]:
    return re.compile(rf"^(Se connecter avec|Log in with) {re.escape(label)}$")


def _flask(live_setup: Any, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=live_setup.env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             saml_idp: SamlIdP) -> Iterator[str]:  # noqa: F811
    added: list[str] = []
    try:
        for code, label, url in ((CODE, LABEL, saml_idp.metadata_url),
                                 (DOWN_CODE, DOWN_LABEL, closed_port_url())):
            _flask(live_setup, "providers", "add", "--establishment", ESTABLISHMENT,
                   "--kind", "saml", "--code", code, "--label", label,
                   "--settings", json.dumps({"idp_metadata_url": url}),
                   "--rules", json.dumps(RULES))
            added.append(code)
        # What the university's IT staff do with the URL we give them.
        with urllib.request.urlopen(f"{live_server.url}/auth/sso/{CODE}/metadata",  # noqa: S310
                                    timeout=30) as answer:
            saml_idp.trust_sp("live-server", answer.read().decode())
        yield CODE
    finally:
        for code in added:
            _flask(live_setup, "providers", "remove", code)


def account(live_server: Any, name_id: str) -> tuple[Any, ...] | None:
    """(id, e-mail, name, role, establishment code, active) of the account
    linked to ``name_id`` at the IdP, or None."""
    rows = live_server.query(
        "SELECT u.id, u.email, u.name, u.role, e.code, u.active FROM identity_link l "
        "JOIN identity_provider p ON p.id = l.provider_id "
        "JOIN user_account u ON u.id = l.user_id "
        "LEFT JOIN establishment e ON e.id = u.establishment_id "
        "WHERE p.code = ? AND l.subject = ?", CODE, name_id)
    return tuple(rows[0]) if rows else None


def press_button(page: Any, label: str = LABEL) -> None:
    """From our login page to the IdP's (through « Choisir mon établissement »
    when other files' providers make too many buttons)."""
    page.goto("/auth/login")
    button = page.get_by_role("link", name=button_name(label))
    if not button.count():
        page.get_by_role("link", name=re.compile("Choisir mon établissement|Choose my "
                                                 "establishment")).click()
        page.get_by_role("link", name=re.compile("Faculté de pharmacie")).click()
        button = page.get_by_role("link", name=button_name(label))
    button.click()


def sign_in_at_idp(page: Any, idp: SamlIdP, username: str) -> None:
    """The IdP's own login form, as the person fills it; its page then posts
    the signed Response to our callback by itself."""
    expect(page).to_have_url(re.compile("^" + re.escape(idp.base + "/sso/redirect?SAMLRequest=")))
    page.locator("#username").fill(username)
    page.locator("#idp-login").click()


def sign_in(page: Any, idp: SamlIdP, username: str) -> Any:
    """The whole round trip; the answer of our callback."""
    press_button(page)
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as answer:
        sign_in_at_idp(page, idp, username)
    return answer.value


def log_out(page: Any) -> None:
    # The button sits in the phone's folded menu: submitted without opening it.
    page.locator("form[action$='/auth/logout'] button").first.evaluate("b => b.click()")


def test_first_sign_in_creates_the_account_and_the_next_one_updates_it(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    saml_idp.set_user("lmoreau", name_id="saml-lmoreau-7c1d", mail=["lea.moreau@univ-tours.test"],
                      displayName=["Léa Moreau"], eduPersonAffiliation=["staff", "member"])
    assert account(live_server, "saml-lmoreau-7c1d") is None

    page = new_context().new_page()
    answer = sign_in(page, saml_idp, "lmoreau")
    assert answer.request.method == "POST"  # the HTTP-POST binding, from the IdP's page
    assert answer.status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_contain_text("Bienvenue, Léa Moreau.")
    user_id, email, name, role, establishment, active = account(live_server, "saml-lmoreau-7c1d")
    assert (email, name, role, establishment, active) == (
        "lea.moreau@univ-tours.test", "Léa Moreau", "trainer", ESTABLISHMENT, 1)

    # She married; the university changed her name and address. Another day,
    # another browser: the same account (the same persistent NameID), up to date.
    saml_idp.set_user("lmoreau", name_id="saml-lmoreau-7c1d",
                      mail=["lea.moreau-petit@univ-tours.test"], displayName=["Léa Moreau-Petit"],
                      eduPersonAffiliation=["staff", "member"])
    later = new_context().new_page()
    assert sign_in(later, saml_idp, "lmoreau").status == 302
    expect(later).to_have_url(re.compile(r"/dashboard$"))
    expect(later.locator("body")).to_contain_text("Bienvenue, Léa Moreau-Petit.")
    assert account(live_server, "saml-lmoreau-7c1d") == (
        user_id, "lea.moreau-petit@univ-tours.test", "Léa Moreau-Petit", "trainer",
        ESTABLISHMENT, 1)


def test_no_role_from_the_attributes_is_a_clear_refusal(
        provider: str, page: Any, live_server: Any, saml_idp: SamlIdP) -> None:  # noqa: F811
    saml_idp.set_user("etudiant", name_id="saml-etudiant-41", mail=["etudiant@univ-tours.test"],
                      displayName=["Un Étudiant"], eduPersonAffiliation=["student", "member"])

    answer = sign_in(page, saml_idp, "etudiant")
    assert answer.status == 403
    expect(page.locator("h1")).to_contain_text(f"La connexion par {LABEL} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text("rôle")
    assert account(live_server, "saml-etudiant-41") is None
    assert not live_server.query("SELECT id FROM user_account WHERE email = ?",
                                 "etudiant@univ-tours.test")


def test_a_deactivated_account_stays_out(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    saml_idp.set_user("pgirard", name_id="saml-pgirard-93", mail=["paul.girard@univ-tours.test"],
                      displayName=["Paul Girard"], eduPersonAffiliation=["faculty"])
    page = new_context().new_page()
    assert sign_in(page, saml_idp, "pgirard").status == 302
    user_id, *_rest, role, _establishment, _active = account(live_server, "saml-pgirard-93")
    assert role == "coordinator"  # the highest role any rule gives

    admin = new_context().new_page()
    admin.goto("/auth/login")
    admin.locator("#email").fill(ADMIN)
    admin.locator("#password").fill(DEMO_PASSWORD)
    admin.locator("form.form [type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/dashboard$"))
    admin.goto(f"/admin/accounts/{user_id}/deactivate")
    admin.locator("#confirm-form [type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/admin/accounts"))
    assert account(live_server, "saml-pgirard-93")[-1] == 0

    # His open session ended with the deactivation, whatever the IdP says...
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    # ...and the IdP, whose session still knows him (no form this time), sends
    # a good Response that cannot sign him in again.
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as answer:
        press_button(page)
    assert answer.value.status == 403
    expect(page.locator(".sso-error-message")).to_contain_text("désactivé")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def test_an_idp_whose_metadata_is_unreachable_is_a_clear_page_and_passwords_still_work(
        provider: str, page: Any, live_server: Any) -> None:
    page.goto("/auth/login")
    with page.expect_response(lambda r: f"/auth/sso/{DOWN_CODE}/login" in r.url) as answer:
        press_button(page, DOWN_LABEL)
    assert answer.value.status == 502
    expect(page.locator("h1")).to_contain_text(f"La connexion par {DOWN_LABEL} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text(f"{DOWN_LABEL} n’a pas répondu")

    # A password still opens the platform meanwhile.
    page.get_by_role("link", name=re.compile("adresse e-mail et un mot de passe|e-mail and a "
                                             "password")).click()
    page.locator("#email").fill(COORD_CHARTRES)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form.form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_logout_ends_the_idp_session_too(
        provider: str, page: Any, live_server: Any, saml_idp: SamlIdP) -> None:  # noqa: F811
    saml_idp.set_user("mrobert", name_id="saml-mrobert-58", mail=["marie.robert@univ-tours.test"],
                      displayName=["Marie Robert"], eduPersonAffiliation=["staff"])
    assert sign_in(page, saml_idp, "mrobert").status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    # While the IdP session lives, signing in again asks for nothing.
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as again:
        page.goto(f"/auth/sso/{CODE}/login")
    assert again.value.status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    before = len(saml_idp.logouts())
    log_out(page)
    # Through the IdP's SingleLogoutService, back to our login page.
    expect(page).to_have_url(re.compile(r"/auth/login(\?.*)?$"))
    logouts = saml_idp.logouts()[before:]
    assert logouts == [{"issuer": f"{live_server.url}/auth/sso/{CODE}/metadata",
                        "name_id": "saml-mrobert-58", "session_index": logouts[0]["session_index"],
                        "signed": True}]
    assert logouts[0]["session_index"]  # the session the IdP opened for us
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    # The IdP asks who she is again: its session ended too.
    press_button(page)
    expect(page.locator("#username")).to_be_visible()
