"""A cell's text read as the value a column holds: a whole number within its
bounds, yes or no, a day, a day's opening hours, a choice of an enumeration
(by its value or its label in either language). Each refusal names the line
and the column, in the reader's language."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, time
from enum import Enum
from typing import Any, TypeVar

from booking.services.errors import N_, ValidationError
from booking.services.inputs import in_supported_years
from booking.services.onboarding.reading import Column, ColumnTitle, Row, normalised, refuse
from booking.services.policy import FIRST_YEAR, LAST_YEAR

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

YES = ("1", "yes", "y", "true", "x")
NO = ("0", "no", "n", "false")
# The French words are the catalogue's translations of "yes" and "no" (see _words).
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})/(\d{1,2})/(\d{4})")
_RANGE = re.compile(r"(\d{1,2})[:h](\d{2})\s*[-–à]\s*(\d{1,2})[:h](\d{2})")
_LIST = re.compile(r"[,;\s]+")


class CellError(Exception):
    """A line with refused cells (their errors are on the row): not applied."""


def _soft(read: Callable[..., T]) -> Callable[..., T | None]:
    """A refused cell notes its error on the row and reads as None, so that
    every cell of a line is checked; :func:`checked` then stops the line."""

    @functools.wraps(read)
    def reading(*args: Any) -> T | None:
        try:
            return read(*args)
        except CellError:
            return None

    return reading


def checked(row: Row) -> None:
    if row.errors:
        raise CellError


def _cell_error(row: Row, column: Column, template: str, **params: Any) -> CellError:
    row.errors.append(refuse(N_("Line %(line)d, %(column)s: %(problem)s"), row.line,
                             column=ColumnTitle(column.title),
                             problem=ValidationError(template, **params)))
    return CellError()


def _translations(msgid: Any) -> set[str]:
    """A word (a msgid, or a lazy label) as written in each language of the app."""
    from flask import current_app, has_app_context
    from flask_babel import force_locale, gettext

    names = {normalised(msgid)} if isinstance(msgid, str) else set()
    if has_app_context():
        for language in current_app.config.get("LANGUAGES", ("fr", "en")):
            with force_locale(language):
                names.add(normalised(gettext(msgid) if isinstance(msgid, str) else str(msgid)))
    return names


@_soft
def required(row: Row, column: Column, value: Any) -> None:
    """A cell this line cannot do without (a new account's name...)."""
    if value is None and column.key not in row.values:
        raise _cell_error(row, column, N_("this cell cannot be empty."))


@_soft
def text(row: Row, column: Column, max_length: int) -> str | None:
    value = row.values.get(column.key)
    if value is not None and len(value) > max_length:
        raise _cell_error(row, column, N_("at most %(max)d characters."), max=max_length)
    return value


@_soft
def whole(row: Row, column: Column, low: int, high: int) -> int | None:
    value = row.values.get(column.key)
    if value is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise _cell_error(row, column, N_("a whole number from %(low)d to %(high)d."),
                          low=low, high=high)
    return int(value)


@_soft
def yes_no(row: Row, column: Column) -> bool | None:
    value = row.values.get(column.key)
    if value is None:
        return None
    word = normalised(value)
    if word in YES or word in _translations(N_("yes")):
        return True
    if word in NO or word in _translations(N_("no")):
        return False
    raise _cell_error(row, column, N_("yes or no."))


@_soft
def day(row: Row, column: Column) -> date | None:
    value = row.values.get(column.key)
    if value is None:
        return None
    match = _DAY.fullmatch(value.split("T")[0].split(" ")[0])
    try:
        if match is None:
            raise ValueError
        year, month, dom = ((match[1], match[2], match[3]) if match[1]
                            else (match[6], match[5], match[4]))
        found = date(int(year), int(month), int(dom))
    except ValueError:
        raise _cell_error(row, column, N_("a date written 31/12/2027 or 2027-12-31.")) from None
    if not in_supported_years(found):
        raise _cell_error(row, column, N_("a date between %(first)d and %(last)d."),
                          first=FIRST_YEAR, last=LAST_YEAR)
    return found


@_soft
def hours(row: Row, column: Column) -> list[tuple[time, time]]:
    """"08:00-12:00, 13:30-18:00" (or 8h00-12h00): the day's intervals; blank: closed."""
    value = row.values.get(column.key)
    if value is None:
        return []
    intervals = []
    for part in (p.strip() for p in value.replace(";", ",").split(",")):
        if not part:
            continue
        match = _RANGE.fullmatch(part)
        try:
            if match is None:
                raise ValueError
            opens = time(int(match[1]), int(match[2]))
            closes = time(int(match[3]), int(match[4]))
        except ValueError:
            raise _cell_error(row, column, N_("hours written 08:00-12:00, 13:00-18:00.")) \
                from None
        intervals.append((opens, closes))
    return intervals


@_soft
def codes(row: Row, column: Column) -> list[str]:
    value = row.values.get(column.key)
    return [c for c in _LIST.split(value) if c] if value else []


@_soft
def choice(row: Row, column: Column, enum: type[E]) -> E | None:
    value = row.values.get(column.key)
    if value is None:
        return None
    word = normalised(value)
    from booking.labels import LABELS

    for member in enum:
        names = {normalised(str(member.value))}
        if member in LABELS.get(enum, {}):
            names |= _translations(LABELS[enum][member])
        if word in names:
            return member
    raise _cell_error(row, column, N_("one of %(choices)s."),
                      choices=", ".join(str(m.value) for m in enum))
