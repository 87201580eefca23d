"""The calendars people use, in a real browser: the machine's day, week and
month, the keyboard in the grid, the booking panel, dragging, the site's
timeline with « trouver N h libres »; French and English, desktop and phone.

Dates: weeks 30 to 40 from today (no other browser test books that far), on
the Orléans cobot (ORL-COBOT-01: 08:00–18:00, slots of 30 min, at least 60).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    COORD_ORLEANS,
    JULIEN,
    SIZES,
    TUESDAY,
    WEDNESDAY,
    at,
    shoot,
    weekdays_from,
)

MONDAY, THURSDAY = 0, 3


def pixels(size: str) -> str:
    """A key of SIZES as this area's screenshots name it: 1366x768."""
    viewport = SIZES[size]["viewport"]
    return f"{viewport['width']}x{viewport['height']}"


def cobot(live_server) -> int:
    return live_server.id_of("equipment", "code", "ORL-COBOT-01")


def book(live_server, day, start: int, end: int, title: str) -> int:
    status, answer = live_server.api(
        "POST", "/api/v1/bookings",
        {"equipment_id": cobot(live_server), "start": at(day, start), "end": at(day, end),
         "title": title, "purpose": "training"},
        token=live_server.token(JULIEN))
    assert status == 201, answer
    return answer["id"]


def no_page_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        "the page scrolls sideways"


def test_the_week_offers_only_starts_that_hold_the_minimum(page, login, live_server):
    (monday,) = weekdays_from(7 * 30, MONDAY)
    login(JULIEN)
    page.goto(f"/equipment/{cobot(live_server)}?week={monday.isoformat()}")
    day = f'#week-calendar [data-date="{monday.isoformat()}"]'
    expect(page.locator(f'{day}[data-from="17:00"]')).to_have_attribute("href", re.compile(
        r"start=17(:|%3A)00"))
    # 17:30 is free, but an hour from 17:30 ends after the 18:00 close.
    expect(page.locator(f'{day}[data-from="17:30"]')).to_have_class(re.compile("is-short"))
    expect(page.locator(f'a{day}[data-from="17:30"]')).to_have_count(0)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_grid_is_one_tab_stop_and_the_arrows_reach_tuesday_nine(open_page, live_server,
                                                                     language):
    (monday,) = weekdays_from(7 * 31, MONDAY)
    (tuesday,) = weekdays_from(7 * 31, TUESDAY)
    page = open_page(JULIEN, language, "desktop")
    page.goto(f"/equipment/{cobot(live_server)}?week={monday.isoformat()}")
    go = page.locator("#calendar form.inline-form button[type=submit]")
    go.focus()
    page.keyboard.press("Tab")
    focused = page.locator("#week-calendar :focus")
    expect(focused).to_have_attribute("data-from", "08:00")
    expect(focused).to_have_attribute("data-date", monday.isoformat())
    page.keyboard.press("ArrowRight")
    for _ in range(2):
        page.keyboard.press("ArrowDown")
    expect(focused).to_have_attribute("data-date", tuesday.isoformat())
    expect(focused).to_have_attribute("data-from", "09:00")
    shoot(page, "calendars", "week-keyboard", language, pixels("desktop"), full_page=True)
    # One Tab leaves the grid: it was a single stop.
    page.keyboard.press("Tab")
    assert page.evaluate(
        "!document.querySelector('#week-calendar').contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    expect(focused).to_have_attribute("data-from", "09:00")
    # Shift + arrows select a range (09:00–11:00), Enter books it.
    for _ in range(3):
        page.keyboard.press("Shift+ArrowDown")
    expect(page.locator("#week-calendar .is-selected")).to_have_count(4)
    expect(page.locator("#cal-status")).to_contain_text("09:00–11:00")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/bookings/new\?"))
    expect(page.locator("#day")).to_have_value(tuesday.isoformat())
    expect(page.locator("#start")).to_have_value("09:00")
    expect(page.locator("#end")).to_have_value("11:00")

    # Enter alone on a start: the form with the machine's minimum duration.
    page.go_back()
    page.locator(f'#week-calendar a[data-date="{tuesday.isoformat()}"][data-from="14:00"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"start=14"))
    expect(page.locator("#end")).to_have_value("15:00")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_booking_shows_its_title_and_opens_its_panel(open_page, live_server, language):
    (wednesday,) = weekdays_from(7 * 32, WEDNESDAY)
    title = f"Palettisation de flacons par le bras collaboratif, groupe du soir ({language})"
    booking = book(live_server, wednesday, 10 if language == "fr" else 14,
                   11 if language == "fr" else 15, title)
    page = open_page(JULIEN, language, "desktop")
    page.goto(f"/equipment/{cobot(live_server)}?view=week&date={wednesday.isoformat()}")
    block = page.locator(f'#week-calendar a.cal-booking[href="/bookings/{booking}"]')
    expect(block).to_have_attribute("title", re.compile(re.escape(title)))
    block.focus()
    expect(block.locator(".cal-tip")).to_be_visible()
    expect(block.locator(".cal-tip")).to_contain_text(title)
    block.click()
    panel = page.locator("#booking-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h3")).to_have_text(title)
    expect(panel).to_contain_text("Julien Moreau")
    expect(panel.locator('[data-action="move"]')).to_have_attribute(
        "href", f"/bookings/{booking}/move")
    expect(panel.locator('[data-action="cancel"]')).to_be_visible()
    shoot(page, "calendars", "booking-panel", language, pixels("desktop"), full_page=True)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(block).to_be_focused()


def test_a_closure_over_a_booking_is_visible_beside_it(page, login, live_server):
    (thursday,) = weekdays_from(7 * 32, THURSDAY)
    book(live_server, thursday, 9, 12, "Séance sous une fermeture")
    status, answer = live_server.api(
        "POST", "/api/v1/closures",
        {"equipment_id": cobot(live_server), "start": at(thursday, 10), "end": at(thursday, 11),
         "reason": "Contrôle du carter", "kind": "maintenance"},
        token=live_server.token(COORD_ORLEANS))
    assert status == 201, answer
    login(JULIEN)
    page.goto(f"/equipment/{cobot(live_server)}?view=day&date={thursday.isoformat()}")
    closure = page.locator("#week-calendar .cal-closure").filter(has_text="Contrôle du carter")
    expect(closure).to_be_visible()
    booking = page.locator("#week-calendar .cal-booking.is-clash")
    box, other = closure.bounding_box(), booking.bounding_box()
    assert box["x"] >= other["x"] + other["width"] - 1, "the closure hides under the booking"
    shoot(page, "calendars", "closure-beside-booking-fr-1366x768", full_page=True)


def test_dragging_free_cells_opens_the_form_with_that_range(page, login, live_server):
    (wednesday,) = weekdays_from(7 * 33, WEDNESDAY)
    login(JULIEN)
    page.goto(f"/equipment/{cobot(live_server)}?view=day&date={wednesday.isoformat()}")
    first = page.locator('#week-calendar [data-from="10:00"]')
    last = page.locator('#week-calendar [data-from="11:30"]')
    first.hover()
    page.mouse.down()
    last.hover()
    expect(page.locator("#week-calendar .is-selected")).to_have_count(4)
    page.mouse.up()
    page.wait_for_url(re.compile(r"/bookings/new\?"))
    expect(page.locator("#day")).to_have_value(wednesday.isoformat())
    expect(page.locator("#start")).to_have_value("10:00")
    expect(page.locator("#end")).to_have_value("12:00")


def test_dragging_a_booking_moves_it_through_the_move_route(page, login, live_server):
    (thursday,) = weekdays_from(7 * 34, THURSDAY)
    booking = book(live_server, thursday, 9, 10, "Séance déplacée à la souris")
    blocker = book(live_server, thursday, 14, 16, "Séance qui bloque")
    login(JULIEN)
    url = f"/equipment/{cobot(live_server)}?view=day&date={thursday.isoformat()}"
    page.goto(url)
    block = page.locator(f'#week-calendar a[data-booking="{booking}"]')
    row = page.locator("#week-calendar .cal-time").first.bounding_box()["height"]
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 10, box["y"] + 5 + row * 2, steps=5)  # one hour later
    page.mouse.up()
    page.wait_for_url(re.compile(r"/bookings/mine"))
    expect(page.locator(".flash-success")).to_be_visible()
    (start,) = live_server.query("SELECT start_at FROM booking WHERE id = ?", booking)[0]
    moved = datetime.fromisoformat(at(thursday, 10)).astimezone(UTC)
    assert str(start).startswith(moved.strftime("%Y-%m-%d %H:%M")), start  # stored in UTC

    # Onto the other booking: refused by the same rules, nothing written.
    page.goto(url)
    block = page.locator(f'#week-calendar a[data-booking="{booking}"]')
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + 10, box["y"] + 5 + row * 8, steps=5)  # 14:00
    page.mouse.up()
    page.wait_for_url(re.compile(rf"/bookings/{booking}/move$"))
    expect(page.locator("[role=alert]").first).to_be_visible()
    assert live_server.query("SELECT start_at FROM booking WHERE id = ?", booking)[0] == (start,)
    assert blocker


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_day_week_and_month_views(open_page, live_server, language, size):
    page = open_page(JULIEN, language, size)
    week = [("fr", "desktop"), ("en", "desktop"), ("fr", "phone"),
            ("en", "phone")].index((language, size))
    (tuesday,) = weekdays_from(7 * (35 + week), TUESDAY)
    title = f"Séance du mois ({language}, {pixels(size)})"
    book(live_server, tuesday, 9, 10, title)
    machine = cobot(live_server)
    for view in ("day", "week", "month"):
        page.goto(f"/equipment/{machine}?view={view}&date={tuesday.isoformat()}")
        no_page_scroll(page)
        shoot(page, "calendars", view, language, pixels(size), full_page=True)
    # The month: the day's booking and its summary, a link to the day.
    cell = page.locator(f'#month-calendar td[data-date="{tuesday.isoformat()}"]')
    expect(cell).to_contain_text(title)
    expect(cell.locator(".cal-month-state")).to_have_text(re.compile(r"\d"))
    cell.locator("a.cal-month-link").click()
    expect(page).to_have_url(re.compile(rf"view=day&date={tuesday.isoformat()}"))
    expect(page.locator("#week-calendar")).to_have_class(re.compile("cal-days-1"))
    if size == "phone":
        # The week on a phone: only the chosen day's column is shown.
        page.goto(f"/equipment/{machine}?view=week&date={tuesday.isoformat()}")
        expect(page.locator("#week-calendar .cal-head:visible")).to_have_count(1)
        no_page_scroll(page)


@pytest.mark.parametrize(("language", "size"), [("fr", "desktop"), ("en", "phone")])
def test_the_site_timeline_finds_free_hours(open_page, live_server, language, size):
    page = open_page(JULIEN, language, size)
    orleans = live_server.id_of("establishment", "code", "ORL-LYC")
    (monday,) = weekdays_from(7 * 39, MONDAY)
    page.goto(f"/sites/{orleans}?view=day&date={monday.isoformat()}")
    expect(page.locator("#site-day .site-machine")).not_to_have_count(0)
    page.locator("#hours").fill("3")
    page.locator("#free_from").fill(monday.isoformat())
    page.locator("#free_to").fill(monday.isoformat())
    page.locator("#free-finder [type=submit]").click()
    results = page.locator("#free-results li")
    expect(results.first).to_contain_text("08:00")
    no_page_scroll(page)
    shoot(page, "calendars", "site-free-hours", language, pixels(size), full_page=True)
    results.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/bookings/new\?"))
    expect(page.locator("#start")).to_have_value("08:00")
    expect(page.locator("#end")).to_have_value("11:00")


def test_the_site_day_has_the_panel_the_keyboard_and_drag_selection(page, login, live_server):
    orleans = live_server.id_of("establishment", "code", "ORL-LYC")
    (tuesday,) = weekdays_from(7 * 40, TUESDAY)
    title = "Séance vue depuis le site"
    booking = book(live_server, tuesday, 10, 11, title)
    login(JULIEN)
    page.goto(f"/sites/{orleans}?view=day&date={tuesday.isoformat()}")
    block = page.locator(f'#site-day a[data-booking="{booking}"]')
    block.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#booking-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h3")).to_have_text(title)
    page.keyboard.press("Escape")
    expect(block).to_be_focused()
    # Along the machine's row: the next free step after the booking's changeover.
    page.keyboard.press("ArrowRight")
    focused = page.locator("#site-day :focus")
    expect(focused).to_have_attribute("data-from", "11:30")

    lane = f'[data-lane="{cobot(live_server)}"]'
    first = page.locator(f'#site-day a[data-free][data-from="13:00"]{lane}')
    last = page.locator(f'#site-day [data-free][data-from="14:30"]{lane}')
    first.hover()
    page.mouse.down()
    last.hover()
    page.mouse.up()
    page.wait_for_url(re.compile(r"/bookings/new\?"))
    expect(page.locator("#start")).to_have_value("13:00")
    expect(page.locator("#end")).to_have_value("15:00")
