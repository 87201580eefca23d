"""Signing in through a university's CAS, in Chromium, against a real CAS 3.0
server (django-cas-server on loopback, tests/sso_servers/cas.py).

The provider is added to the live server with ``flask providers add`` (as an
administrator would) for the Faculté de pharmacie of Tours, its staff made
trainers; it is removed when the module ends. Local passwords stay on.
Tickets replayed, issued for another site, forged or too old:
tests/test_sso_cas.py (Flask's test client against the same server).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, DEMO_PASSWORD, log_in
from tests.sso_servers.cas import CasServer, cas_server  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[2]
CODE = "cas-signin-browser"  # unique to this file: the live server is shared
LABEL = "CAS Université de Tours"
ESTABLISHMENT = "TRS-PHA"
ADMIN = "admin@plateforme.test"
PASSWORD = "cas-password"
RULES = [{"attribute": "eduPersonAffiliation", "value": "staff", "role": "trainer"},
         {"attribute": "eduPersonAffiliation", "value": "faculty", "role": "coordinator"}]
CAS_BUTTON = re.compile(rf"^(Se connecter avec|Log in with) {LABEL}$")


def _flask(live_setup: Any, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=live_setup.env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             cas_server: CasServer) -> Iterator[str]:  # noqa: F811
    _flask(live_setup, "providers", "add", "--establishment", ESTABLISHMENT, "--kind", "cas",
           "--code", CODE, "--label", LABEL, "--settings", json.dumps(cas_server.settings()),
           "--rules", json.dumps(RULES))
    try:
        yield CODE
    finally:
        _flask(live_setup, "providers", "remove", CODE)


def account(live_server: Any, username: str) -> tuple[Any, ...] | None:
    """(id, e-mail, name, role, establishment code, active) of the account
    linked to ``username`` at the CAS, or None."""
    rows = live_server.query(
        "SELECT u.id, u.email, u.name, u.role, e.code, u.active FROM identity_link l "
        "JOIN identity_provider p ON p.id = l.provider_id "
        "JOIN user_account u ON u.id = l.user_id "
        "LEFT JOIN establishment e ON e.id = u.establishment_id "
        "WHERE p.code = ? AND l.subject = ?", CODE, username)
    return tuple(rows[0]) if rows else None


def press_cas_button(page: Any) -> None:
    """From our login page to the CAS's (through « Choisir mon établissement »
    when other files' providers make too many buttons)."""
    page.goto("/auth/login")
    button = page.get_by_role("link", name=CAS_BUTTON)
    if not button.count():
        page.get_by_role("link", name=re.compile("Choisir mon établissement|Choose my "
                                                 "establishment")).click()
        page.get_by_role("link", name=re.compile("Faculté de pharmacie")).click()
        button = page.get_by_role("link", name=CAS_BUTTON)
    button.click()


def sign_in_at_cas(page: Any, cas: CasServer, username: str) -> None:
    """The CAS server's own login form, as the person fills it."""
    expect(page).to_have_url(re.compile("^" + re.escape(cas.url + "login?service=")))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login_form [type=submit]").click()


def sign_in(page: Any, cas: CasServer, username: str) -> Any:
    """The whole round trip; the answer of our callback."""
    press_cas_button(page)
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as answer:
        sign_in_at_cas(page, cas, username)
    return answer.value


def log_out(page: Any) -> None:
    # The button sits in the phone's folded menu: submitted without opening it.
    page.locator("form[action$='/auth/logout'] button").first.evaluate("b => b.click()")


def test_first_sign_in_creates_the_account_and_the_next_one_updates_it(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        cas_server: CasServer) -> None:  # noqa: F811
    cas_server.set_user("lmoreau", PASSWORD, uid="lmoreau", mail="lea.moreau@univ-tours.test",
                        displayName="Léa Moreau", eduPersonAffiliation=["staff", "member"])
    assert account(live_server, "lmoreau") is None

    page = new_context().new_page()
    answer = sign_in(page, cas_server, "lmoreau")
    assert answer.status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_contain_text("Bienvenue, Léa Moreau.")
    user_id, email, name, role, establishment, active = account(live_server, "lmoreau")
    assert (email, name, role, establishment, active) == (
        "lea.moreau@univ-tours.test", "Léa Moreau", "trainer", ESTABLISHMENT, 1)

    # She married; the university changed her name and address. Another day,
    # another browser: the same account, brought up to date.
    cas_server.set_user("lmoreau", PASSWORD, uid="lmoreau",
                        mail="lea.moreau-petit@univ-tours.test", displayName="Léa Moreau-Petit",
                        eduPersonAffiliation=["staff", "member"])
    later = new_context().new_page()
    assert sign_in(later, cas_server, "lmoreau").status == 302
    expect(later).to_have_url(re.compile(r"/dashboard$"))
    expect(later.locator("body")).to_contain_text("Bienvenue, Léa Moreau-Petit.")
    assert account(live_server, "lmoreau") == (
        user_id, "lea.moreau-petit@univ-tours.test", "Léa Moreau-Petit", "trainer",
        ESTABLISHMENT, 1)


def test_no_role_from_the_attributes_is_a_clear_refusal(
        provider: str, page: Any, live_server: Any, cas_server: CasServer) -> None:  # noqa: F811
    cas_server.set_user("etudiant", PASSWORD, uid="etudiant", mail="etudiant@univ-tours.test",
                        displayName="Un Étudiant", eduPersonAffiliation=["student", "member"])

    answer = sign_in(page, cas_server, "etudiant")
    assert answer.status == 403
    expect(page.locator("h1")).to_contain_text(f"La connexion par {LABEL} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text("rôle")
    assert account(live_server, "etudiant") is None
    assert not live_server.query("SELECT id FROM user_account WHERE email = ?",
                                 "etudiant@univ-tours.test")


def test_a_deactivated_account_stays_out(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        cas_server: CasServer) -> None:  # noqa: F811
    cas_server.set_user("pgirard", PASSWORD, uid="pgirard", mail="paul.girard@univ-tours.test",
                        displayName="Paul Girard", eduPersonAffiliation=["faculty"])
    page = new_context().new_page()
    assert sign_in(page, cas_server, "pgirard").status == 302
    user_id, _email, _name, role, *_ = account(live_server, "pgirard")
    assert role == "coordinator"  # the highest role any rule gives

    admin = log_in(new_context().new_page(), ADMIN)
    admin.goto(f"/admin/accounts/{user_id}/deactivate")
    admin.locator("#confirm-form [type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/admin/accounts"))
    assert account(live_server, "pgirard")[-1] == 0

    # His open session ended with the deactivation, whatever the CAS says...
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    # ...and the CAS, whose session still knows him (no password asked),
    # cannot sign him in again.
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as answer:
        press_cas_button(page)
    assert answer.value.status == 403
    expect(page.locator(".sso-error-message")).to_contain_text("désactivé")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def test_a_cas_server_that_is_down_is_a_clear_page_and_passwords_still_work(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        cas_server: CasServer) -> None:  # noqa: F811
    cas_server.set_user("jblanc", PASSWORD, uid="jblanc", mail="jules.blanc@univ-tours.test",
                        displayName="Jules Blanc", eduPersonAffiliation=["staff"])
    page = new_context().new_page()
    press_cas_button(page)
    expect(page.locator("#id_username")).to_be_visible()
    # She signs in at the CAS, which goes down before our server checks the
    # ticket (a CAS down before that is the browser's own error page). Playwright
    # cannot hold a redirect, so the ticket comes from the same login form
    # filled over HTTP, for the service the browser was sent with.
    (service,) = parse_qs(urlsplit(page.url).query)["service"]
    ticket = cas_server.ticket(service, "jblanc", PASSWORD)

    with cas_server.down():
        answer = page.goto(f"{service}?{urlencode({'ticket': ticket})}")
        assert answer is not None
        assert answer.status == 502
        expect(page.locator(".sso-error-message")).to_contain_text(f"{LABEL} n’a pas répondu")
        assert account(live_server, "jblanc") is None

        # A password still opens the platform meanwhile.
        page.get_by_role("link", name=re.compile("adresse e-mail et un mot de passe|e-mail and a "
                                                 "password")).click()
        page.locator("#email").fill(COORD_CHARTRES)
        page.locator("#password").fill(DEMO_PASSWORD)
        page.locator("form.form [type=submit]").click()
        expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_logout_ends_the_cas_session_too(
        provider: str, page: Any, live_server: Any, cas_server: CasServer) -> None:  # noqa: F811
    cas_server.set_user("mrobert", PASSWORD, uid="mrobert", mail="marie.robert@univ-tours.test",
                        displayName="Marie Robert", eduPersonAffiliation=["staff"])
    assert sign_in(page, cas_server, "mrobert").status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    # While the CAS session lives, signing in again asks for no password
    # (the login page itself sends a logged-in person to the dashboard).
    with page.expect_response(lambda r: f"/auth/sso/{CODE}/callback" in r.url) as again:
        page.goto(f"/auth/sso/{CODE}/login")
    assert again.value.status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    log_out(page)
    # Through the CAS's logout, back to our login page.
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    assert cas_server.url + "logout?" + urlencode(
        {"service": live_server.url + "/auth/login"}) in visited
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    # The CAS asks for her password again: its session ended too.
    press_cas_button(page)
    expect(page.locator("#id_username")).to_be_visible()
