"""The field types of every API schema, and the schemas every list and every
error share.

Every value a client sends goes through one of these types, so that no input
reaches the database in a shape it would refuse with an error of its own (a
5xx): text without NUL or lone surrogates (PostgreSQL and the UTF-8 codecs
refuse them), control characters or, in a text of one line, line breaks (they
break the iCalendar lines and mail headers a name is written to), and with a
maximum length, integers within their range (ids within
a 32-bit integer), instants with their offset whose UTC conversion cannot
overflow, days within the supported years. A schema uses marshmallow's own
fields only for what it answers (``dump_only``), never for what it reads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

# The campus's bounds and text rule, shared with the pages, query strings and imports.
from booking.services.inputs import text_problem
from booking.services.policy import FIRST_YEAR, LAST_YEAR, MAX_ID

# Texts up to this length are one line (the pages' single-line fields are all shorter;
# their multi-line fields, descriptions and reasons, all longer).
ONE_LINE_MAX = 500
MAX_LIMIT = 500
DATE_TIME = {"type": "string", "format": "date-time"}
Validator = Callable[[Any], Any]


# --- text -------------------------------------------------------------------------------


class Text(fields.String):
    """A string through the rule of the pages (booking.services.inputs): no NUL,
    lone surrogate or control character, and no line break in a text of one
    line; stripped of surrounding blanks unless ``strip=False`` (then the
    service decides what blanks mean). A text of more than
    :data:`ONE_LINE_MAX` characters (a description, a reason) may hold line
    breaks and tabs; a shorter one (a code, a name, a title, a rule) is one
    line, unless ``multiline`` says otherwise."""

    def __init__(self, *args: Any, strip: bool = True, multiline: bool | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strip = strip
        if multiline is None:
            longest = max((v.max or 0 for v in self.validators
                           if isinstance(v, validate.Length)), default=0)
            multiline = longest > ONE_LINE_MAX
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem is not None:
            raise ValidationError(problem)
        return text.strip() if self.strip else text


def text(max_length: int, *, min_length: int = 0, also: Validator | list[Validator] = (),
         **kwargs: Any) -> Text:
    """Text of at most ``max_length`` characters, checked by ``also`` too
    (``strip``, ``required``, ``allow_none``... as for :class:`Text`)."""
    more = [also] if callable(also) else list(also)
    return Text(validate=[validate.Length(min=min_length, max=max_length), *more], **kwargs)


def required_text(max_length: int, **kwargs: Any) -> Text:
    """Text that must be given and must not be empty."""
    return text(max_length, min_length=1, required=True, **kwargs)


def optional_text(max_length: int, **kwargs: Any) -> Text:
    """Text that may be left out, then read as ``""``."""
    return text(max_length, load_default="", **kwargs)


# --- integers -----------------------------------------------------------------------------


def integer(minimum: int, maximum: int, *, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An integer between both bounds. JSON bodies want a true integer
    (``strict``); a query string sends text."""
    return fields.Integer(strict=strict, validate=validate.Range(min=minimum, max=maximum),
                          **kwargs)


def object_id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An id: 1 to 2**31 - 1, what a database integer column holds."""
    return integer(1, MAX_ID, strict=strict, **kwargs)


# --- times ----------------------------------------------------------------------------------


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
    """An ISO 8601 date within the supported years."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        _in_supported_years(day)
        return day


# --- the schemas every list and every error share -------------------------------------------


class PageArgs(Schema):
    """``limit`` (default 50; above 500 is read as 500) and ``offset``."""

    # No maximum: API.md reads a larger limit as 500 rather than refusing it.
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1))
    # Bounded: a huge offset overflows the database's OFFSET (a 5xx otherwise).
    offset = integer(0, MAX_ID, strict=False, load_default=0)

    @post_load
    def _clamp(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["limit"] = min(data["limit"], MAX_LIMIT)
        return data


@functools.cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The ``{"items": [...], "total": N}`` answer of a list of ``item`` (one
    class per item, so that the OpenAPI document names it once)."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "total": fields.Integer(required=True, validate=validate.Range(min=0)),
    }, name=name)


class ErrorSchema(Schema):
    """The body of every error answer (booking.errors), and of the OpenAPI
    document's error responses."""

    error = fields.String(required=True, metadata={
        "description": "The error code of API.md: not_found, validation, conflict..."})
    message = fields.String(required=True, metadata={"description": "For a person to read."})
    details = fields.Dict(required=True, metadata={
        "description": "Per code: the field errors of a validation (errors), the bookings "
                       "met by a conflict (conflicts), the missing certifications (missing)..."})
