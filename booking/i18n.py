"""Language and time-zone choices, the Jinja helpers that show local times, and
the formatting of translated messages (French « d’ » before a vowel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask import Flask, current_app, has_request_context, session
from flask_babel import Domain, format_time, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

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


# -- French « d’ » where a value follows « de » (labels.elide_de) -------------------
#
# Flask-Babel formats a message in two places, its domain (``gettext`` in Python,
# hence lazy strings and DomainError messages) and the callables it gives Jinja;
# both are replaced so that every message with parameters is elided the same way.


def _formatted(message: str, values: dict[str, Any]) -> str:
    return labels.elide_de(message, values, get_locale()) % values


class ElidingDomain(Domain):
    """Flask-Babel's domain (see extensions.Babel), formatting with elision."""

    def gettext(self, string: str, **variables: Any) -> str:
        message = self.get_translations().ugettext(string)
        return _formatted(message, variables) if variables else message

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _formatted(self.get_translations().ungettext(singular, plural, num), variables)

    def pgettext(self, context: str, string: str, **variables: Any) -> str:
        message = self.get_translations().upgettext(context, string)
        return _formatted(message, variables) if variables else message

    def npgettext(self, context: str, singular: str, plural: str, num: int,
                  **variables: Any) -> str:
        variables.setdefault("num", num)
        message = self.get_translations().unpgettext(context, singular, plural, num)
        return _formatted(message, variables)


def _new_style(lookup: Callable[..., str], *names: str | None) -> Callable[..., str]:
    """A template's ``gettext`` as Jinja's new style makes it (the message marked
    safe in an autoescaped template so its values are escaped, then always
    formatted; ``names`` give positional arguments as values too, ``num``),
    elided first."""

    @pass_context
    def call(context: Context, *args: Any, **variables: Any) -> str:
        for name, value in zip(names, args, strict=False):
            if name:
                variables.setdefault(name, value)
        message = lookup(*args)
        if context.eval_ctx.autoescape:
            message = Markup(message)  # noqa: S704 - the catalogue's, as Jinja does
        return _formatted(message, variables)

    return call


def _install_template_gettext(app: Flask) -> None:
    # Over the callables babel.init_app installed (Jinja's ``_`` resolves ``gettext``).
    app.jinja_env.globals.update(
        gettext=_new_style(lambda s: get_translations().ugettext(s)),
        ngettext=_new_style(lambda s, p, n: get_translations().ungettext(s, p, n),
                            None, None, "num"),
        pgettext=_new_style(lambda c, s: get_translations().upgettext(c, s), "context"),
        npgettext=_new_style(lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
                             "context", None, None, "num"),
    )


def init_templates(app: Flask) -> None:
    _install_template_gettext(app)
    app.jinja_env.filters.update(
        local_datetime=local_datetime, local_time=local_time, local_date=local_date,
        # Cents, basis points and hundredths in the reader's locale (labels.money, ...).
        money=lambda cents: labels.money(cents, get_locale()),
        rate=lambda bp: labels.rate(bp, get_locale()),
        quantity=lambda hundredths: labels.quantity(hundredths, get_locale()),
    )

    def has_endpoint(name: str) -> bool:
        return name in app.view_functions

    # ``labels``: the one place for enumeration labels (labels.ROLE_LABELS, ...).
    app.jinja_env.globals.update(get_locale=get_locale, has_endpoint=has_endpoint,
                                 labels=labels)
