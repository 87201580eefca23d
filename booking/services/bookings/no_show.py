"""No-shows (issue 14): a confirmed booking of a machine that requires
check-in, that nobody checked in by the end of the machine's grace period,
is released by the scheduler (status ``no_show``: it frees its slot, its
occupancy rows following its status), its booker and trainer told, and the
freed time offered to the waiting list in the same run.

No-shows are then counted per person (the trainer, or the booker when there
is none) and per establishment; a person with ``policy.no_show_flag_count``
no-shows within ``policy.no_show_flag_days`` days is flagged to the
coordinators of the establishments owning the machines concerned: in their
inbox (booking.services.inbox.queries.repeated_no_shows), and by one e-mail
when the threshold is reached.

Idempotent: only confirmed bookings not checked in are released, each once;
the flag's e-mail is keyed in the outbox by the booking that reached the
threshold. A booking checked in is never released. The ``complete_past``
job leaves these bookings to this one (lifecycle.awaiting_check_in).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from booking.database import begin_write
from booking.labels import Span
from booking.services import audit
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_, Nn_
from booking.services.messaging import notifications
from booking.services.messaging.notifications import SITE, coordinators_by_establishment, render
from booking.services.messaging.outbox import Mail, enqueue
from booking.services.policy import Policy
from booking.services.waitlist import operations as waitlist
from models import Booking, BookingStatus, Equipment, User, WaitlistEntry

# Bookings released per run, the longest overdue first; the next run takes the rest.
NO_SHOW_BATCH = 200


@dataclass(frozen=True)
class ReleaseResult:
    released: list[Booking]
    # Waiting-list entries offered in the same run (the freed time, at once).
    offered: list[WaitlistEntry]
    # People who reached the repeated no-show threshold in this run.
    flagged: list[int]


@dataclass(frozen=True)
class Flagged:
    """A person with repeated no-shows: how many in the window, the last one's start."""

    user: User
    count: int
    last_at: datetime


def person() -> ColumnElement[int]:
    """Whose no-show a booking is: its trainer, or its booker when it names none."""
    return func.coalesce(Booking.trainer_id, Booking.booked_by_id)


def flag_window(now: datetime, policy: Policy) -> datetime:
    """No-shows starting at or after this instant count towards the flag."""
    return now - timedelta(days=max(1, policy.no_show_flag_days))


def flag_count(policy: Policy) -> int:
    return max(1, policy.no_show_flag_count)


def _overdue(graces: Iterable[int], now: datetime) -> ColumnElement[bool]:
    """Check-in has closed: the booking's start plus its machine's grace
    period has passed, or its end (a booking shorter than the grace period;
    check-in closes then too). One condition per grace period in use (they
    are few), so that both databases compare plain timestamps."""
    return or_(Booking.end_at <= now,
               *(and_(Equipment.check_in_grace_minutes == grace,
                      Booking.start_at <= now - timedelta(minutes=grace))
                 for grace in graces))


def release_no_shows(session: Session, *, now: datetime, policy: Policy,
                     claim_hours: float = waitlist.DEFAULT_CLAIM_HOURS,
                     limit: int = NO_SHOW_BATCH) -> ReleaseResult:
    """Release the confirmed bookings of machines requiring check-in that
    nobody checked in before the end of their grace period, or their end
    when that comes first (at most
    ``limit``, the longest overdue first), tell their people, offer what
    they freed to the waiting lists, and flag who reached the threshold."""
    begin_write(session)
    graces = sorted(set(session.scalars(
        select(Equipment.check_in_grace_minutes).where(Equipment.check_in_required.is_(True)))))
    if not graces:
        return ReleaseResult([], [], [])
    # Locked (PostgreSQL) and read again: a check-in committed meanwhile is
    # seen, one in progress (its row locked) is left for the next run.
    due = list(session.scalars(
        select(Booking)
        .join(Equipment, Equipment.id == Booking.equipment_id)
        .where(Booking.status == BookingStatus.CONFIRMED, Booking.checked_in_at.is_(None),
               Equipment.check_in_required.is_(True), _overdue(graces, now))
        .order_by(Booking.start_at, Booking.id)
        .limit(limit)
        .with_for_update(of=Booking, skip_locked=True)
        .execution_options(populate_existing=True)))
    if not due:
        return ReleaseResult([], [], [])
    for booking in due:
        booking.status = BookingStatus.NO_SHOW
        booking.sequence += 1
        booking.updated_at = now
        audit.record(session, actor=None, action="booking.no_show", object_type="booking",
                     object_id=booking.id, now=now, before=BookingStatus.CONFIRMED.value,
                     after=BookingStatus.NO_SHOW.value,
                     grace_minutes=booking.equipment.check_in_grace_minutes)
        notifications.booking_changed(session, booking, now=now)
    session.flush()
    flagged = _flag(session, due, now=now, policy=policy)
    # The freed time, offered now rather than at the waiting list's next run
    # (its whole pass: expired offers first, so that they hold nothing).
    offered = waitlist.run(session, now=now, policy=policy, claim_hours=claim_hours).offered
    return ReleaseResult(due, offered, flagged)


# -- repeated no-shows ----------------------------------------------------------------

def _flag(session: Session, released: list[Booking], *, now: datetime,
          policy: Policy) -> list[int]:
    """E-mail the coordinators concerned about each person this run brought
    to the threshold (from below it to at or above it); their ids."""
    since, threshold = flag_window(now, policy), flag_count(policy)
    mine: dict[int, list[Booking]] = defaultdict(list)
    for booking in released:
        if booking.start_at >= since:
            mine[booking.trainer_id or booking.booked_by_id].append(booking)
    if not mine:
        return []
    who = person()
    totals = dict(session.execute(
        select(who, func.count())
        .where(Booking.status == BookingStatus.NO_SHOW, Booking.start_at >= since,
               who.in_(sorted(mine)))
        .group_by(who)).all())
    reached = [p for p, bookings in sorted(mine.items())
               if totals.get(p, 0) - len(bookings) < threshold <= totals.get(p, 0)]
    for person_id in reached:
        last = max(mine[person_id], key=lambda b: (b.start_at, b.id))
        _tell_coordinators(session, person_id, last, totals[person_id], now=now,
                           since=since, policy=policy)
    return reached


def _tell_coordinators(session: Session, person_id: int, last: Booking, count: int, *,
                       now: datetime, since: datetime, policy: Policy) -> None:
    """One message to each coordinator of an establishment owning a machine
    of the person's no-shows in the window."""
    subject_of = session.get(User, person_id)
    if subject_of is None:
        return
    owners = set(session.scalars(
        select(Equipment.establishment_id).join(Booking, Booking.equipment_id == Equipment.id)
        .where(Booking.status == BookingStatus.NO_SHOW, Booking.start_at >= since,
               person() == person_id)))
    zone = zone_of(last.equipment)
    params = {"name": subject_of.name, "n": count, "days": max(1, policy.no_show_flag_days),
              "equipment": last.equipment.name,
              "when": Span(last.start_at.astimezone(zone), last.end_at.astimezone(zone))}
    told: set[int] = set()
    for coordinators in coordinators_by_establishment(session, owners).values():
        for coordinator in coordinators:
            if coordinator.id in told:
                continue
            told.add(coordinator.id)
            body = render(coordinator, Nn_(
                "%(name)s did not check in for %(n)d booking in the last %(days)d days; the "
                "last one: %(equipment)s, %(when)s. Repeated no-shows are listed in your inbox.",
                "%(name)s did not check in for %(n)d bookings in the last %(days)d days; the "
                "last one: %(equipment)s, %(when)s. Repeated no-shows are listed in your inbox."),
                **params)
            mail = Mail(coordinator.email,
                        render(coordinator, N_("Repeated no-shows: %(name)s"), **params),
                        body + "\n\n" + f"{SITE}/coordination/inbox#no-shows")
            enqueue(session, mail, now=now,
                    dedupe_key=f"no-show-flag:{person_id}:{last.id}:{coordinator.id}")


# -- counts -------------------------------------------------------------------------

def counts_by_person(session: Session, *, start: datetime, end: datetime) -> dict[int, int]:
    """No-shows starting in [start, end), per person (trainer, else booker)."""
    who = person()
    return dict(session.execute(
        select(who, func.count())
        .where(Booking.status == BookingStatus.NO_SHOW, Booking.start_at >= start,
               Booking.start_at < end)
        .group_by(who)).all())


def counts_by_establishment(session: Session, *, start: datetime, end: datetime,
                            side: Literal["equipment", "person"] = "equipment",
                            ) -> dict[int | None, int]:
    """No-shows starting in [start, end), per establishment: the one owning
    the machine (``side="equipment"``), or the person's own (``"person"``;
    None for people of no establishment, companies' staff)."""
    if side == "equipment":
        key: Any = Equipment.establishment_id
        stmt = (select(key, func.count()).select_from(Booking)
                .join(Equipment, Equipment.id == Booking.equipment_id))
    else:
        key = User.establishment_id
        stmt = select(key, func.count()).select_from(Booking).join(User, User.id == person())
    return dict(session.execute(
        stmt.where(Booking.status == BookingStatus.NO_SHOW, Booking.start_at >= start,
                   Booking.start_at < end)
        .group_by(key)).all())


def flagged_people(session: Session, stmt: Any, *, limit: int) -> list[Flagged]:
    """The rows of inbox.queries.repeated_no_shows as people, the most
    no-shows first."""
    rows = stmt.subquery()
    found = session.execute(
        select(User, rows.c.no_shows, rows.c.last_at)
        .join(rows, rows.c.user_id == User.id)
        .options(joinedload(User.establishment))
        .order_by(rows.c.no_shows.desc(), rows.c.last_at.desc(), User.id)
        .limit(limit)).all()
    return [Flagged(user, count, last_at) for user, count, last_at in found]
