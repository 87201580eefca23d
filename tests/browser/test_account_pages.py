"""« Jetons d'intégration » and « Préférences » in a real browser (issue 12,
parts 7 and 5): create an integration token, see its secret once, revoke it;
change a preference. French and English, desktop (1366×768) and phone (390×844).

Each run uses an account of its own, created through the API as the admin, so
no other test's account changes language or preferences."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import SIZES, set_language, shoot

ADMIN = "admin@plateforme.test"
PASSWORD = "une phrase assez longue 42"
CHOSEN = "ma propre phrase bien longue 7"
WORDS = {
    "fr": {"tokens": "Jetons d’intégration", "revoked": "Révoqué", "prefs": "Préférences",
           "saved": "Vos préférences sont enregistrées."},
    "en": {"tokens": "Integration tokens", "revoked": "Revoked", "prefs": "Preferences",
           "saved": "Your preferences are saved."},
}


@pytest.mark.parametrize(("lang", "size"), [("fr", "desktop"), ("fr", "phone"),
                                            ("en", "desktop"), ("en", "phone")])
def test_tokens_and_preferences(new_context: Any, live_server: Any, lang: str,
                                size: str) -> None:
    email = f"prefs-{uuid.uuid4().hex[:10]}@plateforme.test"
    status, answer = live_server.api(
        "POST", "/api/v1/users", {"email": email, "name": "Alix Jeton", "role": "trainer",
                                  "password": PASSWORD}, token=live_server.token(ADMIN))
    assert status == 201, answer
    user_id, words = answer["id"], WORDS[lang]
    page = new_context(**SIZES[size]).new_page()
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.form [type=submit]").click()
    # A password the admin chose is replaced at first sign-in.
    page.wait_for_url(re.compile(r"/auth/password$"))
    page.locator("#current_password").fill(PASSWORD)
    page.locator("#new_password").fill(CHOSEN)
    page.locator("#confirm").fill(CHOSEN)
    page.locator("form.form [type=submit], section.form [type=submit]").first.click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    set_language(page, lang)

    page.goto(f"/account/users/{user_id}/tokens")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["tokens"])
    page.locator("#name").fill("Synchro ENT")
    page.locator("#scope").select_option("book")
    page.locator("form.form [type=submit], section.form [type=submit]").last.click()
    secret = page.locator("code.token-secret")
    expect(secret).to_be_visible()
    shoot(page, "account", "token-created", lang, size)
    page.goto(f"/account/users/{user_id}/tokens")
    expect(page.locator("code.token-secret")).to_have_count(0)
    page.locator("#tokens button[type=submit]").first.click()
    expect(page.locator("#tokens")).to_contain_text(words["revoked"])
    shoot(page, "account", "token-revoked", lang, size)

    page.goto("/account/preferences")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["prefs"])
    page.locator("#reminder_hours").select_option("48")
    page.locator("#notify_bookings").uncheck()
    page.locator("section.form [type=submit]").click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    expect(page.locator("#reminder_hours")).to_have_value("48")
    expect(page.locator("#notify_bookings")).not_to_be_checked()
    shoot(page, "account", "preferences", lang, size, full_page=True)
