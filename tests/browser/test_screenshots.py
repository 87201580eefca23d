"""Screenshots of the main pages at phone and desktop widths, into
screenshots/ (git-ignored), to look at after a change. The test also checks
that each page answers and that the calendar pages fit a phone's width (their
wide grids scroll inside their own frame, not the whole page)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import ROOT
from tests.browser.helpers import JULIEN, log_in, today, weekdays_from

SHOTS = ROOT / "screenshots"
SIZES = {"phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                   "has_touch": True},
         "desktop": {"viewport": {"width": 1280, "height": 900}}}
# Pages of this suite's own blueprints: they must never widen the page on a phone.
MUST_FIT = {"calendars", "site-day", "site-week", "sites"}


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_main_pages(new_context, live_server, size):
    SHOTS.mkdir(exist_ok=True)
    page = new_context(**SIZES[size]).new_page()
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    tours = live_server.id_of("establishment", "code", "TRS-PHA")
    (tuesday,) = weekdays_from(7, 1)
    monday = today() - timedelta(days=today().weekday()) + timedelta(weeks=1)
    pages = {
        "dashboard": "/dashboard",
        "catalogue": "/equipment",
        "equipment": f"/equipment/{cobot}?week={tuesday.isoformat()}",
        "booking-form": f"/bookings/new?equipment={cobot}&date={tuesday.isoformat()}"
                        "&start=09:00&end=12:00",
        "my-bookings": "/bookings/mine",
        "calendars": "/calendars",
        "sites": "/sites",
        "site-day": f"/sites/{tours}?view=day&date={monday.isoformat()}",
        "site-week": f"/sites/{tours}?view=week&date={monday.isoformat()}",
    }
    token = live_server.token(JULIEN)
    julien = live_server.id_of("user_account", "email", JULIEN)
    status, feeds = live_server.api("GET", "/api/v1/feeds", token=token)
    assert status == 200, feeds
    if not feeds["items"]:  # a calendar link, so that its page shows one
        status, answer = live_server.api("POST", "/api/v1/feeds",
                                         {"scope": "trainer", "scope_id": julien}, token)
        assert status == 201, answer
    too_wide = []

    def shoot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if name in MUST_FIT and width > SIZES[size]["viewport"]["width"]:
            too_wide.append(f"{name}: {width}px")

    page.goto("/auth/login")
    shoot("login")
    log_in(page, JULIEN)
    for name, path in pages.items():
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, f"{path} answered {answer.status}"
        shoot(name)
    assert not too_wide, f"pages wider than the {size} screen: {too_wide}"
