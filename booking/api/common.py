"""Shared pieces of the API: pagination, loading with permissions, times."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, post_load, validate
from sqlalchemy import Select, func, select

from booking.extensions import db
from booking.permissions import require
from booking.services.errors import NotFound
from models import User

T = TypeVar("T")
MAX_LIMIT = 500


class PageArgs(Schema):
    """``limit`` (default 50; above 500 is read as 500) and ``offset``."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1))
    # Bounded: a huge offset overflows the database's OFFSET (a 5xx otherwise).
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))

    @post_load
    def _clamp(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["limit"] = min(data["limit"], MAX_LIMIT)
        return data


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


def page(stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """``{"items": [...], "total": N}`` for a select of one entity."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(db.session.scalars(stmt.limit(args["limit"]).offset(args["offset"])).unique())
    return {"items": items, "total": total or 0}


def load(model: type[T], object_id: int, user: User, action: str = "view") -> T:
    """Load or 404, then the permission check of booking.permissions (404/403)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(f"no {model.__name__.lower()} {object_id}")
    return require(user, action, obj)


def local_iso(value: datetime | None, zone: str) -> str | None:
    """An instant in the given zone, ISO 8601 with its offset."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(zone)).isoformat()
