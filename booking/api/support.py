"""Schema fields and guards shared by the directory, projects and feeds APIs.

Every value a client sends is bounded here, so that no input reaches the
database in a shape it would refuse with an error of its own (a 5xx): strings
without NUL or lone surrogates (PostgreSQL and the UTF-8 codecs refuse them),
ids within a 32-bit integer, instants whose UTC conversion cannot overflow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError, fields, validate

from booking.api import common
from booking.api.auth import api_user
from booking.services.errors import N_, Forbidden
from models import User

F = TypeVar("F", bound=Callable[..., Any])
MAX_ID = 2**31 - 1
FIRST_YEAR, LAST_YEAR = 1900, 2999
DATE_TIME = {"type": "string", "format": "date-time"}
# The URL converter of an id: a larger number is no route (404), never a query
# the database would refuse.
ID = f"int(min=1, max={MAX_ID})"


PageArgs = common.PageArgs


class Text(fields.String):
    """A string, stripped of surrounding blanks unless ``strip=False``."""

    def __init__(self, *args: Any, strip: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strip = strip

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("NUL characters are not allowed.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Not valid Unicode text.") from None
        return text.strip() if self.strip else text


def required_text(max_length: int, **kwargs: Any) -> Text:
    return Text(required=True, validate=validate.Length(min=1, max=max_length), **kwargs)


def optional_text(max_length: int, **kwargs: Any) -> Text:
    return Text(load_default="", validate=validate.Length(max=max_length), **kwargs)


def object_id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An id: JSON bodies want a true integer (``strict``), queries send text."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def _in_supported_years(value: datetime | date) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(f"Years {FIRST_YEAR} to {LAST_YEAR} only.")


class Instant(fields.AwareDateTime):
    """An ISO 8601 time with its offset (a time without one is refused), made UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        _in_supported_years(instant)
        return instant.astimezone(UTC)


class Day(fields.Date):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        _in_supported_years(day)
        return day


def page_of(item: type[Schema]) -> type[Schema]:
    """The ``{"items": [...], "total": N}`` answer of a list of ``item``."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "total": fields.Integer()}, name=name
    )


def allow(predicate: Callable[[User], bool]) -> Callable[[F], F]:
    """403 before the body is read, for an endpoint closed to a role whatever
    the object (the predicate comes from booking.permissions). Put it right
    under ``@blp.route``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not predicate(api_user()):
                raise Forbidden(N_("Your role does not allow this."))
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator
