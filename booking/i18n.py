"""Language and time-zone choices, and the Jinja helpers that show local times."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask import Flask, current_app, has_request_context, session
from flask_babel import format_time, get_locale
from flask_login import current_user

from booking import labels


def select_locale() -> str:
    """The language chosen with the switch, else the account's, else French."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, jobs: the campus language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def display_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def local_datetime(value: datetime | None, fmt: str = "short") -> str:
    """In the display zone: a style of booking.labels ("short" for tables, "long"
    for sentences) or a Babel pattern, « 1er » included."""
    if value is None:
        return ""
    local = value.astimezone(display_zone())
    if fmt in labels.STYLES:
        style = "long" if fmt in ("long", "full") else "short"
        return labels.format_when(local, get_locale() or "en", style)
    return labels.format_pattern(local, fmt, get_locale() or "en")


def local_when(value: datetime) -> str:
    """An aware datetime in the zone it carries (give it the equipment's), in the
    page's language: « jeudi 10 décembre 2026 à 14:00 »; for flashed messages."""
    return labels.format_when(value, get_locale() or "en")


def local_time(value: datetime | None, fmt: str = "HH:mm") -> str:
    if value is None:
        return ""
    return format_time(value, labels.CLOCK if fmt in labels.STYLES else fmt)


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(display_zone()).date()
    return labels.format_pattern(value, fmt, get_locale() or "en")


def local_day_names() -> list[str]:
    """Abbreviated weekday names in the page's language, Monday first."""
    names = get_day_names("abbreviated", locale=get_locale())
    return [names[day] for day in range(7)]


def init_templates(app: Flask) -> None:
    app.jinja_env.filters.update(
        local_datetime=local_datetime, local_time=local_time, local_date=local_date
    )

    def has_endpoint(name: str) -> bool:
        return name in app.view_functions

    # ``labels``: the one place for enumeration labels (labels.ROLE_LABELS, ...).
    app.jinja_env.globals.update(get_locale=get_locale, has_endpoint=has_endpoint,
                                 labels=labels)
