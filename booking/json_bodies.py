"""JSON request bodies read with bounded work, by every reader: Flask's
``request.get_json`` (the app's JSON provider) and the API's argument parser
(``booking.api.ArgumentsParser``).

The standard library's decoder turns a body nested deeper than the recursion
limit into RecursionError and an integer of more than 4,300 digits into
ValueError (Python's int conversion limit), and reads NaN, Infinity and 1e999
(an infinite float), which JSON does not have: each reached a 500 or an
infinite number. Here each is a JSONDecodeError, which both readers answer as
invalid JSON (400). MAX_CONTENT_LENGTH bounds the size of what is read.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond the numbers JSON can carry")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes, **kwargs: Any) -> Any:
    kwargs.setdefault("parse_float", _finite)
    kwargs.setdefault("parse_constant", _no_constant)
    try:
        return json.loads(text, **kwargs)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:  # ValueError: UnicodeDecodeError too
        problem = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise json.JSONDecodeError(f"invalid JSON: {problem}", "(request body)", 0) from None


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with :func:`loads`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
