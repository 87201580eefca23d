"""Signing in through a company's or an institute's OpenID Connect provider,
in Chromium, against a real provider (oidc-provider-mock on loopback,
tests/sso_servers/oidc.py).

The provider is added to the live server with ``flask providers add`` (as an
administrator would) for the training institute of Chartres, its ``staff``
group made trainers and ``coordination`` coordinators; it is removed when the
module ends. Local passwords stay on. The provider's login page asks for the
subject to sign in as; the claims it vouches for are set beforehand through
its API. Tampered and replayed answers, clock skew: tests/test_sso_oidc.py
(Flask's test client against the same provider).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, DEMO_PASSWORD
from tests.sso_servers import oidc as servers
from tests.sso_servers.oidc import OidcProvider, closed_port_url

# The provider's fixtures, shared with tests/test_sso_oidc.py (one per session).
oidc_providers = servers.oidc_providers
oidc_provider = servers.oidc_provider

ROOT = Path(__file__).resolve().parents[2]
CODE = "oidc-signin-browser"  # unique to this file: the live server is shared
DOWN_CODE = "oidc-signin-browser-down"
LABEL = "Entra ID de l’institut"
DOWN_LABEL = "Portail des partenaires"
ESTABLISHMENT = "CHA-OF"
ADMIN = "admin@plateforme.test"
RULES = [{"attribute": "groups", "value": "staff", "role": "trainer"},
         {"attribute": "groups", "value": "coordination", "role": "coordinator"}]


def _button(label: str) -> re.Pattern[str]:
    return re.compile(rf"^(Se connecter avec|Log in with) {re.escape(label)}$")


def _flask(live_setup: Any, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=live_setup.env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def _add(live_setup: Any, code: str, label: str, settings: dict[str, Any]) -> None:
    _flask(live_setup, "providers", "add", "--establishment", ESTABLISHMENT, "--kind", "oidc",
           "--code", code, "--label", label, "--settings", json.dumps(settings),
           "--rules", json.dumps(RULES))


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             oidc_provider: OidcProvider) -> Iterator[str]:
    _add(live_setup, CODE, LABEL, oidc_provider.settings())
    try:
        yield CODE
    finally:
        _flask(live_setup, "providers", "remove", CODE)


@pytest.fixture
def down_provider(live_setup: Any, live_server: Any) -> Iterator[str]:
    """A provider configured at an address where nothing answers."""
    _add(live_setup, DOWN_CODE, DOWN_LABEL, {"issuer": closed_port_url(), "client_id": "x"})
    try:
        yield DOWN_CODE
    finally:
        _flask(live_setup, "providers", "remove", DOWN_CODE)


def account(live_server: Any, subject: str) -> tuple[Any, ...] | None:
    """(id, e-mail, name, role, establishment code, active) of the account
    linked to ``subject`` at the provider, or None."""
    rows = live_server.query(
        "SELECT u.id, u.email, u.name, u.role, e.code, u.active FROM identity_link l "
        "JOIN identity_provider p ON p.id = l.provider_id "
        "JOIN user_account u ON u.id = l.user_id "
        "LEFT JOIN establishment e ON e.id = u.establishment_id "
        "WHERE p.code = ? AND l.subject = ?", CODE, subject)
    return tuple(rows[0]) if rows else None


def press_button(page: Any, label: str = LABEL) -> None:
    """From our login page to the provider's (through « Choisir mon
    établissement » when other files' providers make too many buttons)."""
    page.goto("/auth/login")
    button = page.get_by_role("link", name=_button(label))
    if not button.count():
        page.get_by_role("link", name=re.compile("Choisir mon établissement|Choose my "
                                                 "establishment")).click()
        page.get_by_role("link", name=re.compile("Institut de formation industrielle")).click()
        button = page.get_by_role("link", name=_button(label))
    button.click()


def sign_in(page: Any, oidc: OidcProvider, subject: str) -> Any:
    """The whole round trip, the provider's form filled as a person would;
    the answer of our callback."""
    press_button(page)
    expect(page).to_have_url(re.compile("^" + re.escape(oidc.issuer + "/oauth2/authorize?")))
    page.locator("input[name=sub]").fill(subject)
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as answer:
        page.get_by_role("button", name="Authorize", exact=True).click()
    return answer.value


def log_out(page: Any) -> None:
    # The button sits in the phone's folded menu: submitted without opening it.
    page.locator("form[action$='/auth/logout'] button").first.evaluate("b => b.click()")


def test_first_sign_in_creates_the_account_and_the_next_one_updates_it(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        oidc_provider: OidcProvider) -> None:
    oidc_provider.set_user("a1b2-nadia", email="nadia.benali@if-chartres.test",
                           name="Nadia Benali", groups=["staff", "chimie"])
    assert account(live_server, "a1b2-nadia") is None

    page = new_context().new_page()
    answer = sign_in(page, oidc_provider, "a1b2-nadia")
    assert answer.status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_contain_text("Bienvenue, Nadia Benali.")
    user_id, email, name, role, establishment, active = account(live_server, "a1b2-nadia")
    assert (email, name, role, establishment, active) == (
        "nadia.benali@if-chartres.test", "Nadia Benali", "trainer", ESTABLISHMENT, 1)

    # The institute changed her name and address; the subject stays. Another
    # day, another browser: the same account, brought up to date.
    oidc_provider.set_user("a1b2-nadia", email="nadia.benali-roux@if-chartres.test",
                           name="Nadia Benali-Roux", groups=["staff", "chimie"])
    later = new_context().new_page()
    assert sign_in(later, oidc_provider, "a1b2-nadia").status == 302
    expect(later).to_have_url(re.compile(r"/dashboard$"))
    expect(later.locator("body")).to_contain_text("Bienvenue, Nadia Benali-Roux.")
    assert account(live_server, "a1b2-nadia") == (
        user_id, "nadia.benali-roux@if-chartres.test", "Nadia Benali-Roux", "trainer",
        ESTABLISHMENT, 1)


def test_no_role_from_the_claims_is_a_clear_refusal(
        provider: str, page: Any, live_server: Any,
        oidc_provider: OidcProvider) -> None:
    oidc_provider.set_user("c3d4-stagiaire", email="stagiaire@if-chartres.test",
                           name="Un Stagiaire", groups=["apprentis"])

    answer = sign_in(page, oidc_provider, "c3d4-stagiaire")
    assert answer.status == 403
    expect(page.locator("h1")).to_contain_text(f"La connexion par {LABEL} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text("rôle")
    assert account(live_server, "c3d4-stagiaire") is None
    assert not live_server.query("SELECT id FROM user_account WHERE email = ?",
                                 "stagiaire@if-chartres.test")


def test_a_deactivated_account_stays_out(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        oidc_provider: OidcProvider) -> None:
    oidc_provider.set_user("e5f6-hugo", email="hugo.lambert@if-chartres.test",
                           name="Hugo Lambert", groups=["staff", "coordination"])
    page = new_context().new_page()
    assert sign_in(page, oidc_provider, "e5f6-hugo").status == 302
    user_id, *_rest, role, _establishment, _active = account(live_server, "e5f6-hugo")
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
    assert account(live_server, "e5f6-hugo")[-1] == 0

    # His open session ended with the deactivation, whatever the provider says...
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    # ...and the provider, which still vouches for him, cannot sign him in again.
    answer = sign_in(page, oidc_provider, "e5f6-hugo")
    assert answer.status == 403
    expect(page.locator(".sso-error-message")).to_contain_text("désactivé")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def test_a_provider_that_is_down_is_a_clear_page_and_passwords_still_work(
        down_provider: str, page: Any) -> None:
    with page.expect_response(lambda r: f"/auth/sso/{DOWN_CODE}/login" in r.url) as answer:
        press_button(page, DOWN_LABEL)
    assert answer.value.status == 502
    expect(page.locator("h1")).to_contain_text(f"La connexion par {DOWN_LABEL} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text(
        f"{DOWN_LABEL} ne répond pas pour le moment")

    # A password still opens the platform meanwhile.
    page.get_by_role("link", name=re.compile("adresse e-mail et un mot de passe|e-mail and a "
                                             "password")).click()
    page.locator("#email").fill(COORD_CHARTRES)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form.form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_logout_goes_through_the_provider_end_session(
        provider: str, page: Any, live_server: Any,
        oidc_provider: OidcProvider) -> None:
    oidc_provider.set_user("g7h8-ines", email="ines.moreau@if-chartres.test",
                           name="Inès Moreau", groups=["staff"])
    assert sign_in(page, oidc_provider, "g7h8-ines").status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    log_out(page)
    # The provider's end-session page, told who is leaving (the ID token of
    # this sign-in) and where to send her back.
    expect(page).to_have_url(re.compile(
        "^" + re.escape(oidc_provider.issuer + "/oauth2/end_session?")))
    query = parse_qs(urlsplit(page.url).query)
    assert query["post_logout_redirect_uri"] == [live_server.url + "/auth/login"]
    assert query["id_token_hint"][0].count(".") == 2
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
