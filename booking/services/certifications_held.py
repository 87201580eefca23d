"""Which certification types a user holds on a day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Certification, User


def types_held_on(session: Session, user: User, day: date) -> set[int]:
    return set(session.scalars(select(Certification.certification_type_id).where(
        Certification.user_id == user.id, Certification.revoked_at.is_(None),
        Certification.valid_from <= day, Certification.valid_until >= day)))
