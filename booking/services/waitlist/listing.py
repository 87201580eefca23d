"""What the waiting lists show: a user's own entries (« Mes listes d'attente »)
and, for the coordinators of a machine's owner, who waits for its slots.

An entry's place in line is 1 + the open entries (waiting or offered) of the
same machine whose period meets its own and that were made before it (the
order the job serves them in: created_at, then id). It is computed by the
database with the entries, in one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from models import Equipment, User, WaitlistEntry, WaitlistStatus
from models.waitlist import OPEN_STATUSES

# How far back « Mes listes d'attente » shows entries out of line.
RECENT = timedelta(days=30)
RECENT_LIMIT = 20


@dataclass(frozen=True)
class Placed:
    """An entry and its place in line (None once out of line)."""

    entry: WaitlistEntry
    position: int | None

    @property
    def status(self) -> WaitlistStatus:
        return self.entry.status


@dataclass(frozen=True)
class MyEntries:
    open: list[Placed]  # offers first (the soonest to end first), then waiting by start
    past: list[WaitlistEntry]  # out of line, the latest change first


def position_in_line() -> ColumnElement[int]:
    """The place in line of the enclosing query's WaitlistEntry (a correlated count)."""
    ahead = aliased(WaitlistEntry)
    before = or_(ahead.created_at < WaitlistEntry.created_at,
                 and_(ahead.created_at == WaitlistEntry.created_at,
                      ahead.id < WaitlistEntry.id))
    count = (select(func.count(ahead.id))
             .where(ahead.equipment_id == WaitlistEntry.equipment_id,
                    ahead.status.in_(OPEN_STATUSES),
                    ahead.start_at < WaitlistEntry.end_at,
                    WaitlistEntry.start_at < ahead.end_at, before)
             .correlate(WaitlistEntry).scalar_subquery())
    return (count + 1).label("position")


def _still_open(now: datetime) -> ColumnElement[bool]:
    """In line and still meaningful at ``now`` (the job may not have expired it yet)."""
    return and_(WaitlistEntry.start_at > now, or_(
        WaitlistEntry.status == WaitlistStatus.WAITING,
        and_(WaitlistEntry.status == WaitlistStatus.OFFERED,
             WaitlistEntry.offer_expires_at > now)))


def my_entries(session: Session, user: User, *, now: datetime) -> MyEntries:
    """``user``'s entries still in line with their place, then those of the
    last :data:`RECENT` out of line."""
    rows = session.execute(
        select(WaitlistEntry, position_in_line())
        .where(WaitlistEntry.user_id == user.id, _still_open(now))
        .options(joinedload(WaitlistEntry.equipment))
        .order_by((WaitlistEntry.status == WaitlistStatus.OFFERED).desc(),
                  WaitlistEntry.offer_expires_at, WaitlistEntry.start_at, WaitlistEntry.id))
    placed = [Placed(entry, position) for entry, position in rows]
    past = list(session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id,
               WaitlistEntry.status.not_in(OPEN_STATUSES),
               WaitlistEntry.updated_at >= now - RECENT)
        .options(joinedload(WaitlistEntry.equipment), joinedload(WaitlistEntry.booking))
        .order_by(WaitlistEntry.updated_at.desc(), WaitlistEntry.id.desc())
        .limit(RECENT_LIMIT)))
    return MyEntries(placed, past)


def waiting_count(session: Session, user: User, *, now: datetime) -> int:
    """How many slots ``user`` waits for (the dashboard's reminder)."""
    return session.scalar(select(func.count(WaitlistEntry.id)).where(
        WaitlistEntry.user_id == user.id, WaitlistEntry.status == WaitlistStatus.WAITING,
        WaitlistEntry.start_at > now)) or 0


def line_of(session: Session, equipment: Equipment, *, now: datetime) -> list[Placed]:
    """Who waits for ``equipment``'s slots to come, slot by slot, in line (the
    machine's page, for the coordinators of its owner: access.see_line)."""
    rows = session.execute(
        select(WaitlistEntry, position_in_line())
        .where(WaitlistEntry.equipment_id == equipment.id, _still_open(now))
        .options(joinedload(WaitlistEntry.user))
        .order_by(WaitlistEntry.start_at, WaitlistEntry.created_at, WaitlistEntry.id))
    return [Placed(entry, position) for entry, position in rows]
