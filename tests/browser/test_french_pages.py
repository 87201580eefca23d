"""A refused booking read in French and in English (issue 11), on a desktop
(1366×768) and a phone (390×844): the day written in words in the reader's
language (« vendredi 1er janvier », "Friday 1 January"), the holiday's own name
in that language, a no-break space before the French colon, never an ISO date.

A refusal writes nothing, so the day (the next weekday public holiday, the
first of a month when one comes) is shared safely with other tests."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from booking.labels import format_day
from booking.services.equipment.hours import holiday_name
from tests.browser.helpers import BOOK, JULIEN, shoot, today

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
NBSP = "\u00a0"


def next_weekday_holiday() -> date:
    """The next public holiday on a weekday, a week ahead at least: the first
    of a month if one comes within the booking horizon (« 1er »)."""
    days = [today() + timedelta(days=n) for n in range(7, 380)]
    found = [d for d in days if d.weekday() < 5 and holiday_name(d) is not None]
    return next((d for d in found if d.day == 1), found[0])


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_refused_booking_reads_as_the_readers_language(open_page, live_server, lang,
                                                         size) -> None:
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    day = next_weekday_holiday()
    page = open_page(JULIEN, lang, size)
    page.goto(f"/bookings/new?equipment={cobot}&date={day.isoformat()}&start=09:00")
    title = f"Jour férié — {lang} {size}"
    page.locator("#end").fill("11:00")  # no end is offered on a day that does not open
    page.locator("#title").fill(title)
    page.get_by_role("button", name=BOOK).click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    name = holiday_name(day, "fr" if lang == "fr" else "en_US")
    words = {"fr": f"{format_day(day, 'fr')} est un jour férié ({name}){NBSP}:",
             "en": f"{format_day(day, 'en')} is a public holiday ({name}):"}[lang]
    expect(summary).to_contain_text(words)
    text = summary.inner_text()
    assert not ISO_DAY.search(text), text
    if day.day == 1 and lang == "fr":
        assert "1er " in text, text
    other = holiday_name(day, "en_US" if lang == "fr" else "fr")
    if other != name:
        assert other not in text, text
    shoot(page, "french", "refusal", lang, size)
    assert live_server.query("SELECT id FROM booking WHERE title = ?", title) == []
