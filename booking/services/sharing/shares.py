"""Each establishment's share of each shared machine, against its quota.

For every quota per establishment in scope, the hours each establishment
booked on the quota's machines in the period containing a given day
(counted as the quota counts them: bookings that hold their slot, in the
period of their start), its share of all the hours booked there, and its
limit when the quota holds it. Bookers of no establishment (company
accounts, admins) form one row of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services.errors import N_
from booking.services.policy import CAMPUS_ZONE
from booking.services.reports.access import Reports
from booking.services.sharing.access import applies_to_establishment
from booking.services.sharing.quota_periods import Window, minutes_between
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    Equipment,
    Establishment,
    Quota,
    QuotaAppliesTo,
    User,
)


@dataclass(frozen=True)
class Share:
    establishment: Establishment | None  # None: bookers of no establishment
    minutes: int
    part: float | None  # of every hour booked on the quota's machines in the period
    limit_minutes: int | None  # None: the quota does not hold this establishment

    @property
    def over(self) -> bool:
        return self.limit_minutes is not None and self.minutes > self.limit_minutes


@dataclass(frozen=True)
class QuotaShares:
    quota: Quota
    window: Window
    total_minutes: int
    shares: list[Share]


def _machines(quota: Quota) -> ColumnElement[bool]:
    if quota.equipment_id is not None:
        return Booking.equipment_id == quota.equipment_id
    return Booking.equipment_id.in_(select(Equipment.id).where(
        Equipment.establishment_id == quota.establishment_id,
        Equipment.category == quota.category))


def quota_shares(session: Session, quota: Quota, day: date) -> QuotaShares:
    """The shares of one quota's machines in the period that contains ``day``."""
    window = Window.containing(quota.period, datetime(day.year, day.month, day.day, 12,
                                                      tzinfo=CAMPUS_ZONE))
    booked = session.execute(
        select(User.establishment_id, Booking.start_at, Booking.end_at)
        .join(User, User.id == Booking.booked_by_id)
        .where(_machines(quota), Booking.status.in_(SLOT_HOLDING_STATUSES),
               Booking.start_at >= window.start, Booking.start_at < window.end))
    minutes: dict[int | None, int] = defaultdict(int)
    for establishment_id, start, end in booked:
        minutes[establishment_id] += minutes_between(start, end)
    if quota.beneficiary_establishment_id is not None:
        minutes.setdefault(quota.beneficiary_establishment_id, 0)
    names = {e.id: e for e in session.scalars(select(Establishment).where(
        Establishment.id.in_([i for i in minutes if i is not None])))}
    total = sum(minutes.values())
    shares = [Share(names.get(i) if i is not None else None, used,
                    round(used / total, 4) if total else None,
                    quota.max_minutes if applies_to_establishment(quota, i) and i is not None
                    else None)
              for i, used in minutes.items()]
    shares.sort(key=lambda s: (-s.minutes, s.establishment is None,
                               s.establishment.name.casefold() if s.establishment else ""))
    return QuotaShares(quota, window, total, shares)


def shares(session: Session, *, actor: User, day: date,
           establishment_id: int | None = None) -> list[QuotaShares]:
    """Every quota per establishment with an hours limit, of the machines of
    ``establishment_id`` (every owner: None), each with its shares."""
    require(actor, "view", Reports, N_("Reports are for coordinators and admins."))
    stmt = select(Quota).where(Quota.applies_to == QuotaAppliesTo.ESTABLISHMENT,
                               Quota.max_minutes.is_not(None)).order_by(Quota.id)
    if establishment_id is not None:
        stmt = stmt.where(Quota.establishment_id == establishment_id)
    return [quota_shares(session, quota, day) for quota in session.scalars(stmt)]
