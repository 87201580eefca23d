"""Signing in with an LDAP directory's username and password, in Chromium,
against Debian's slapd on loopback (tests/sso_servers/ldap.py).

The provider is added to the live server (tests/browser/sso.py) for Polytech
Tours, in search mode (a read-only service account finds the person's entry,
then the person's own bind proves the password); its staff (``employeeType``,
Debian ships no eduPerson schema) are made trainers, the members of its
coordinators group (``memberOf``) coordinators. Unknown users, empty
passwords, injected usernames, the DN template mode, a directory down and
throttling: tests/test_sso_ldap.py. A bind has no answer to replay or tamper
with and no clock to skew.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import sso
from tests.sso_servers.ldap import (  # noqa: F401 (the fixture)
    COORDINATORS,
    PERSONS,
    Directory,
    slapd_directory,
)

WRONG = "Identifiant ou mot de passe incorrect"

RULES = [{"attribute": "employeeType", "value": "staff", "role": "trainer"},
         {"attribute": "memberOf", "value": COORDINATORS, "role": "coordinator"}]


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             slapd_directory: Directory) -> Iterator[sso.Provider]:  # noqa: F811
    yield from sso.installed(live_setup, sso.Provider(
        "ldap-signin-browser", "Annuaire de Polytech Tours", "ldap", "TRS-POL",
        "Polytech Tours", slapd_directory.search_settings(), RULES))


def open_form(page: Any, provider: sso.Provider) -> None:
    """From our login page to the directory's form: the password field empty."""
    sso.press_button(page, provider)
    expect(page.locator("h1")).to_have_text(provider.label)
    expect(page.get_by_label("Mot de passe")).to_have_value("")


def submit(page: Any, provider: sso.Provider, username: str, password: str) -> Any:
    """Fill the form as the person does; the answer of our server to the post."""
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and f"/auth/sso/{provider.code}/login" in r.url) as answer:
        page.get_by_role("button", name="Se connecter").click()
    return answer.value


def sign_in(page: Any, provider: sso.Provider, username: str, password: str) -> Any:
    open_form(page, provider)
    return submit(page, provider, username, password)


def test_a_wrong_password_then_sign_in_logout_and_the_next_sign_in_updates(
        provider: sso.Provider, page: Any, live_server: Any,
        slapd_directory: Directory) -> None:  # noqa: F811
    denis = PERSONS["dmoreau"]
    subject = slapd_directory.entry_uuid("dmoreau")
    # A wrong password: the form again, the username kept, the password not.
    assert sign_in(page, provider, "dmoreau", "not-his-password").status == 401
    expect(page.locator(".error-summary")).to_contain_text(WRONG)
    expect(page.get_by_label("Identifiant")).to_have_value("dmoreau")
    expect(page.get_by_label("Mot de passe")).to_have_value("")

    user_id, _ = sso.first_sign_in(
        page, live_server, provider, subject,
        lambda: submit(page, provider, "dmoreau", denis.password),
        email=denis.mail, name="Denis Moreau")

    sso.log_out(page)
    # A bind leaves no session at the directory: straight back to our login page.
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    sso.signed_out(page)

    # The university's directory changes his name and address; the next
    # sign-in asks for the password again (open_form).
    slapd_directory.replace("dmoreau", mail="denis.moreau-roy@univ.campus.test",
                            displayName="Denis Moreau-Roy")
    try:
        sso.next_sign_in_updates(
            page, live_server, provider, subject,
            lambda: sign_in(page, provider, "dmoreau", denis.password),
            user_id=user_id, email="denis.moreau-roy@univ.campus.test", name="Denis Moreau-Roy")
    finally:
        slapd_directory.replace("dmoreau", mail=denis.mail, displayName=denis.display_name)
