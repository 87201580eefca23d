"""A user's own preferences: reminder delays (before a booking starts, before
it ends), booking notices, language and,
for coordinators, the daily digest and its hour. Security mails (password
links) are sent whatever is chosen here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from booking.permissions import COORDINATING_ROLES, require
from booking.services import audit
from booking.services.errors import N_, ValidationError
from models import User

REMINDER_CHOICES = (0, 2, 24, 48)  # hours; 0 = no reminder
END_REMINDER_CHOICES = (0, 15, 30, 60)  # minutes before a booking ends; 0 = none
LOCALES = ("fr", "en")


@dataclass(frozen=True)
class Preferences:
    reminder_hours: int
    locale: str
    notify_bookings: bool
    notify_digest: bool = True
    digest_hour: int = 7
    # None keeps the user's choice (a caller that does not ask for it).
    end_reminder_minutes: int | None = None


def receives_digest(user: User) -> bool:
    return user.role in COORDINATING_ROLES


def save_preferences(session: Session, *, actor: User, user: User, wanted: Preferences,
                     now: datetime) -> None:
    require(actor, "edit_preferences", user)
    if wanted.reminder_hours not in REMINDER_CHOICES:
        raise ValidationError(N_("Choose one of the proposed reminder delays."),
                              {"field": "reminder_hours"})
    if (wanted.end_reminder_minutes is not None
            and wanted.end_reminder_minutes not in END_REMINDER_CHOICES):
        raise ValidationError(N_("Choose one of the proposed reminder delays."),
                              {"field": "end_reminder_minutes"})
    if wanted.locale not in LOCALES:
        raise ValidationError(N_("Unknown language."), {"field": "locale"})
    if not 0 <= wanted.digest_hour <= 23:
        raise ValidationError(N_("The hour is between 0 and 23."), {"field": "digest_hour"})
    user.reminder_hours = wanted.reminder_hours
    user.locale = wanted.locale
    user.notify_bookings = wanted.notify_bookings
    if wanted.end_reminder_minutes is not None:
        user.end_reminder_minutes = wanted.end_reminder_minutes
    if receives_digest(user):
        user.notify_digest = wanted.notify_digest
        user.digest_hour = wanted.digest_hour
    audit.record(session, actor=actor, action="user.preferences", object_type="user",
                 object_id=user.id, now=now)
