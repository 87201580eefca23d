"""Words typed in a search box, matched literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_


def contains(text: str, *columns: Any) -> ColumnElement[bool]:
    """Any of ``columns`` contains ``text``, case-insensitively; ``%`` and
    ``_`` are letters here, not wildcards."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))
