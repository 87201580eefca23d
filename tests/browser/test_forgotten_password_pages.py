"""« Mot de passe oublié » end to end in a real browser (issue 12, part 4): a
person asks for a link on the login page, follows the link read from the live
server's outbox, chooses a new password and logs in with it; the link then
gives its clear « no longer works » page. French and English, on a desktop
(1366×768) and a phone (390×844).

Each run creates its own account through the API as the admin, so no password
another test logs in with ever changes."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import SIZES, set_language, shoot

ADMIN = "admin@plateforme.test"
NEW = "une phrase toute neuve 2027"
WORDS = {
    "fr": {"forgot": "Mot de passe oublié ?", "sent": "Consultez votre messagerie",
           "choose": "Choisissez un nouveau mot de passe", "gone": "Ce lien ne fonctionne plus"},
    "en": {"forgot": "Forgotten password?", "sent": "Check your e-mail",
           "choose": "Choose a new password", "gone": "This link no longer works"},
}


@pytest.mark.parametrize(("lang", "size"), [("fr", "desktop"), ("fr", "phone"),
                                            ("en", "desktop"), ("en", "phone")])
def test_a_forgotten_password_end_to_end(new_context: Any, live_server: Any,
                                         lang: str, size: str) -> None:
    email = f"oubli-{uuid.uuid4().hex[:10]}@plateforme.test"
    status, answer = live_server.api(
        "POST", "/api/v1/users",
        {"email": email, "name": "Camille Oubli", "role": "trainer",
         "password": "un ancien mot de passe 1"}, token=live_server.token(ADMIN))
    assert status == 201, answer
    words = WORDS[lang]

    page = new_context(**SIZES[size]).new_page()
    page.goto("/auth/login")
    set_language(page, lang)
    page.get_by_role("link", name=words["forgot"]).click()
    page.locator("#email").fill(email)
    shoot(page, "accounts", "forgot", lang, size)
    page.locator("form.form [type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])
    shoot(page, "accounts", "forgot-sent", lang, size)

    body = live_server.query("SELECT body_text FROM outbox_message WHERE to_addr = ? "
                             "ORDER BY id DESC LIMIT 1", email)[0][0]
    link = re.search(r"/auth/link/[A-Za-z0-9_-]+", body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["choose"])
    page.locator("#new_password").fill(NEW)
    page.locator("#confirm").fill(NEW)
    shoot(page, "accounts", "link", lang, size)
    page.locator("form.form [type=submit]").click()
    page.wait_for_url(re.compile(r"/auth/login$"))

    page.locator("#email").fill(email)
    page.locator("#password").fill(NEW)
    page.locator("form.form [type=submit]").click()
    page.wait_for_url(re.compile(r"/dashboard$"))

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["gone"])
    shoot(page, "accounts", "link-gone", lang, size)
