"""Typed domain errors; each carries the error code of API.md and its HTTP status.

A message is an English template with named parameters, marked for
translation with :func:`N_`; it is translated only when shown (``message``),
in the language of the request if there is one, so services stay free of
requests and locales.
"""

from __future__ import annotations

from typing import Any


def N_(template: str) -> str:
    """Mark a message for extraction; it is translated when shown."""
    return template


def translate(template: str, params: dict[str, Any]) -> str:
    try:
        from flask import has_app_context
        from flask_babel import gettext

        if has_app_context():
            return gettext(template, **params)
    except ImportError:  # pragma: no cover - Flask-Babel is a dependency
        pass
    return template % params if params else template


class DomainError(Exception):
    code = "validation"
    status = 422

    def __init__(self, template: str, details: dict[str, Any] | None = None, *,
                 code: str | None = None, **params: Any) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params
        self.details = details or {}
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
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
