"""One session over several machines in a real browser (issue 13, part 1): the
form books two machines of Tours' faculty of pharmacy together and the booking
page lists the other; a range selected across two rows of the site's day, by
mouse and by keyboard, opens the form with both machines ticked.

Dates: weeks 27 and 45 from today, which no other browser test uses."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import BOOK, THURSDAY, weekdays_from

COORD_TOURS = "coord.tours@plateforme.test"  # the faculty of pharmacy's machines


def test_the_form_books_two_machines_as_one_session(page, login, live_server):
    hplc = live_server.id_of("equipment", "code", "TRS-HPLC-01")
    cleanroom = live_server.id_of("equipment", "code", "TRS-ZAC-01")
    # Within Claire Dubois' cleanroom certification (it ends some 215 days ahead).
    (day,) = weekdays_from(7 * 27, THURSDAY)
    title = "Contrôle qualité en séance sur deux machines"
    login(COORD_TOURS)
    page.goto(f"/bookings/new?equipment={hplc}&date={day.isoformat()}&start=09:00&end=11:00")
    page.locator("#title").fill(title)
    page.locator("#trainer").select_option(label="Claire Dubois")  # certified for both
    page.locator(f'#equipment_ids input[value="{cleanroom}"]').check()
    page.get_by_role("button", name=BOOK).click()

    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    rows = live_server.query("SELECT id, equipment_id, group_id FROM booking WHERE title = ? "
                             "ORDER BY id", title)
    assert [machine for _id, machine, _group in rows] == [hplc, cleanroom]
    assert rows[0][2] is not None
    assert rows[0][2] == rows[1][2]
    assert page.url.endswith(f"/bookings/{rows[0][0]}")
    session = page.locator("#session")
    expect(session.get_by_role("link", name="Suite en salle propre (ISO 7)")).to_have_attribute(
        "href", f"/bookings/{rows[1][0]}")


def test_a_range_across_two_rows_of_the_site_day_ticks_both(page, login, live_server):
    tours = live_server.id_of("establishment", "code", "TRS-PHA")
    reactor = live_server.id_of("equipment", "code", "TRS-REA-01")
    cleanroom = live_server.id_of("equipment", "code", "TRS-ZAC-01")
    (day,) = weekdays_from(7 * 45, THURSDAY)
    login(COORD_TOURS)
    site = f"/sites/{tours}?view=day&date={day.isoformat()}"

    def cell(machine: int, start: str):
        return page.locator(f'#site-day [data-free][data-lane="{machine}"][data-from="{start}"]')

    def lands_on_the_form_with_both() -> None:
        page.wait_for_url(re.compile(r"/bookings/new\?"))
        expect(page.locator("#equipment")).to_have_value(str(reactor))
        expect(page.locator("#start")).to_have_value("10:00")
        expect(page.locator("#end")).to_have_value("11:00")
        expect(page.locator(f'#equipment_ids input[value="{cleanroom}"]')).to_be_checked()
        expect(page.locator("#equipment_ids input:checked")).to_have_count(1)

    # The mouse: from the reactor's 10:00 down to the cleanroom's 10:30.
    page.goto(site)
    cell(reactor, "10:00").hover()
    page.mouse.down()
    cell(cleanroom, "10:30").hover()
    expect(page.locator("#site-day .is-selected")).to_have_count(4)
    page.mouse.up()
    lands_on_the_form_with_both()

    # The keyboard: Shift+→ along the reactor's row, Shift+↓ onto the cleanroom's.
    page.goto(site)
    cell(reactor, "10:00").focus()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    expect(page.locator("#site-day .is-selected")).to_have_count(4)
    page.keyboard.press("Enter")
    lands_on_the_form_with_both()
