"""The calendars people use, in a real browser: the machine's day, week and
month, the keyboard in the grid, the booking panel, dragging, the site's
timeline with « trouver N h libres »; French and English, desktop and phone.

Dates: weeks 30 to 40 from today (no other browser test books that far), on
the Orléans cobot (ORL-COBOT-01: 08:00–18:00, slots of 30 min, at least 60).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    JULIEN,
    TUESDAY,
    WEDNESDAY,
    at,
    log_in,
    weekdays_from,
)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots" / "calendars"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
MONDAY, THURSDAY = 0, 3


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def english(new_context):
    """Switch a page to English; the switch is saved on Julien's account, so
    the account is given French back afterwards (other tests read French)."""
    switched = []

    def switch(page) -> None:
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        switched.append(page)

    yield switch
    for page in switched:
        page.goto("/dashboard")
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")


# API tokens, one per account and server: each new token is a login, and
# logins are rate limited per account (config.RATELIMIT_LOGIN_PER_ACCOUNT).
_TOKENS: dict[tuple[str, str], str] = {}


def token(live_server, email: str) -> str:
    key = (live_server.url, email)
    if key not in _TOKENS:
        _TOKENS[key] = live_server.token(email)
    return _TOKENS[key]


def cobot(live_server) -> int:
    return live_server.id_of("equipment", "code", "ORL-COBOT-01")


def book(live_server, day, start: int, end: int, title: str) -> int:
    status, answer = live_server.api(
        "POST", "/api/v1/bookings",
        {"equipment_id": cobot(live_server), "start": at(day, start), "end": at(day, end),
         "title": title, "purpose": "training"},
        token=token(live_server, JULIEN))
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
def test_the_grid_is_one_tab_stop_and_the_arrows_reach_tuesday_nine(page, login, live_server,
                                                                     language, english):
    (monday,) = weekdays_from(7 * 31, MONDAY)
    (tuesday,) = weekdays_from(7 * 31, TUESDAY)
    login(JULIEN)
    page.goto(f"/equipment/{cobot(live_server)}?week={monday.isoformat()}")
    if language == "en":
        english(page)
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
    shoot(page, f"week-keyboard-{language}-1366x768")
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
def test_a_booking_shows_its_title_and_opens_its_panel(page, login, live_server, language, english):
    (wednesday,) = weekdays_from(7 * 32, WEDNESDAY)
    title = f"Palettisation de flacons par le bras collaboratif, groupe du soir ({language})"
    booking = book(live_server, wednesday, 10 if language == "fr" else 14,
                   11 if language == "fr" else 15, title)
    login(JULIEN)
    page.goto(f"/equipment/{cobot(live_server)}?view=week&date={wednesday.isoformat()}")
    if language == "en":
        english(page)
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
    shoot(page, f"booking-panel-{language}-1366x768")
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
        token=token(live_server, "coord.orleans@plateforme.test"))
    assert status == 201, answer
    login(JULIEN)
    page.goto(f"/equipment/{cobot(live_server)}?view=day&date={thursday.isoformat()}")
    closure = page.locator("#week-calendar .cal-closure").filter(has_text="Contrôle du carter")
    expect(closure).to_be_visible()
    booking = page.locator("#week-calendar .cal-booking.is-clash")
    box, other = closure.bounding_box(), booking.bounding_box()
    assert box["x"] >= other["x"] + other["width"] - 1, "the closure hides under the booking"
    shoot(page, "closure-beside-booking-fr-1366x768")


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
@pytest.mark.parametrize("size", ["1366x768", "390x844"])
def test_day_week_and_month_views(new_context, live_server, language, size, english):
    width, height = (int(n) for n in size.split("x"))
    page = new_context(viewport={"width": width, "height": height}).new_page()
    log_in(page, JULIEN)
    if language == "en":
        english(page)
    week = [("fr", "1366x768"), ("en", "1366x768"), ("fr", "390x844"),
            ("en", "390x844")].index((language, size))
    (tuesday,) = weekdays_from(7 * (35 + week), TUESDAY)
    book(live_server, tuesday, 9, 10, f"Séance du mois ({language}, {size})")
    machine = cobot(live_server)
    for view in ("day", "week", "month"):
        page.goto(f"/equipment/{machine}?view={view}&date={tuesday.isoformat()}")
        no_page_scroll(page)
        shoot(page, f"{view}-{language}-{size}")
    # The month: the day's booking and its summary, a link to the day.
    cell = page.locator(f'#month-calendar td[data-date="{tuesday.isoformat()}"]')
    expect(cell).to_contain_text(f"Séance du mois ({language}, {size})")
    expect(cell.locator(".cal-month-state")).to_have_text(re.compile(r"\d"))
    cell.locator("a.cal-month-link").click()
    expect(page).to_have_url(re.compile(rf"view=day&date={tuesday.isoformat()}"))
    expect(page.locator("#week-calendar")).to_have_class(re.compile("cal-days-1"))
    if size == "390x844":
        # The week on a phone: only the chosen day's column is shown.
        page.goto(f"/equipment/{machine}?view=week&date={tuesday.isoformat()}")
        expect(page.locator("#week-calendar .cal-head:visible")).to_have_count(1)
        no_page_scroll(page)


@pytest.mark.parametrize(("language", "size"), [("fr", "1366x768"), ("en", "390x844")])
def test_the_site_timeline_finds_free_hours(new_context, live_server, language, size, english):
    width, height = (int(n) for n in size.split("x"))
    page = new_context(viewport={"width": width, "height": height}).new_page()
    log_in(page, JULIEN)
    if language == "en":
        english(page)
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
    shoot(page, f"site-free-hours-{language}-{size}")
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
