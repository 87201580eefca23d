"""The coordinator's inbox in a real browser (issue 11), in French and English,
on a desktop (1366×768) and a phone (390×844): a closure declared over a
booking warns and lists it with notify, move and cancel; the inbox page and
the menu's counter show it; notify and cancel work from the list.

Dates: Fridays 48 to 51 weeks ahead, which no other browser test uses; each
test deletes its closure afterwards."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_ORLEANS, JULIEN, at, shoot, weekdays_from

AXE = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))
CASES = [("fr", "desktop", 0), ("fr", "phone", 1), ("en", "desktop", 2), ("en", "phone", 3)]
FRIDAY = 4
FIRST_WEEK = 48


def no_axe_violation(page: Any) -> None:
    """axe-core finds nothing, moderate and minor included, on the page as it is
    (its list of bookings under a closure with their buttons)."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    assert [(v["id"], v["impact"], [(n["target"], n["html"][:120]) for n in v["nodes"][:3]])
            for v in violations] == []


@pytest.mark.parametrize(("lang", "size", "week"), CASES)
def test_a_closure_over_a_booking_is_listed_with_its_actions(open_page, live_server, lang,
                                                             size, week):
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    (day,) = weekdays_from(7 * (FIRST_WEEK + week), FRIDAY)
    title = f"Séance sous fermeture — {lang} {size}"
    status, booking = live_server.api("POST", "/api/v1/bookings", {
        "equipment_id": cobot, "start": at(day, 9), "end": at(day, 11), "title": title,
        "purpose": "training"}, live_server.token(JULIEN))
    assert status == 201, booking
    reason = f"Révision du robot — {lang} {size}"
    # CSP bypassed only to inject axe-core, as tests/browser/test_accessibility.py does.
    page = open_page(COORD_ORLEANS, lang, size, bypass_csp=True)
    try:
        page.goto("/coordination/closures")
        page.locator("#target").select_option(f"equipment-{cobot}")
        page.locator("#start").fill(f"{day.isoformat()}T08:00")
        page.locator("#end").fill(f"{day.isoformat()}T18:00")
        page.locator("#reason").fill(reason)
        page.locator("#closure-form [type=submit]").click()
        expect(page.locator(".flash-success")).to_contain_text(
            {"fr": "Elle tombe sur 1 réservation", "en": "It falls on 1 booking"}[lang])
        row = page.locator(f"#closure-hits tr[data-booking='{booking['id']}']")
        expect(row).to_contain_text(reason)
        expect(row.get_by_role("button", name={"fr": "Prévenir", "en": "Notify"}[lang])
               ).to_be_visible()
        expect(row.get_by_role("link", name={"fr": "Déplacer…", "en": "Move…"}[lang])
               ).to_have_attribute("href", f"/bookings/{booking['id']}/move")
        shoot(page, "inbox", "closures", lang, size, full_page=True)
        no_axe_violation(page)

        page.goto("/coordination/inbox")
        count = page.locator("[data-inbox-count]").first
        expect(count).to_be_attached()
        assert int(count.get_attribute("data-inbox-count")) >= 1
        if size == "desktop":
            expect(page.locator(".nav-wide [data-inbox-count]")).to_be_visible()
        else:  # the folded menu's button carries the count too
            expect(page.locator(".nav-narrow > summary .nav-count")).to_be_visible()
        expect(page.locator("h1")).to_have_text({"fr": "À traiter", "en": "Inbox"}[lang])
        row = page.locator(f"#closure-hits tr[data-booking='{booking['id']}']")
        expect(row).to_contain_text(title)
        shoot(page, "inbox", "inbox", lang, size, full_page=True)
        no_axe_violation(page)

        row.get_by_role("button", name={"fr": "Prévenir", "en": "Notify"}[lang]).click()
        expect(page.locator(".flash-success")).to_contain_text(
            {"fr": "1 message envoyé", "en": "1 message sent"}[lang])
        row = page.locator(f"#closure-hits tr[data-booking='{booking['id']}']")
        row.locator("summary").click()
        row.get_by_role("button", name={"fr": "Annuler la réservation",
                                        "en": "Cancel the booking"}[lang]).click()
        expect(page.locator(".flash-success")).to_contain_text(title)
        expect(page.locator(f"#closure-hits tr[data-booking='{booking['id']}']")
               ).to_have_count(0)
        status, answer = live_server.api("GET", f"/api/v1/bookings/{booking['id']}", None,
                                         live_server.token(JULIEN))
        assert answer["status"] == "cancelled", answer
        assert re.search(r"^(Fermeture|Closure)\W+Révision du robot", answer["cancel_reason"])
    finally:
        closure = live_server.query("SELECT id FROM closure WHERE reason = ?", reason)
        if closure:
            live_server.api("DELETE", f"/api/v1/closures/{closure[0][0]}", None,
                            live_server.token(COORD_ORLEANS))
