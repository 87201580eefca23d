"""Typed domain errors; each carries the error code of API.md and its HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "validation"
    status = 422

    def __init__(self, message: str, details: dict[str, Any] | None = None, *,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code


class ValidationError(DomainError):
    code = "validation"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409
