"""Bulk onboarding in a real browser: the Chartres coordinator downloads a
template, uploads a file of two trainers, reads the preview (created, with a
line in error the first time), uploads the corrected file and imports it;
axe-core finds no violation on the preview. In French on a desktop, in
English on a phone."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, shoot

AXE = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))

WORDS = {"fr": {"created": "2 lignes créées", "error": "1 en erreur", "import": "Importer",
                "preview": "Aperçu", "done": "Import terminé"},
         "en": {"created": "2 lines created", "error": "1 with errors", "import": "Import",
                "preview": "Preview", "done": "Import done"}}


def checked_shot(page: Any, name: str, lang: str, size: str) -> None:
    """A screenshot, once axe-core found no violation at all on the page."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    assert [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in violations] == [], page.url
    shoot(page, "onboarding", name, lang, size, full_page=True)


def send(page: Any, name: str, data: bytes, preview: str) -> None:
    page.goto("/onboarding/")
    form = page.locator("#onboarding-form")
    form.locator("#kind").select_option("accounts")
    form.locator("#file").set_input_files(files=[{"name": name, "mimeType": "text/csv",
                                                  "buffer": data}])
    form.get_by_role("button", name=preview).click()


@pytest.mark.parametrize(("lang", "size"), [("fr", "desktop"), ("en", "phone")])
def test_a_coordinator_previews_then_imports_accounts(open_page, live_server, lang, size):
    words = WORDS[lang]
    first, second = f"ines.{lang}.{size}@example.org", f"hugo.{lang}.{size}@example.org"
    good = (f"email;name;role\n{first};Inès {lang};trainer\n"
            f"{second};Hugo {lang};formateur\n").encode()
    page = open_page(COORD_CHARTRES, lang, size, bypass_csp=True)
    page.goto("/onboarding/")
    with page.expect_download() as download:
        page.locator("#templates a").first.click()
    assert download.value.suggested_filename == "accounts.csv"

    send(page, "comptes.csv", good + b"bad-address;X;trainer\n", words["preview"])
    expect(page.locator("#counts")).to_contain_text(words["error"])
    expect(page.locator('#preview tr[data-status="error"]')).to_have_count(1)
    expect(page.locator("#confirm-form")).to_have_count(0)

    send(page, "comptes.csv", good, words["preview"])
    expect(page.locator("#counts")).to_contain_text(words["created"])
    expect(page.locator('#preview tr[data-status="created"]')).to_have_count(2)
    checked_shot(page, "preview", lang, size)
    page.locator("#confirm-form").get_by_role("button", name=words["import"]).click()
    expect(page.locator(".flash").filter(has_text=words["done"]).first).to_be_visible()
    assert live_server.query("SELECT count(*) FROM user_account WHERE email IN (?, ?)",
                             first, second) == [(2,)]
