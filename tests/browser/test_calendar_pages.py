"""The calendar feeds page and the site calendars, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import JULIEN, weekdays_from


def test_trainer_makes_copies_and_revokes_a_calendar_link(page, login, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(JULIEN)
    page.goto("/calendars")
    page.locator("#target").select_option(label="Cellule de robotique collaborative (ORL-COBOT-01)")
    page.locator("#new-feed [type=submit]").click()

    page.wait_for_url(re.compile(r"/calendars#feed-\d+$"))
    feed = page.locator("#feeds > li").filter(has_text="ORL-COBOT-01")
    expect(feed).to_have_count(1)
    link = feed.locator("input[readonly]")
    expect(link).to_have_value(re.compile(
        re.escape(live_server.url) + r"/ical/[A-Za-z0-9_-]{43}\.ics$"))
    url = link.input_value()
    expect(feed.get_by_role("link", name=re.compile("Subscribe|S[’']abonner"))).to_have_attribute(
        "href", "webcal://" + url.split("://", 1)[1])

    copy = feed.locator("button[data-copy]")
    expect(copy).to_be_visible()  # shown by static/js/copy.js
    copy.click()
    expect(feed.locator(".copy-status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == url

    feed.get_by_role("link", name=re.compile("Revoke|Révoquer")).click()
    page.locator("form [type=submit].btn-danger").click()
    page.wait_for_url(re.compile(r"/calendars$"))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#feeds > li").filter(has_text="ORL-COBOT-01")).to_have_count(0)


def test_site_calendar_shows_every_machine_and_switches_site_and_view(page, login,
                                                                      live_server):
    tours = live_server.id_of("establishment", "code", "TRS-PHA")
    (day,) = weekdays_from(7, 0)
    login(JULIEN)
    page.goto(f"/sites/{tours}?view=day&date={day.isoformat()}")

    rows = page.locator("#site-day .site-machine").evaluate_all(
        "rows => rows.map(r => [r.dataset.code, r.classList.contains('is-component')])")
    line = rows.index(["TRS-LC-01", False])
    # The line's four components come right after it, indented.
    assert rows[line + 1:line + 5] == [[f"TRS-LC-01-{part}", True]
                                       for part in ("BOUCH", "ENCART", "ETIQ", "REMP")]
    assert ["TRS-ZAC-01", False] in rows

    page.locator("#view").select_option("week")
    page.get_by_role("button", name=re.compile("^(Show|Afficher)$")).click()
    expect(page.locator("#site-week")).to_be_visible()
    expect(page).to_have_url(re.compile(r"view=week"))

    orleans = live_server.id_of("establishment", "code", "ORL-LYC")
    page.locator("#site").select_option(str(orleans))
    page.get_by_role("button", name=re.compile("^(Show|Afficher)$")).click()
    expect(page.locator("h1")).to_have_text("Lycée Val de Loire — métiers de la chimie")
    expect(page.locator("#site-week tbody tr")).to_have_count(1)
    expect(page.locator("#site-week")).to_contain_text("Cellule de robotique collaborative")

    page.get_by_role("link", name=re.compile("Next week|Semaine suivante")).click()
    expect(page).to_have_url(re.compile(r"date=\d{4}-\d{2}-\d{2}"))
    expect(page.locator("#site-week")).to_be_visible()
