"""Typed domain errors; each carries the error code of API.md and its HTTP status.

A message is an English template with named parameters, marked for
translation with :func:`N_` (or :func:`Nn_` when a number chooses between a
singular and a plural); it is translated only when shown (``message``), in the
language of the request if there is one, so services stay free of requests and
locales. Parameters are shown then too: an enumeration by its translated label,
a date or time by Babel in the reader's language (see :mod:`booking.labels`),
another domain error by its own message; ``details`` keep the raw values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def N_(template: str) -> str:
    """Mark a message for extraction; it is translated when shown."""
    return template


@dataclass(frozen=True)
class Plural:
    """A message with a plural form; the parameter ``count`` chooses the form."""

    singular: str
    plural: str
    count: str = "n"

    def choose(self, params: dict[str, Any]) -> str:
        return self.singular if params[self.count] == 1 else self.plural


def Nn_(singular: str, plural: str, count: str = "n") -> Plural:
    """Mark a message and its plural for extraction (``ngettext`` when shown)."""
    return Plural(singular, plural, count)


def _english(template: str | Plural, params: dict[str, Any]) -> str:
    text = template.choose(params) if isinstance(template, Plural) else template
    return text % params if params else text


def translate(template: str | Plural, params: dict[str, Any]) -> str:
    """``template`` in the reader's language (English outside an app), each
    parameter shown for that reader."""
    from flask import has_app_context
    from flask_babel import get_locale, gettext, ngettext

    if not has_app_context():
        return _english(template, {k: _shown(v, "en") for k, v in params.items()})
    values = {k: _shown(v, get_locale() or "en") for k, v in params.items()}
    if isinstance(template, Plural):
        return ngettext(template.singular, template.plural, params[template.count], **values)
    return gettext(template, **values)


def _shown(value: Any, locale: Any) -> Any:
    from booking.labels import shown  # here, not at the top: the labels import the models

    if isinstance(value, DomainError):
        return value.message
    return shown(value, locale)


class DomainError(Exception):
    code = "validation"
    status = 422

    def __init__(self, template: str | Plural, details: dict[str, Any] | None = None, *,
                 code: str | None = None, **params: Any) -> None:
        self.template = template
        self.params = params
        self.details = details or {}
        if code is not None:
            self.code = code
        super().__init__(str(self))  # the English sentence, in reprs too

    @property
    def message(self) -> str:
        return translate(self.template, self.params)

    def __str__(self) -> str:
        """English with each parameter shown (logs, tracebacks), never an ISO date."""
        from flask import has_app_context
        from flask_babel import force_locale, get_locale

        if not has_app_context() or str(get_locale()) == "en":
            return translate(self.template, self.params)
        with force_locale("en"):
            return translate(self.template, self.params)


class ValidationError(DomainError):
    code = "validation"
    status = 422


class RuleViolation(DomainError):
    """A booking rule of PRODUCT.md: 422 with the rule's own code."""

    status = 422


class OutsideOpeningHours(RuleViolation):
    code = "outside_opening_hours"


class Closed(RuleViolation):
    code = "closed"


class EquipmentUnavailable(RuleViolation):
    code = "equipment_unavailable"


class NotAligned(RuleViolation):
    code = "not_aligned"


class BadDuration(RuleViolation):
    code = "duration"


class InPast(RuleViolation):
    code = "in_past"


class BeyondHorizon(RuleViolation):
    code = "horizon"


class TooShortNotice(RuleViolation):
    """Booked with less than the machine's minimum notice."""

    code = "notice"


class NotOpenYet(RuleViolation):
    """Another establishment asks before the owner's priority window opens the slot."""

    code = "not_open_yet"


class QuotaExceeded(RuleViolation):
    code = "quota_exceeded"


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class CertificationRequired(Forbidden):
    code = "certification_required"


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409


class TrainerBusy(Conflict):
    """The trainer is held by another booking (travel time included). A
    Conflict: whatever skips a taken slot (a series, the demo) skips it too."""

    code = "trainer_busy"


class TooLate(DomainError):
    """The booker cancels after the machine's cancellation deadline."""

    code = "too_late"
    status = 409


class CheckInNotOpen(DomainError):
    """Too early to check in at the machine (booking.services.checkin)."""

    code = "check_in_not_open"
    status = 409


class CheckInClosed(DomainError):
    """Too late to check in: the machine's grace period is over."""

    code = "check_in_closed"
    status = 409
