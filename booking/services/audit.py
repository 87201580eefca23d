"""Audit entries, written in the same transaction as the change they record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEntry, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int,
    now: datetime,
    reason: str | None = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        reason=reason,
        details=details,
    )
    session.add(entry)
    return entry
