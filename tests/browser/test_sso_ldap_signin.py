"""Signing in with an LDAP directory's username and password, in Chromium,
against Debian's slapd on loopback (tests/sso_servers/ldap.py).

The provider is added to the live server with ``flask providers add`` (as an
administrator would) for Polytech Tours, in search mode (a read-only service
account finds the person's entry, then the person's own bind proves the
password); its staff (``employeeType``, Debian ships no eduPerson schema) are
made trainers, the members of its coordinators group (``memberOf``)
coordinators. It is removed when the module ends; local passwords stay on.
Empty passwords, injected usernames, the DN template mode and throttling:
tests/test_sso_ldap.py. A bind has no answer to replay or tamper with and no
clock to skew.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, DEMO_PASSWORD
from tests.sso_servers.ldap import (  # noqa: F401 (the fixture)
    COORDINATORS,
    PERSONS,
    Directory,
    slapd_directory,
)

ROOT = Path(__file__).resolve().parents[2]
CODE = "ldap-signin-browser"  # unique to this file: the live server is shared
LABEL = "Annuaire de Polytech Tours"
ESTABLISHMENT = "TRS-POL"
ADMIN = "admin@plateforme.test"
RULES = [{"attribute": "employeeType", "value": "staff", "role": "trainer"},
         {"attribute": "memberOf", "value": COORDINATORS, "role": "coordinator"}]
LDAP_BUTTON = re.compile(rf"^(Se connecter avec|Log in with) {LABEL}$")
WRONG = "Identifiant ou mot de passe incorrect"


def _flask(live_setup: Any, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=live_setup.env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def provider(live_setup: Any, live_server: Any,
             slapd_directory: Directory) -> Iterator[str]:  # noqa: F811
    _flask(live_setup, "providers", "add", "--establishment", ESTABLISHMENT, "--kind", "ldap",
           "--code", CODE, "--label", LABEL, "--settings",
           json.dumps(slapd_directory.search_settings()), "--rules", json.dumps(RULES))
    try:
        yield CODE
    finally:
        _flask(live_setup, "providers", "remove", CODE)


@pytest.fixture
def directory(slapd_directory: Directory) -> Directory:  # noqa: F811
    return slapd_directory


def account(live_server: Any, directory: Directory, uid: str) -> tuple[Any, ...] | None:
    """(id, e-mail, name, role, establishment code, active) of the account
    linked to ``uid``'s entry (by its entryUUID), or None."""
    rows = live_server.query(
        "SELECT u.id, u.email, u.name, u.role, e.code, u.active FROM identity_link l "
        "JOIN identity_provider p ON p.id = l.provider_id "
        "JOIN user_account u ON u.id = l.user_id "
        "LEFT JOIN establishment e ON e.id = u.establishment_id "
        "WHERE p.code = ? AND l.subject = ?", CODE, directory.entry_uuid(uid))
    return tuple(rows[0]) if rows else None


def open_form(page: Any) -> None:
    """From our login page to the directory's form (through « Choisir mon
    établissement » when other files' providers make too many buttons)."""
    page.goto("/auth/login")
    button = page.get_by_role("link", name=LDAP_BUTTON)
    if not button.count():
        page.get_by_role("link", name=re.compile("Choisir mon établissement|Choose my "
                                                 "establishment")).click()
        page.get_by_role("link", name=re.compile("Polytech Tours")).click()
        button = page.get_by_role("link", name=LDAP_BUTTON)
    button.click()
    expect(page.locator("h1")).to_have_text(LABEL)


def submit(page: Any, username: str, password: str) -> Any:
    """Fill the form as the person does; the answer of our server to the post."""
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and f"/auth/sso/{CODE}/login" in r.url) as answer:
        page.get_by_role("button", name="Se connecter").click()
    return answer.value


def sign_in(page: Any, uid: str, password: str | None = None) -> Any:
    open_form(page)
    return submit(page, uid, PERSONS[uid].password if password is None else password)


def log_out(page: Any) -> None:
    # The button sits in the phone's folded menu: submitted without opening it.
    page.locator("form[action$='/auth/logout'] button").first.evaluate("b => b.click()")


def test_first_sign_in_creates_the_account_and_the_next_one_updates_it(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        directory: Directory) -> None:
    denis = PERSONS["dmoreau"]
    assert account(live_server, directory, "dmoreau") is None

    page = new_context().new_page()
    assert sign_in(page, "dmoreau").status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_contain_text("Bienvenue, Denis Moreau.")
    user_id, email, name, role, establishment, active = account(live_server, directory,
                                                                "dmoreau")
    assert (email, name, role, establishment, active) == (
        denis.mail, "Denis Moreau", "trainer", ESTABLISHMENT, 1)

    # The university's directory changes his name and address; another day,
    # another browser: the same account, brought up to date.
    directory.replace("dmoreau", mail="denis.moreau-roy@univ.campus.test",
                      displayName="Denis Moreau-Roy")
    try:
        later = new_context().new_page()
        assert sign_in(later, "dmoreau").status == 302
        expect(later).to_have_url(re.compile(r"/dashboard$"))
        expect(later.locator("body")).to_contain_text("Bienvenue, Denis Moreau-Roy.")
    finally:
        directory.replace("dmoreau", mail=denis.mail, displayName=denis.display_name)
    assert account(live_server, directory, "dmoreau") == (
        user_id, "denis.moreau-roy@univ.campus.test", "Denis Moreau-Roy", "trainer",
        ESTABLISHMENT, 1)


def test_a_wrong_password_or_an_unknown_user_is_refused_alike(
        provider: str, page: Any, live_server: Any, directory: Directory) -> None:
    answer = sign_in(page, "egarnier", "not-her-password")
    assert answer.status == 401
    expect(page.locator(".error-summary")).to_contain_text(WRONG)
    expect(page.get_by_label("Identifiant")).to_have_value("egarnier")
    expect(page.get_by_label("Mot de passe")).to_have_value("")

    assert submit(page, "nobody-here", "not-her-password").status == 401
    expect(page.locator(".error-summary")).to_contain_text(WRONG)
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    assert account(live_server, directory, "egarnier") is None


def test_no_role_from_the_attributes_is_a_clear_refusal(
        provider: str, page: Any, live_server: Any, directory: Directory) -> None:
    chloe = PERSONS["cleroy"]  # employeeType: student, in no group
    assert sign_in(page, "cleroy").status == 403
    expect(page.locator("h1")).to_contain_text(f"La connexion par {LABEL} n’a pas abouti")
    expect(page.locator(".sso-error-message")).to_contain_text("rôle")
    assert account(live_server, directory, "cleroy") is None
    assert not live_server.query("SELECT id FROM user_account WHERE email = ?", chloe.mail)


def test_a_deactivated_account_stays_out(
        provider: str, new_context: Callable[..., Any], live_server: Any,
        directory: Directory) -> None:
    page = new_context().new_page()
    assert sign_in(page, "bpetit").status == 302
    user_id, *_rest, role, _establishment, _active = account(live_server, directory, "bpetit")
    assert role == "coordinator"  # the group's, the highest role any rule gives

    admin = new_context().new_page()
    admin.goto("/auth/login")
    admin.locator("#email").fill(ADMIN)
    admin.locator("#password").fill(DEMO_PASSWORD)
    admin.locator("form.form [type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/dashboard$"))
    admin.goto(f"/admin/accounts/{user_id}/deactivate")
    admin.locator("#confirm-form [type=submit]").click()
    expect(admin).to_have_url(re.compile(r"/admin/accounts"))
    assert account(live_server, directory, "bpetit")[-1] == 0

    # His open session ended with the deactivation...
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    # ...and his right password at the directory does not bring him back.
    assert sign_in(page, "bpetit").status == 403
    expect(page.locator(".sso-error-message")).to_contain_text("désactivé")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def test_a_directory_that_is_down_is_a_clear_page_and_passwords_still_work(
        provider: str, page: Any, live_server: Any, directory: Directory) -> None:
    open_form(page)
    with directory.stopped():
        answer = submit(page, "fblanc", PERSONS["fblanc"].password)
        assert answer.status == 502
        expect(page.locator(".sso-error-message")).to_contain_text(f"{LABEL} n’a pas répondu")
        assert not live_server.query("SELECT id FROM user_account WHERE email = ?",
                                     PERSONS["fblanc"].mail)

        # A password still opens the platform meanwhile.
        page.get_by_role("link", name=re.compile("adresse e-mail et un mot de passe|e-mail and a "
                                                 "password")).click()
        page.locator("#email").fill(COORD_CHARTRES)
        page.locator("#password").fill(DEMO_PASSWORD)
        page.locator("form.form [type=submit]").click()
        expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_logout_asks_for_the_password_again(
        provider: str, page: Any, live_server: Any, directory: Directory) -> None:
    assert sign_in(page, "gfaure").status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_contain_text("Bienvenue, Gaëlle Faure.")

    log_out(page)
    # A bind leaves no session at the directory: straight back to our login page.
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    open_form(page)
    expect(page.get_by_label("Mot de passe")).to_have_value("")
