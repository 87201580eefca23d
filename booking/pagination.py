"""Pagination of the pages' lists."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PER_PAGE = 20


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int = PER_PAGE) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, page, pages, total)
