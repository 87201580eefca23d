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
from booking.permissions import require
from booking.services.errors import N_, Forbidden, NotFound
from models import User

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def page(stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """``{"items": [...], "total": N}`` for a select of one entity."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(args["limit"]).offset(args["offset"])).unique())
    return {"items": items, "total": total or 0}


def load(model: type[T], object_id: int, user: User, action: str = "view") -> T:
    """Load or 404, then the permission check of booking.permissions (404/403)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(N_("Not found."))
    return require(user, action, obj)


def local_iso(value: datetime | None, zone: str) -> str | None:
    """An instant in the given zone, ISO 8601 with its offset."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(zone)).isoformat()


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
