"""What the browser tests share: demo accounts, dates that are free in the
demo campus, logging in through the real form, the two screen sizes, the
language switch and screenshots."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from playwright.sync_api import expect

PARIS = ZoneInfo("Europe/Paris")
DEMO_PASSWORD = "plateforme-demo"  # the published password of the demo accounts
JULIEN = "formateur@plateforme.test"  # trainer: cobot yes, cleanroom (GMP-ZAC) no
COORD_ORLEANS = "coord.orleans@plateforme.test"
COORD_CHARTRES = "coord.chartres@plateforme.test"
LIGERIENS = "contact@laboratoires-ligeriens.test"
TUESDAY, WEDNESDAY, THURSDAY = 1, 2, 3
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                   "has_touch": True}}

# Labels in French, the default, or in English while a catalogue lacks them.
BOOK = re.compile(r"^(Réserver|Book)$")
PREVIEW = re.compile(r"^(Aperçu|Prévisualiser|Preview)$")
CONFIRMED = re.compile(r"Confirmée|Confirmé|Confirmed")
PENDING = re.compile(r"En attente|Pending")


def today() -> date:
    return datetime.now(PARIS).date()


def weekdays_from(days_ahead: int, weekday: int, weeks: int = 1) -> list[date]:
    """``weeks`` consecutive same weekdays, the first at least ``days_ahead``
    days from today, none of them a French public holiday (the demo campus
    does not open on those)."""
    first = today() + timedelta(days=days_ahead)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    while True:
        run = [first + timedelta(weeks=n) for n in range(weeks)]
        if not any(day in holidays.France(years=day.year) for day in run):
            return run
        first += timedelta(weeks=1)


def at(day: date, hour: int, minute: int = 0) -> str:
    """An ISO time with its Paris offset, as the API wants."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).isoformat()


# Session cookies of the accounts logged in so far: the first login of each
# account goes through the form, later ones reuse its cookies (argon2 is slow
# on purpose, and the form has been exercised once already).
_COOKIES: dict[str, list[Any]] = {}


def log_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> Any:
    """Log in (through the login form the first time), and land on the dashboard."""
    if email in _COOKIES:
        page.context.add_cookies(_COOKIES[email])
        page.goto("/dashboard")
    else:
        page.goto("/auth/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        page.locator("form.form [type=submit]").click()
        page.wait_for_url(re.compile(r"/dashboard$"))
        _COOKIES[email] = page.context.cookies()
    assert page.url.endswith("/dashboard"), f"{email} could not log in: {page.url}"
    return page


def set_language(page: Any, lang: str) -> None:
    """Switch the page's language (the switch stores it on the account too)."""
    # The switch sits in the phone's folded menu: submit it without opening it.
    page.locator(f"form.lang-switch button[value={lang}]").first.evaluate("b => b.click()")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def shoot(page: Any, area: str, *name: str, full_page: bool = False) -> None:
    """Save screenshots/<area>/<name parts joined by "-">.png."""
    folder = SCREENSHOTS / area
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{'-'.join(name)}.png"), full_page=full_page)
