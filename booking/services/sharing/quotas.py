"""Quotas on shared machines (being written: the interface the booking service calls)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from models import Equipment, Quota, User


@dataclass(frozen=True)
class QuotaVerdict:
    """What the quotas say of one booking: refused ones raise QuotaExceeded."""

    # A quota with over=approval is passed: the booking waits for a decision.
    needs_approval: bool = False
    # Quotas a coordinator of the owner (or an admin) booked past: audited.
    overridden: tuple[Quota, ...] = field(default_factory=tuple)


def check_quotas(session: Session, *, actor: User, equipment: Equipment, start: datetime,
                 end: datetime, now: datetime, booked_by: User | None = None,
                 exclude_booking_ids: Iterable[int] = ()) -> QuotaVerdict:
    return QuotaVerdict()
