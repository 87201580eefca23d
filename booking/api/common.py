"""What the API's handlers share: a page of a query, loading with permissions,
a role gate, times. (What the schemas share is in booking.api.fields.)"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from booking.api.auth import api_user
from booking.extensions import db
from booking.handlers import get_or_404
from booking.permissions import may
from booking.services.errors import N_, Forbidden

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def page(stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """``{"items": [...], "total": N}`` for a select of one entity."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(args["limit"]).offset(args["offset"])).unique())
    return {"items": items, "total": total or 0}


# Load or 404, then the permission check (404/403): the pages' helper, for the API too.
load = get_or_404


def local_iso(value: datetime | None, zone: str) -> str | None:
    """An instant in the given zone, ISO 8601 with its offset."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(zone)).isoformat()


def allow(action: str, kind: type) -> Callable[[F], F]:
    """403 before the body is read, for an endpoint whose action the caller may
    not do whatever the object (``may(user, action, kind)``, booking.permissions).
    Put it right under ``@blp.route``; the service checks the object again."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not may(api_user(), action, kind):
                raise Forbidden(N_("Your role does not allow this."))
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator
