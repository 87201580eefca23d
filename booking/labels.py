"""What readers see of values: the label of every enumeration shown to users,
and dates and times written in the reader's language.

The enumerations' values are the API's (API.md) and stay in JSON and in error
details; pages, forms, e-mails and domain error messages show these labels
instead, so a status never leaks its raw value into a French sentence. Each
label is lazy (translated when shown) and carries a context, because French
agrees it with its noun: a booking is « Annulée », a project « Annulé ».

Dates and times are formatted by Babel in the reader's locale and in the zone
the value carries (the equipment's), never with strftime or ISO, in one style:
« jeudi 10 décembre 2026 à 14:00 » in French, "Thursday 10 December 2026, 14:00"
in English (see the styles below).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from flask_babel import lazy_pgettext as _lp

from models.agreement import AgreementStatus
from models.attendance import HalfDay, LearnerPublic, Presence
from models.enums import (
    BookingPurpose,
    BookingStatus,
    CertificationRequestStatus,
    ClosureKind,
    EquipmentCategory,
    EquipmentStatus,
    EstablishmentKind,
    FeedScope,
    ProjectStatus,
    Role,
)
from models.kiosk import KioskScope
from models.pricing import PriceKind, Public
from models.project import Sector
from models.quote import QuoteStatus
from models.satisfaction import Respondent
from models.waitlist import WaitlistStatus

BOOKING_STATUS_LABELS = {
    BookingStatus.PENDING: _lp("booking status", "Pending"),
    BookingStatus.CONFIRMED: _lp("booking status", "Confirmed"),
    BookingStatus.CANCELLED: _lp("booking status", "Cancelled"),
    BookingStatus.REJECTED: _lp("booking status", "Rejected"),
    BookingStatus.EXPIRED: _lp("booking status", "Expired"),
    BookingStatus.COMPLETED: _lp("booking status", "Completed"),
    BookingStatus.NO_SHOW: _lp("booking status", "No-show"),
}

WAITLIST_STATUS_LABELS = {
    WaitlistStatus.WAITING: _lp("waiting list status", "Waiting"),
    WaitlistStatus.OFFERED: _lp("waiting list status", "Offered"),
    WaitlistStatus.CLAIMED: _lp("waiting list status", "Booked"),
    WaitlistStatus.EXPIRED: _lp("waiting list status", "Expired"),
    WaitlistStatus.CANCELLED: _lp("waiting list status", "Withdrawn"),
}

KIOSK_SCOPE_LABELS = {
    KioskScope.EQUIPMENT: _lp("kiosk scope", "Machine"),
    KioskScope.ESTABLISHMENT: _lp("kiosk scope", "Site"),
}

PROJECT_STATUS_LABELS = {
    ProjectStatus.REQUESTED: _lp("project status", "Awaiting approval"),
    ProjectStatus.APPROVED: _lp("project status", "Approved"),
    ProjectStatus.SCHEDULED: _lp("project status", "Scheduled"),
    ProjectStatus.IN_PROGRESS: _lp("project status", "In progress"),
    ProjectStatus.COMPLETED: _lp("project status", "Completed"),
    ProjectStatus.REJECTED: _lp("project status", "Rejected"),
    ProjectStatus.CANCELLED: _lp("project status", "Cancelled"),
}

PURPOSE_LABELS = {
    BookingPurpose.TRAINING: _lp("booking purpose", "Training"),
    BookingPurpose.INDUSTRIAL_PROJECT: _lp("booking purpose", "Industrial project"),
    BookingPurpose.DISCOVERY_WORKSHOP: _lp("booking purpose", "Discovery workshop"),
    BookingPurpose.MAINTENANCE: _lp("booking purpose", "Maintenance"),
    BookingPurpose.OTHER: _lp("booking purpose", "Other"),
}

EQUIPMENT_STATUS_LABELS = {
    EquipmentStatus.ACTIVE: _lp("equipment status", "Active"),
    EquipmentStatus.MAINTENANCE: _lp("equipment status", "In maintenance"),
    EquipmentStatus.RETIRED: _lp("equipment status", "Retired"),
}

CATEGORY_LABELS = {
    EquipmentCategory.PILOT_LINE: _lp("equipment category", "Pilot line"),
    EquipmentCategory.TRAINING_EQUIPMENT: _lp("equipment category", "Training equipment"),
    EquipmentCategory.ANALYSIS_INSTRUMENT: _lp("equipment category", "Analysis instrument"),
    EquipmentCategory.ROOM: _lp("equipment category", "Room"),
    EquipmentCategory.OTHER: _lp("equipment category", "Other"),
}

CLOSURE_KIND_LABELS = {
    ClosureKind.MAINTENANCE: _lp("closure kind", "Maintenance"),
    ClosureKind.HOLIDAYS: _lp("closure kind", "School holidays"),
    ClosureKind.SHUTDOWN: _lp("closure kind", "Shutdown"),
    ClosureKind.OTHER: _lp("closure kind", "Other"),
}

ROLE_LABELS = {
    Role.ADMIN: _lp("role", "Administrator"),
    Role.COORDINATOR: _lp("role", "Coordinator"),
    Role.TRAINER: _lp("role", "Trainer"),
    Role.COMPANY: _lp("role", "Company"),
}

KIND_LABELS = {
    EstablishmentKind.LYCEE: _lp("establishment kind", "High school"),
    EstablishmentKind.UNIVERSITE: _lp("establishment kind", "University"),
    EstablishmentKind.ECOLE: _lp("establishment kind", "Higher-education school"),
    EstablishmentKind.ORGANISME_FORMATION: _lp("establishment kind", "Training institute"),
    EstablishmentKind.ENTREPRISE: _lp("establishment kind", "Company"),
}

REQUEST_STATUS_LABELS = {
    CertificationRequestStatus.REQUESTED: _lp("certification request status", "Requested"),
    CertificationRequestStatus.GRANTED: _lp("certification request status", "Granted"),
    CertificationRequestStatus.DECLINED: _lp("certification request status", "Declined"),
}

SCOPE_LABELS = {
    FeedScope.TRAINER: _lp("feed scope", "Trainer agenda"),
    FeedScope.PROJECT: _lp("feed scope", "Industrial project"),
    FeedScope.COMPANY: _lp("feed scope", "Company"),
    FeedScope.EQUIPMENT: _lp("feed scope", "Equipment"),
    FeedScope.ESTABLISHMENT: _lp("feed scope", "Establishment"),
}

PUBLIC_LABELS = {
    Public.OWN: _lp("price public", "Own establishment"),
    Public.CAMPUS: _lp("price public", "Other establishment of the campus"),
    Public.ACADEMIC: _lp("price public", "Academic partner"),
    Public.COMPANY: _lp("price public", "Company"),
    Public.JOB_SEEKERS: _lp("price public", "Job seekers' programme"),
}

PRICE_KIND_LABELS = {
    PriceKind.MACHINE_HOUR: _lp("price kind", "Machine hour"),
    PriceKind.TRAINER_HOUR: _lp("price kind", "Trainer hour"),
    PriceKind.CONSUMABLE: _lp("price kind", "Consumable"),
    PriceKind.FLAT_FEE: _lp("price kind", "Flat fee"),
}

QUOTE_STATUS_LABELS = {
    QuoteStatus.DRAFT: _lp("quote status", "Draft"),
    QuoteStatus.ISSUED: _lp("quote status", "Awaiting the company's answer"),
    QuoteStatus.ACCEPTED: _lp("quote status", "Accepted"),
    QuoteStatus.DECLINED: _lp("quote status", "Declined"),
    QuoteStatus.SUPERSEDED: _lp("quote status", "Superseded"),
}

AGREEMENT_STATUS_LABELS = {
    AgreementStatus.GENERATED: _lp("agreement status", "To sign"),
    AgreementStatus.SIGNED: _lp("agreement status", "Signed"),
    AgreementStatus.CANCELLED: _lp("agreement status", "Cancelled"),
}

LEARNER_PUBLIC_LABELS = {
    LearnerPublic.APPRENTICE: _lp("learner public", "Apprentice"),
    LearnerPublic.STUDENT: _lp("learner public", "Student"),
    LearnerPublic.EMPLOYEE: _lp("learner public", "Employee"),
    LearnerPublic.JOB_SEEKER: _lp("learner public", "Job seeker"),
}

HALF_DAY_LABELS = {
    HalfDay.MORNING: _lp("half-day", "Morning"),
    HalfDay.AFTERNOON: _lp("half-day", "Afternoon"),
}

PRESENCE_LABELS = {
    Presence.PRESENT: _lp("attendance", "Present"),
    Presence.LATE: _lp("attendance", "Late"),
    Presence.ABSENT: _lp("attendance", "Absent"),
}

RESPONDENT_LABELS = {
    Respondent.CONTACT: _lp("survey respondent", "Company contact"),
    Respondent.LEARNER: _lp("survey respondent", "Learner"),
}

SECTOR_LABELS = {
    Sector.COSMETICS: _lp("sector", "Cosmetics"),
    Sector.PHARMACEUTICAL: _lp("sector", "Pharmaceutical"),
    Sector.OTHER: _lp("sector", "Other"),
}

LABELS: Mapping[type[Enum], Mapping[Any, Any]] = {
    BookingStatus: BOOKING_STATUS_LABELS,
    ProjectStatus: PROJECT_STATUS_LABELS,
    BookingPurpose: PURPOSE_LABELS,
    EquipmentStatus: EQUIPMENT_STATUS_LABELS,
    EquipmentCategory: CATEGORY_LABELS,
    ClosureKind: CLOSURE_KIND_LABELS,
    Role: ROLE_LABELS,
    EstablishmentKind: KIND_LABELS,
    CertificationRequestStatus: REQUEST_STATUS_LABELS,
    FeedScope: SCOPE_LABELS,
    WaitlistStatus: WAITLIST_STATUS_LABELS,
    KioskScope: KIOSK_SCOPE_LABELS,
    Public: PUBLIC_LABELS,
    PriceKind: PRICE_KIND_LABELS,
    QuoteStatus: QUOTE_STATUS_LABELS,
    AgreementStatus: AGREEMENT_STATUS_LABELS,
    LearnerPublic: LEARNER_PUBLIC_LABELS,
    HalfDay: HALF_DAY_LABELS,
    Presence: PRESENCE_LABELS,
    Respondent: RESPONDENT_LABELS,
    Sector: SECTOR_LABELS,
}


def label(value: Enum) -> Any:
    """The lazy label of an enumeration's value (its raw value if it has none)."""
    return LABELS.get(type(value), {}).get(value, value.value)


# -- dates and times in the reader's language ------------------------------------
#
# One style in both languages, day before month, 24-hour clock, in two lengths:
#   long, in sentences (messages, flashes, e-mails):
#       « jeudi 10 décembre 2026 à 14:00 », "Thursday 10 December 2026, 14:00"
#   short, in tables, grids and lists:
#       « jeu. 10 déc. 2026, 14:00 », "Thu 10 Dec 2026, 14:00"
# French writes the first of a month « 1er » wherever the day number shows.

DAY_LONG = "EEEE d MMMM y"
DAY_SHORT = "EEE d MMM y"
CLOCK = "HH:mm"
STYLES = {"long": DAY_LONG, "full": DAY_LONG, "short": DAY_SHORT, "medium": DAY_SHORT}
_QUOTED = re.compile(r"('[^']*')")
_DAY_FIELD = re.compile(r"(?<!d)d(?!d)")


@dataclass(frozen=True)
class Span:
    """From ``start`` to ``end`` (aware, in the zone to show), written as one
    interval: « jeudi 10 décembre 2026 de 14:00 à 16:00 »; the sentence gives
    its preposition (« le %(when)s »)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Period(Span):
    """A span that carries its own preposition, right whether it holds one day
    or several: « le jeudi 10 décembre 2026 de 14:00 à 16:00 », « du jeudi 10
    décembre 2026 à 22:00 au vendredi 11 décembre 2026 à 02:00 »; "on Thursday
    10 December 2026, 14:00–16:00", "from … to …"."""


def day_pattern(pattern: str, day: int, locale: Locale | str) -> str:
    """``pattern`` (a Babel date pattern or a style name) with the French ordinal
    of the first of the month: « 1er décembre », never « 1 décembre »."""
    pattern = STYLES.get(pattern, pattern)
    if day != 1 or Locale.parse(locale).language != "fr":
        return pattern
    parts = _QUOTED.split(pattern)  # quoted literals are left alone
    return "".join(part if part.startswith("'") else _DAY_FIELD.sub("d'er'", part)
                   for part in parts)


def format_pattern(value: date | datetime, pattern: str, locale: Locale | str) -> str:
    """``value`` with a Babel pattern (or style name) in its own zone, « 1er » included."""
    locale = Locale.parse(locale)
    day = value.day
    if isinstance(value, datetime):
        return format_datetime(value, day_pattern(pattern, day, locale), tzinfo=value.tzinfo,
                               locale=locale)
    return format_date(value, day_pattern(pattern, day, locale), locale=locale)


def format_day(value: date, locale: Locale | str, style: str = "long") -> str:
    return format_pattern(value, STYLES[style], locale)


def format_clock(value: time | datetime, locale: Locale | str) -> str:
    if isinstance(value, time):
        value = datetime.combine(date(2000, 1, 1), value)
    return format_datetime(value, CLOCK, tzinfo=value.tzinfo, locale=Locale.parse(locale))


def format_when(value: datetime, locale: Locale | str, style: str = "long") -> str:
    """An aware datetime in its own zone (give it the equipment's)."""
    day, clock = format_day(value, locale, style), format_clock(value, locale)
    if style == "short":
        return f"{day}, {clock}"
    return _words(locale, "date at time", "%(day)s, %(time)s", day=day, time=clock)


def format_span(span: Span, locale: Locale | str, style: str = "long") -> str:
    start, end = span.start, span.end.astimezone(span.start.tzinfo)
    period = isinstance(span, Period)
    if start.date() != end.date():
        first, last = format_when(start, locale, style), format_when(end, locale, style)
        if style == "short" or not period:
            return f"{first} – {last}"
        return _words(locale, "from date to date", "from %(start)s to %(end)s",
                      start=first, end=last)
    day = format_day(start, locale, style)
    first, last = format_clock(start, locale), format_clock(end, locale)
    if style == "short":
        return f"{day}, {first}–{last}"
    if period:
        return _words(locale, "on date from time to time", "on %(day)s, %(start)s–%(end)s",
                      day=day, start=first, end=last)
    return _words(locale, "date from time to time", "%(day)s, %(start)s–%(end)s",
                  day=day, start=first, end=last)


def _words(locale: Locale | str, context: str, template: str, **values: str) -> str:
    """The words joining dates and times, from the catalogue of ``locale``
    (« à », « du … au … »); English outside an application."""
    from flask import has_app_context
    from flask_babel import force_locale, get_locale, pgettext

    if not has_app_context():
        return template % values
    locale = Locale.parse(locale)
    if str(get_locale()) == str(locale):
        return pgettext(context, template, **values)
    with force_locale(locale):
        return pgettext(context, template, **values)


# The joining words, for extraction (pgettext is called with a variable above).
_JOINING_WORDS = (
    _lp("date at time", "%(day)s, %(time)s"),
    _lp("from date to date", "from %(start)s to %(end)s"),
    _lp("date from time to time", "%(day)s, %(start)s–%(end)s"),
    _lp("on date from time to time", "on %(day)s, %(start)s–%(end)s"),
)


def shown(value: Any, locale: Locale | str) -> Any:
    """A message parameter as the reader sees it: an enumeration's label, a
    date or time in ``locale`` (the long style of sentences), what a value with
    ``shown_in(locale)`` says; anything else unchanged. Labels are translated in
    the current (or forced) locale of Flask-Babel."""
    if isinstance(value, Enum):
        return str(label(value))
    if hasattr(value, "shown_in"):
        return value.shown_in(Locale.parse(locale))
    if isinstance(value, Span):
        return format_span(value, locale)
    if isinstance(value, datetime):
        return format_when(value, locale)
    if isinstance(value, date):
        return format_day(value, locale)
    if isinstance(value, time):
        return format_clock(value, locale)
    return value


# -- money, rates and quantities ------------------------------------------------------
# Stored as integers (cents, basis points, hundredths of an hour: models/pricing.py),
# written by Babel in the reader's locale: « 1 234,50 € », "€1,234.50"; « 20 % ».


def money(cents: int, locale: Locale | str) -> str:
    from babel.numbers import format_currency

    return format_currency(Decimal(cents) / 100, "EUR", locale=locale)


def rate(basis_points: int, locale: Locale | str) -> str:
    """A VAT rate or a discount: 2000 → « 20 % », 550 → « 5,5 % »."""
    from babel.numbers import format_percent

    return format_percent(Decimal(basis_points) / 10000, locale=locale,
                          decimal_quantization=False)


def quantity(hundredths: int, locale: Locale | str) -> str:
    """A quantity or a number of hours: 150 → « 1,5 », 800 → « 8 »."""
    from babel.numbers import format_decimal

    return format_decimal(Decimal(hundredths) / 100, "#,##0.##", locale=locale)


# -- « de » before a vowel ---------------------------------------------------------

# « de %(name)s » in a French message, « de » a word of its own (not « monde »).
_DE_BEFORE = re.compile(r"(?<!\w)([Dd])e %\((\w+)\)s")
_VOWELS = frozenset("AEIOUYÀÂÆÉÈÊËÎÏÔŒÙÛÜ")


def elide_de(message: str, values: Mapping[str, Any], locale: Locale | str | None) -> str:
    """The French ``message`` (a translated template, before formatting) with
    « de %(x)s » written « d’%(x)s » when the value of ``x`` begins with a vowel:
    « Historique d’Étiqueteuse », never « Historique de Étiqueteuse ».

    Done on the template, not on the finished sentence, so only « de » right
    before a substituted value changes, never one a translator wrote before a
    word. Not before H: whether it is aspirated (« de Hugo », « d’Hélène ») is
    not in the name. The apostrophe is the catalogue's (U+2019); a template
    marked safe (Markup) stays so.
    """
    if locale is None or Locale.parse(locale).language != "fr" or "e %(" not in message:
        return message

    def elided(match: re.Match[str]) -> str:
        initial = str(values.get(match[2], ""))[:1]
        if initial.upper() not in _VOWELS:
            return match[0]
        return f"{match[1]}’%({match[2]})s"

    return type(message)(_DE_BEFORE.sub(elided, message))

