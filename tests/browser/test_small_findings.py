"""Small findings of issue 11 in the browser, in French and English, at 1366x768 and
390x844: the catalogue's filters leave the results in the first screen (folded when
no filter is active, open and compact when one is); the admin's equipment form shows
every mistake of one submit at once (axe-checked too). Screenshots go to
screenshots/small/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import JULIEN, SIZES, shoot
from tests.browser.test_accessibility import ADMIN, axe

BOTH = [("fr", "desktop"), ("en", "desktop"), ("fr", "phone"), ("en", "phone")]
FILTERS = {"fr": "Filtres", "en": "Filters"}


@pytest.mark.parametrize(("lang", "size"), BOTH)
def test_catalogue_results_start_in_the_first_screen(open_page: Any, lang: str,
                                                     size: str) -> None:
    page = open_page(JULIEN, lang, size)
    height = SIZES[size]["viewport"]["height"]
    page.goto("/equipment")
    filters = page.locator("details.filters")
    expect(filters).not_to_have_attribute("open", "")
    expect(filters.locator("summary")).to_contain_text(FILTERS[lang])
    first = page.locator("#catalogue > li").first
    assert first.bounding_box()["y"] < height * 0.75
    shoot(page, "small", "catalogue", lang, size)
    # Unfolded, the filters fit in a few rows: the first result still shows.
    filters.locator("summary").click()
    expect(page.locator("#free_from")).to_be_visible()
    page.locator("#q").fill("ligne")
    page.locator("details.filters [type=submit]").click()
    expect(page.locator("details.filters")).to_have_attribute("open", "")
    expect(page.locator("#q")).to_have_value("ligne")
    assert page.locator("#catalogue > li").first.bounding_box()["y"] < height
    shoot(page, "small", "catalogue-filtered", lang, size)


ERRORS = {"fr": ["Ce champ est requis", "Indiquez pourquoi", "multiples"],
          "en": ["This field is required", "Say why", "multiples"]}


@pytest.mark.parametrize(("lang", "size"), [("fr", "desktop"), ("en", "phone")])
def test_equipment_form_shows_every_mistake_at_once(open_page: Any, live_server: Any,
                                                    lang: str, size: str) -> None:
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    page = open_page(ADMIN, lang, size, bypass_csp=True)
    page.goto(f"/admin/equipment/{cobot}/edit")
    page.locator("#name").fill("")
    page.locator("#min_minutes").fill("45")
    page.locator("#status").select_option("maintenance")
    page.locator("#status_reason").fill("")
    page.locator("#equipment-form [type=submit], form [type=submit]").last.click()
    expect(page.locator("#name-error")).to_be_visible()
    for field in ("name", "status_reason", "slot_minutes"):
        expect(page.locator(f"#{field}-error")).to_be_visible()
    summary = page.locator(".error-summary")
    for text in ERRORS[lang]:
        expect(summary).to_contain_text(text)
    shoot(page, "small", "equipment-form-errors", lang, size)
    assert axe(page) == []
    # Nothing was written: the machine is still active, under its name.
    assert live_server.query("SELECT status, name FROM equipment WHERE id = ?", cobot) == [
        ("active", "Cellule de robotique collaborative")]
