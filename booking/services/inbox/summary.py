"""The inbox as counts (the navigation's badge: one statement) and as lists
(the page and the daily digest: one statement per kind, each bounded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from booking.permissions import is_admin, is_coordinator, is_staff
from booking.services.bookings.no_show import Flagged, flag_count, flag_window, flagged_people
from booking.services.inbox import queries
from booking.services.policy import Policy
from models import Booking, CertificationRequest, Closure, Incident, Project, User

# The settings of the repeated no-show flag when the caller gives none.
DEFAULT_POLICY = Policy()

# Rows listed per kind; the counts say how many there are in all.
LIST_LIMIT = 50


@dataclass(frozen=True)
class Counts:
    approvals: int = 0
    projects: int = 0
    certifications: int = 0
    closures: int = 0
    flagged: int = 0
    clashes: int = 0
    no_shows: int = 0
    incidents: int = 0

    @property
    def total(self) -> int:
        return (self.approvals + self.projects + self.certifications + self.closures
                + self.flagged + self.clashes + self.no_shows + self.incidents)


@dataclass
class Hit:
    """A booking a closure overlaps, with every closure that does."""

    booking: Booking
    closures: list[Closure] = field(default_factory=list)


@dataclass
class Inbox:
    counts: Counts
    approvals: list[Booking]
    projects: list[Project]
    certifications: list[CertificationRequest]
    closures: list[Hit]
    flagged: list[Booking]
    clashes: list[Booking] = field(default_factory=list)
    # People with repeated no-shows on the reader's machines, and open incidents.
    no_shows: list[Flagged] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.counts.total == 0


def _count(stmt: Select[Any], column: Any) -> Any:
    """How many distinct ``column`` values ``stmt`` yields, as a scalar subquery."""
    inner = stmt.with_only_columns(column).order_by(None).distinct().subquery()
    return select(func.count()).select_from(inner).scalar_subquery()


# The badge's statement per kind of reader (what ``queries`` reads of a user:
# admin, coordinator, staff, their establishment) and no-show threshold, built
# once with the clock as bound parameters. Building it (eight subqueries with
# aliases and eager-load options adapted into counts) cost more CPU than
# running it: it was a sixth of the server's time in the load test, on every
# page a coordinator opens. Bounded by the establishments times four kinds.
_BADGES: dict[tuple[bool, bool, bool, int | None, int], Select[Any]] = {}


def count(session: Session, user: User, *, now: datetime,
          policy: Policy = DEFAULT_POLICY) -> Counts:
    """Every kind's count in one statement (the badge is on every page);
    ``policy`` gives the repeated no-show threshold."""
    key = (is_admin(user), is_coordinator(user), is_staff(user), user.establishment_id,
           flag_count(policy))
    stmt = _BADGES.get(key)
    if stmt is None:
        stmt = _BADGES[key] = _badge(user, policy)
    row = session.execute(stmt, {"inbox_now": now,
                                 "inbox_since": flag_window(now, policy)}).one()
    return Counts(*row)


def _badge(user: User, policy: Policy) -> Select[Any]:
    now, since = bindparam("inbox_now"), bindparam("inbox_since")
    return select(
        _count(queries.approvals(user), Booking.id),
        _count(queries.project_requests(user), Project.id),
        _count(queries.certification_requests(user), CertificationRequest.id),
        _count(queries.closure_hits(user, now), Booking.id),
        _count(queries.flagged(user, now), Booking.id),
        _count(queries.trainer_clashes(user, now), Booking.id),
        _count(queries.repeated_no_shows(user, now, policy, since), queries.person()),
        _count(queries.open_incidents(user), Incident.id))


def group_hits(rows: Any) -> list[Hit]:
    """(booking, closure) rows, soonest booking first, as one Hit per booking."""
    hits: dict[int, Hit] = {}
    for booking, closure in rows:
        hits.setdefault(booking.id, Hit(booking)).closures.append(closure)
    return list(hits.values())


def inbox(session: Session, user: User, *, now: datetime, limit: int = LIST_LIMIT,
          policy: Policy = DEFAULT_POLICY) -> Inbox:
    """The items of each kind, the first ``limit`` of each."""
    hits = group_hits(session.execute(queries.closure_hits(user, now).limit(limit * 4)).unique())
    return Inbox(
        counts=count(session, user, now=now, policy=policy),
        approvals=list(session.scalars(queries.approvals(user).limit(limit)).unique()),
        projects=list(session.scalars(queries.project_requests(user).limit(limit)).unique()),
        certifications=list(session.scalars(
            queries.certification_requests(user).limit(limit)).unique()),
        closures=hits[:limit],
        flagged=list(session.scalars(queries.flagged(user, now).limit(limit)).unique()),
        clashes=list(session.scalars(queries.trainer_clashes(user, now).limit(limit)).unique()),
        no_shows=flagged_people(session, queries.repeated_no_shows(user, now, policy),
                                limit=limit),
        incidents=list(session.scalars(queries.open_incidents(user).limit(limit)).unique()))
