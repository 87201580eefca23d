"""Quotas on shared machines: what a booking would use, and the verdict.

Which quotas hold a booking on machine M: those of M itself, and those of M's
category owned by M's establishment (they count every machine of that
category of the owner). Each counts for the booker (per user) or for the
booker's establishment (see :mod:`booking.services.sharing.access` for whom
a quota applies to). Counted: bookings that hold their slot (pending,
confirmed, completed), by their whole length, in the period that contains
their start (:mod:`booking.services.sharing.quota_periods`); and, for a
limit of future bookings, those that start after now.

The check runs on every booking written: one query finds the quotas of the
machine, and only when some apply a second one reads the bookings they count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from booking.permissions import coordinates
from booking.services.errors import N_, Nn_, QuotaExceeded
from booking.services.sharing.access import applies
from booking.services.sharing.quota_periods import Hours, Window, minutes_between
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    Equipment,
    Establishment,
    Quota,
    QuotaAppliesTo,
    QuotaOver,
    User,
)


@dataclass(frozen=True)
class QuotaVerdict:
    """What the quotas say of one booking: refused ones raise QuotaExceeded."""

    # A quota with over=approval is passed: the booking waits for a decision.
    needs_approval: bool = False
    # Quotas a coordinator of the owner (or an admin) booked past: audited.
    overridden: tuple[Quota, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Use:
    """What one establishment or user holds of a quota: minutes in ``window``
    and bookings starting after now."""

    window: Window
    minutes: int
    future_bookings: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


@dataclass(frozen=True)
class _Counted:
    """One booking as the quotas count it."""

    equipment_id: int
    booked_by_id: int
    establishment_id: int | None  # the booker's
    start: datetime
    minutes: int


def quotas_of(equipment: Equipment) -> Select[tuple[Quota]]:
    """The quotas of a machine: its own and its owner's for its category."""
    return select(Quota).where(or_(
        Quota.equipment_id == equipment.id,
        and_(Quota.category == equipment.category,
             Quota.establishment_id == equipment.establishment_id)))


def _machines_clause(quotas: Sequence[Quota], equipment: Equipment) -> ColumnElement[bool]:
    """The machines these quotas (all of one machine) count: the machine, and
    the owner's machines of its category when a category quota is among them."""
    if any(q.category is not None for q in quotas):
        return Booking.equipment_id.in_(select(Equipment.id).where(
            Equipment.establishment_id == equipment.establishment_id,
            Equipment.category == equipment.category))
    return Booking.equipment_id == equipment.id


def _counted(session: Session, machines: ColumnElement[bool], *, user_id: int | None,
             establishment_id: int | None, windows: Iterable[Window], future_after: datetime | None,
             exclude_booking_ids: Iterable[int]) -> list[_Counted]:
    """The bookings that may count: on ``machines``, by the user or by a user
    of the establishment, starting in one of the windows or after ``future_after``."""
    whose = []
    if user_id is not None:
        whose.append(Booking.booked_by_id == user_id)
    if establishment_id is not None:
        whose.append(User.establishment_id == establishment_id)
    when = [and_(Booking.start_at >= w.start, Booking.start_at < w.end) for w in set(windows)]
    if future_after is not None:
        when.append(Booking.start_at > future_after)
    if not whose or not when:
        return []
    stmt = (select(Booking.equipment_id, Booking.booked_by_id, User.establishment_id,
                   Booking.start_at, Booking.end_at)
            .join(User, User.id == Booking.booked_by_id)
            .where(machines, Booking.status.in_(SLOT_HOLDING_STATUSES), or_(*whose),
                   or_(*when)))
    excluded = list(exclude_booking_ids)
    if excluded:
        stmt = stmt.where(Booking.id.not_in(excluded))
    return [_Counted(equipment_id, booked_by_id, establishment, start, minutes_between(start, end))
            for equipment_id, booked_by_id, establishment, start, end in session.execute(stmt)]


def _use_of(quota: Quota, rows: Iterable[_Counted], window: Window, now: datetime, *,
            user_id: int | None, establishment_id: int | None) -> Use:
    minutes = bookings = 0
    for row in rows:
        if quota.equipment_id is not None and row.equipment_id != quota.equipment_id:
            continue
        if quota.applies_to is QuotaAppliesTo.USER:
            if row.booked_by_id != user_id:
                continue
        elif establishment_id is None or row.establishment_id != establishment_id:
            continue
        if window.holds(row.start):
            minutes += row.minutes
        if row.start > now:
            bookings += 1
    return Use(window, minutes, bookings)


def quota_use(session: Session, quota: Quota, *, for_user: User | None = None,
              for_establishment_id: int | None = None, now: datetime) -> Use:
    """What ``for_user`` (a quota per user) or ``for_establishment_id`` (per
    establishment) holds of ``quota`` in the period that contains ``now``."""
    window = Window.containing(quota.period, now)
    if quota.applies_to is QuotaAppliesTo.USER:
        user_id, establishment_id = (for_user.id if for_user else None), None
    else:
        user_id, establishment_id = None, for_establishment_id
    if user_id is None and establishment_id is None:
        return Use(window, 0, 0)
    if quota.equipment_id is not None:
        machines = Booking.equipment_id == quota.equipment_id
    else:
        machines = Booking.equipment_id.in_(select(Equipment.id).where(
            Equipment.establishment_id == quota.establishment_id,
            Equipment.category == quota.category))
    rows = _counted(session, machines, user_id=user_id, establishment_id=establishment_id,
                    windows=[window], future_after=now, exclude_booking_ids=())
    return _use_of(quota, rows, window, now, user_id=user_id,
                   establishment_id=establishment_id)


def check_quotas(session: Session, *, actor: User, equipment: Equipment, start: datetime,
                 end: datetime, now: datetime, booked_by: User | None = None,
                 exclude_booking_ids: Iterable[int] = ()) -> QuotaVerdict:
    """The quotas' verdict on a booking of ``equipment`` from ``start`` to
    ``end`` booked by ``booked_by`` (the actor by default): QuotaExceeded for
    a quota past its limit that refuses; ``needs_approval`` for one that sends
    to approval; the quotas a coordinator of the owner or an admin passes are
    neither, only ``overridden`` (the caller audits them)."""
    booker = booked_by or actor
    quotas = sorted((q for q in session.scalars(quotas_of(equipment)) if applies(q, booker)),
                    key=lambda q: q.id)
    if not quotas:
        return QuotaVerdict()
    requested = minutes_between(start, end)
    windows = {q.id: Window.containing(q.period, start)
               for q in quotas if q.max_minutes is not None}
    counts_future = any(q.max_future_bookings is not None for q in quotas)
    per_establishment = any(q.applies_to is QuotaAppliesTo.ESTABLISHMENT for q in quotas)
    rows = _counted(session, _machines_clause(quotas, equipment),
                    user_id=booker.id if any(q.applies_to is QuotaAppliesTo.USER
                                             for q in quotas) else None,
                    establishment_id=booker.establishment_id if per_establishment else None,
                    windows=windows.values(), future_after=now if counts_future else None,
                    exclude_booking_ids=exclude_booking_ids)
    passed: list[tuple[Quota, QuotaExceeded]] = []
    for quota in quotas:
        window = windows.get(quota.id) or Window.containing(quota.period, start)
        use = _use_of(quota, rows, window, now, user_id=booker.id,
                      establishment_id=booker.establishment_id)
        refusal = _refusal(session, quota, use, requested, equipment, booker,
                           future=start > now)
        if refusal is not None:
            passed.append((quota, refusal))
    overridden = tuple(q for q, _ in passed if coordinates(actor, q.establishment_id))
    for quota, refusal in passed:
        if quota not in overridden and quota.over is QuotaOver.REFUSE:
            raise refusal
    return QuotaVerdict(
        needs_approval=any(q not in overridden and q.over is QuotaOver.APPROVAL
                           for q, _ in passed),
        overridden=overridden)


# --- the refusal, in words ----------------------------------------------------------------

_HOURS = {
    (QuotaAppliesTo.ESTABLISHMENT, False): N_(
        "%(establishment)s has already booked %(used)s on %(machine)s %(window)s; with this "
        "booking (%(requested)s), the establishment's quota of %(limit)s would be exceeded."),
    (QuotaAppliesTo.ESTABLISHMENT, True): N_(
        "%(establishment)s has already booked %(used)s on the “%(category)s” machines of "
        "%(owner)s %(window)s; with this booking (%(requested)s), the establishment's quota "
        "of %(limit)s would be exceeded."),
    (QuotaAppliesTo.USER, False): N_(
        "%(user)s has already booked %(used)s on %(machine)s %(window)s; with this booking "
        "(%(requested)s), their personal quota of %(limit)s would be exceeded."),
    (QuotaAppliesTo.USER, True): N_(
        "%(user)s has already booked %(used)s on the “%(category)s” machines of %(owner)s "
        "%(window)s; with this booking (%(requested)s), their personal quota of %(limit)s "
        "would be exceeded."),
}
_BOOKINGS = {
    (QuotaAppliesTo.ESTABLISHMENT, False): Nn_(
        "%(establishment)s already holds %(used)d future booking on %(machine)s; its quota "
        "allows %(limit)d.",
        "%(establishment)s already holds %(used)d future bookings on %(machine)s; its quota "
        "allows %(limit)d.", count="used"),
    (QuotaAppliesTo.ESTABLISHMENT, True): Nn_(
        "%(establishment)s already holds %(used)d future booking on the “%(category)s” "
        "machines of %(owner)s; its quota allows %(limit)d.",
        "%(establishment)s already holds %(used)d future bookings on the “%(category)s” "
        "machines of %(owner)s; its quota allows %(limit)d.", count="used"),
    (QuotaAppliesTo.USER, False): Nn_(
        "%(user)s already holds %(used)d future booking on %(machine)s; their personal "
        "quota allows %(limit)d.",
        "%(user)s already holds %(used)d future bookings on %(machine)s; their personal "
        "quota allows %(limit)d.", count="used"),
    (QuotaAppliesTo.USER, True): Nn_(
        "%(user)s already holds %(used)d future booking on the “%(category)s” machines of "
        "%(owner)s; their personal quota allows %(limit)d.",
        "%(user)s already holds %(used)d future bookings on the “%(category)s” machines of "
        "%(owner)s; their personal quota allows %(limit)d.", count="used"),
}


def _refusal(session: Session, quota: Quota, use: Use, requested: int, equipment: Equipment,
             booker: User, *, future: bool) -> QuotaExceeded | None:
    """The error this booking meets at ``quota``, or None when it fits."""
    over_hours = quota.max_minutes is not None and use.minutes + requested > quota.max_minutes
    over_bookings = future and quota.max_future_bookings is not None \
        and use.future_bookings + 1 > quota.max_future_bookings
    if not over_hours and not over_bookings:
        return None
    details = {"quota_id": quota.id, "applies_to": quota.applies_to.value,
               "period": quota.period.value, "requested_hours": round(requested / 60, 2)}
    whose = {"user": booker.name} if quota.applies_to is QuotaAppliesTo.USER else \
        {"establishment": _name(session, booker.establishment_id)}
    by_category = quota.category is not None
    what = {"category": quota.category, "owner": _name(session, quota.establishment_id)} \
        if by_category else {"machine": equipment.name}
    key = (quota.applies_to, by_category)
    if over_hours and quota.max_minutes is not None:
        return QuotaExceeded(
            _HOURS[key], {**details, "limit_hours": round(quota.max_minutes / 60, 2),
                          "used_hours": use.hours},
            used=Hours(use.minutes), requested=Hours(requested), limit=Hours(quota.max_minutes),
            window=use.window, **whose, **what)
    return QuotaExceeded(
        _BOOKINGS[key], {**details, "limit_bookings": quota.max_future_bookings,
                         "used_bookings": use.future_bookings},
        used=use.future_bookings, limit=quota.max_future_bookings, **whose, **what)


def _name(session: Session, establishment_id: int | None) -> str:
    establishment = session.get(Establishment, establishment_id) if establishment_id else None
    return establishment.name if establishment is not None else ""


def reader_use(session: Session, quota: Quota, reader: User, *, now: datetime) -> Use | None:
    """What the pages and the API show a reader of a quota: their own use of a
    per-user quota, their establishment's of a per-establishment one; for a
    coordinator of the owner, the beneficiary's when it names one; None when
    the quota counts nobody the reader answers for."""
    if applies(quota, reader):
        if quota.applies_to is QuotaAppliesTo.USER:
            return quota_use(session, quota, for_user=reader, now=now)
        return quota_use(session, quota, for_establishment_id=reader.establishment_id, now=now)
    if quota.applies_to is QuotaAppliesTo.ESTABLISHMENT \
            and quota.beneficiary_establishment_id is not None \
            and coordinates(reader, quota.establishment_id):
        return quota_use(session, quota,
                         for_establishment_id=quota.beneficiary_establishment_id, now=now)
    return None
