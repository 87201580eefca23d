"""URL converters: ``<id:booking_id>`` for every id in a URL.

An id is 1 to 2**31 - 1, what a database integer column holds. The bound is in
the converter's regular expression itself, not only in ``to_python``: a larger
number then matches no rule at all, so every method answers 404 (a bound checked
after the match lets werkzeug answer 405 for a method that another rule of the
same path would take), and no query reaches the database with a number it would
refuse with an error of its own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


def _at_most(limit: int) -> str:
    """A regular expression of the decimal numbers 1 to ``limit`` (leading zeros
    allowed, as ``<int:>`` allows them)."""
    digits = str(limit)
    width = len(digits)
    shorter = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    same_width = []
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            same_width.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}][0-9]{{{width - i - 1}}}")
    return "0*(?:" + "|".join([*shorter, *same_width, digits]) + ")"


class IdConverter(IntegerConverter):
    """``<id:name>``: an integer from 1 to 2**31 - 1; anything else is no route."""

    regex = _at_most(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        # min and max are what the OpenAPI document shows; the regex enforces them.
        super().__init__(map, min=1, max=MAX_ID)


def register_converters(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
