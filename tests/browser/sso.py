"""What the four sign-in files (tests/browser/test_sso_*_signin.py) share: a
provider added to the live server with ``flask providers add``, as an
administrator would, and removed when the file ends; the account it links;
the way from our login page to its button; the landing and the logout.

Each file walks, in Chromium, what needs a browser: the round trip through
the provider's own pages, the landing, the logout through the provider, the
next sign-in bringing the account up to date. The refusals (no role from the
attributes, a deactivated account), a provider down and the tampered or
replayed answers are the service's and each protocol's, tested with Flask's
test client against the same servers (tests/test_sso_provisioning.py,
tests/test_sso_*.py; the page of a refusal is one view for every protocol,
booking/auth/sso/views.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provider:
    """A provider as ``flask providers add`` takes it."""

    code: str  # unique to its file: the live server is shared
    label: str
    kind: str
    establishment: str  # its code
    place: str  # the establishment's name on « Choisir mon établissement »
    settings: dict[str, Any]
    rules: list[dict[str, str]]

    @property
    def button(self) -> re.Pattern[str]:
        return re.compile(rf"^(Se connecter avec|Log in with) {re.escape(self.label)}$")


def flask(live_setup: Any, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=live_setup.env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@contextmanager
def added(live_setup: Any, *providers: Provider) -> Iterator[None]:
    """The providers on the live server for the block (local passwords stay on)."""
    codes: list[str] = []
    try:
        for provider in providers:
            flask(live_setup, "providers", "add", "--establishment", provider.establishment,
                  "--kind", provider.kind, "--code", provider.code, "--label", provider.label,
                  "--settings", json.dumps(provider.settings),
                  "--rules", json.dumps(provider.rules))
            codes.append(provider.code)
        yield
    finally:
        for code in codes:
            flask(live_setup, "providers", "remove", code)


def installed(live_setup: Any, provider: Provider) -> Iterator[Provider]:
    """A module fixture's body: ``yield from installed(live_setup, provider)``."""
    with added(live_setup, provider):
        yield provider


def account(live_server: Any, provider: Provider, subject: str) -> tuple[Any, ...] | None:
    """(id, e-mail, name, role, establishment code, active) of the account
    linked to ``subject`` at the provider, or None."""
    rows = live_server.query(
        "SELECT u.id, u.email, u.name, u.role, e.code, u.active FROM identity_link l "
        "JOIN identity_provider p ON p.id = l.provider_id "
        "JOIN user_account u ON u.id = l.user_id "
        "LEFT JOIN establishment e ON e.id = u.establishment_id "
        "WHERE p.code = ? AND l.subject = ?", provider.code, subject)
    return tuple(rows[0]) if rows else None


def press_button(page: Any, provider: Provider) -> None:
    """From our login page to the provider's (through « Choisir mon
    établissement » when other files' providers make too many buttons)."""
    page.goto("/auth/login")
    button = page.get_by_role("link", name=provider.button)
    if not button.count():
        page.get_by_role("link", name=re.compile("Choisir mon établissement|Choose my "
                                                 "establishment")).click()
        page.get_by_role("link", name=re.compile(re.escape(provider.place))).click()
        button = page.get_by_role("link", name=provider.button)
    button.click()


def callback(page: Any, provider: Provider) -> Any:
    """``with callback(page, provider) as answer:`` our callback's answer, in
    ``answer.value``."""
    return page.expect_response(lambda r: f"/auth/sso/{provider.code}/callback" in r.url)


def landed(page: Any, name: str) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("body")).to_contain_text(f"Bienvenue, {name}.")


def first_sign_in(page: Any, live_server: Any, provider: Provider, subject: str,
                  sign_in: Callable[[], Any], *, email: str, name: str) -> tuple[int, Any]:
    """``sign_in`` (the round trip, our server's answer) creates the trainer's
    account, and she lands on the dashboard: her account's id, the answer."""
    assert account(live_server, provider, subject) is None
    answer = sign_in()
    assert answer.status == 302
    landed(page, name)
    user_id, *row = account(live_server, provider, subject)
    assert row == [email, name, "trainer", provider.establishment, 1]
    return user_id, answer


def next_sign_in_updates(page: Any, live_server: Any, provider: Provider, subject: str,
                         sign_in: Callable[[], Any], *, user_id: int, email: str,
                         name: str) -> None:
    """Her name and address changed at the provider, the subject stayed: the
    same account, brought up to date."""
    assert sign_in().status == 302
    landed(page, name)
    assert account(live_server, provider, subject) == (
        user_id, email, name, "trainer", provider.establishment, 1)


def signed_in_again_silently(page: Any, provider: Provider) -> None:
    """While the provider's session lives, signing in again asks for nothing
    (the login page itself sends a logged-in person to the dashboard)."""
    with callback(page, provider) as again:
        page.goto(f"/auth/sso/{provider.code}/login")
    assert again.value.status == 302
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def log_out(page: Any) -> None:
    # The button sits in the phone's folded menu: submitted without opening it.
    page.locator("form[action$='/auth/logout'] button").first.evaluate("b => b.click()")


def signed_out(page: Any) -> None:
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def password_still_works(page: Any) -> None:
    """From a provider's error page, the password form opens the platform."""
    page.get_by_role("link", name=re.compile("adresse e-mail et un mot de passe|e-mail and a "
                                             "password")).click()
    page.locator("#email").fill(COORD_CHARTRES)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form.form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
