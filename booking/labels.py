"""What readers see of values: the label of every enumeration shown to users,
and dates and times written in the reader's language.

The enumerations' values are the API's (API.md) and stay in JSON and in error
details; pages, forms, e-mails and domain error messages show these labels
instead, so a status never leaks its raw value into a French sentence. Each
label is lazy (translated when shown) and carries a context, because French
agrees it with its noun: a booking is « Annulée », a project « Annulé ».

Dates and times are formatted by Babel in the reader's locale and in the zone
the value carries (the equipment's), never with strftime or ISO:
« jeu. 10 déc. 2026, 14:00 » in French, "Thu, Dec 10, 2026, 14:00" in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from babel import Locale
from babel.dates import format_interval, format_skeleton
from flask_babel import lazy_pgettext as _lp

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

BOOKING_STATUS_LABELS = {
    BookingStatus.PENDING: _lp("booking status", "Pending"),
    BookingStatus.CONFIRMED: _lp("booking status", "Confirmed"),
    BookingStatus.CANCELLED: _lp("booking status", "Cancelled"),
    BookingStatus.REJECTED: _lp("booking status", "Rejected"),
    BookingStatus.EXPIRED: _lp("booking status", "Expired"),
    BookingStatus.COMPLETED: _lp("booking status", "Completed"),
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
}


def label(value: Enum) -> Any:
    """The lazy label of an enumeration's value (its raw value if it has none)."""
    return LABELS.get(type(value), {}).get(value, value.value)


# -- dates and times in the reader's language ------------------------------------

DATE_SKELETON = "yMMMEd"  # « jeu. 10 déc. 2026 », "Thu, Dec 10, 2026"
TIME_SKELETON = "Hm"  # the campus reads 24-hour times: « 14:00 »


@dataclass(frozen=True)
class Span:
    """From ``start`` to ``end`` (aware, in the zone to show), written as one
    interval: « jeu. 10 déc. 2026, 14:00 – 16:00 »."""

    start: datetime
    end: datetime


def format_when(value: datetime, locale: Locale | str) -> str:
    """An aware datetime in its own zone (give it the equipment's)."""
    locale = Locale.parse(locale)
    day = format_skeleton(DATE_SKELETON, value, tzinfo=value.tzinfo, locale=locale)
    clock = format_skeleton(TIME_SKELETON, value, tzinfo=value.tzinfo, locale=locale)
    return str(locale.datetime_formats["medium"]).format(clock, day)


def format_day(value: date, locale: Locale | str) -> str:
    return format_skeleton(DATE_SKELETON, value, locale=Locale.parse(locale))


def format_span(span: Span, locale: Locale | str) -> str:
    locale = Locale.parse(locale)
    if span.start.date() != span.end.astimezone(span.start.tzinfo).date():
        return f"{format_when(span.start, locale)} – {format_when(span.end, locale)}"
    day = format_skeleton(DATE_SKELETON, span.start, tzinfo=span.start.tzinfo, locale=locale)
    clock = format_interval(span.start, span.end, TIME_SKELETON, tzinfo=span.start.tzinfo,
                            locale=locale)
    return str(locale.datetime_formats["medium"]).format(clock, day)


def format_clock(value: time, locale: Locale | str) -> str:
    return format_skeleton(TIME_SKELETON, datetime.combine(date(2000, 1, 1), value),
                           locale=Locale.parse(locale))


def shown(value: Any, locale: Locale | str) -> Any:
    """A message parameter as the reader sees it: an enumeration's label, a
    date or time in ``locale``, what a value with ``shown_in(locale)`` says;
    anything else unchanged. Labels are translated in the current (or forced)
    locale of Flask-Babel."""
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
