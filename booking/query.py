"""Query-string parameters read outside a form (a GET filter of a download, a
link that fills in a form), through the rules of the one input boundary
(booking.services.inputs): ids in ASCII digits within a database integer,
dates within the supported years, enumeration values by name.

``arg_*`` answer 400 with a message saying what was expected: a hand-edited
link must not become a 5xx further on. ``optional_*`` give None instead, for
links that only prefill a form (the form then simply stays empty). The GET
filters of the pages are forms (booking.forms.QueryForm).
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import NoReturn, TypeVar

from flask import abort, request
from flask_babel import gettext as _

from booking.services.inputs import in_supported_years, parse_id

E = TypeVar("E", bound=Enum)


def _raw(name: str) -> str:
    return request.args.get(name, "").strip()


def _refuse(message: str) -> NoReturn:
    abort(400, description=message)


def optional_id(name: str) -> int | None:
    """The id, or None when absent or unreadable."""
    return parse_id(_raw(name))


def optional_day(name: str) -> date | None:
    """The date (YYYY-MM-DD within the supported years), or None."""
    raw = _raw(name)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if in_supported_years(day) else None


def arg_id(name: str) -> int | None:
    """None when absent; 400 unless an id."""
    if not _raw(name):
        return None
    value = optional_id(name)
    if value is None:
        _refuse(_("“%(name)s” must be an id.", name=name))
    return value


def arg_day(name: str) -> date | None:
    """None when absent; 400 unless a date within the supported years."""
    if not _raw(name):
        return None
    day = optional_day(name)
    if day is None:
        _refuse(_("“%(name)s” must be a date such as 2027-03-01.", name=name))
    return day


def arg_enum(name: str, enum: type[E]) -> E | None:
    """None when absent; 400 unless one of ``enum``'s values."""
    raw = _raw(name)
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        _refuse(_("“%(name)s” is not one of: %(values)s.", name=name,
                  values=", ".join(str(member.value) for member in enum)))
