"""What a page computes once per request: the project page's cards
(templates/projects/_paperwork.html) and what two of them share (the accepted
quote), so that a card asked twice, or two cards asking the same thing, send
their statements once (tests/test_query_budgets.py).

The memo lives in the request's WSGI environ, not in ``flask.g``: an
application context may outlive several requests (a test's ``app_context()``),
a request never does. Outside a request, nothing is remembered. Only for what
a page reads while it renders, after the request's writes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import has_request_context, request

from booking.extensions import db
from booking.services.quotes import operations as quote_ops
from models import Project, Quote

T = TypeVar("T")
_KEY = "booking.request_memo"


class _HasId(Protocol):
    id: int


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s answer, computed once per request for ``key``."""
    if not has_request_context():
        return compute()
    memo: dict[Hashable, Any] = request.environ.setdefault(_KEY, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def per_request(card: Callable[[Any], T]) -> Callable[[Any], T]:
    """A card function of one object (a project): once per request and object."""
    name = f"{card.__module__}.{card.__qualname__}"

    @wraps(card)
    def once(obj: _HasId) -> T:
        return remembered((name, type(obj).__name__, obj.id), lambda: card(obj))

    return once


def accepted_quote(project: Project) -> Quote | None:
    """The project's accepted quote (booking.services.quotes.operations), once
    per request: the agreement's card and the invoicing card both show it."""
    return remembered(("accepted_quote", project.id),
                      lambda: quote_ops.accepted_quote(db.session, project))
