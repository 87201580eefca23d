"""Which certification types a user holds on a day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Certification, User


def types_held_on(session: Session, user: User, day: date) -> set[int]:
    return types_held_by(session, [user.id], day).get(user.id, set())


def types_held_by(session: Session, user_ids: list[int], day: date) -> dict[int, set[int]]:
    """For each user, the types they hold on ``day``: one query for them all."""
    held: dict[int, set[int]] = {}
    rows = session.execute(select(Certification.user_id, Certification.certification_type_id)
                           .where(Certification.user_id.in_(user_ids),
                                  Certification.revoked_at.is_(None),
                                  Certification.valid_from <= day,
                                  Certification.valid_until >= day))
    for user_id, type_id in rows:
        held.setdefault(user_id, set()).add(type_id)
    return held
