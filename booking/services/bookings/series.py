"""Recurring series: booking all the occurrences of a rule (expanded by
:mod:`booking.services.bookings.recurrence`, up to the horizon) or what fits, and
changes to one occurrence, the following ones or all.

Edits and cancellations only touch occurrences that are still active: a
cancelled occurrence is never brought back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.services import audit
from booking.services.bookings.operations import (
    ACTIVE,
    BookingRequest,
    cancel_booking,
    create_booking,
    move_booking,
    resolve,
    with_times,
)
from booking.services.bookings.recurrence import expand
from booking.services.equipment import hours
from booking.services.errors import (
    N_,
    CertificationRequired,
    DomainError,
    Forbidden,
    Nn_,
    NotFound,
    ValidationError,
)
from booking.services.messaging import notifications
from booking.services.policy import Policy
from models import Booking, BookingSeries, User

# "group": the bookings made together over several machines (services.bookings.groups).
SCOPES = ("occurrence", "following", "series", "group")


@dataclass(frozen=True)
class Skipped:
    start: datetime
    end: datetime
    error: DomainError


@dataclass
class SeriesResult:
    series: BookingSeries | None
    created: list[Booking]
    skipped: list[Skipped]


class SeriesRefused(DomainError):
    """All or nothing: some occurrences fail, so none is booked. Only for
    several occurrences: one booking refused is told its rule's own error."""

    def __init__(self, skipped: list[Skipped], total: int) -> None:
        first = skipped[0].error
        super().__init__(
            Nn_("%(failed)d of %(total)d occurrences cannot be booked, so none was. "
                "First refusal: %(first)s",
                "%(failed)d of %(total)d occurrences cannot be booked, so none was. "
                "First refusal: %(first)s", count="failed"),
            {"occurrences": [occurrence_details(s) for s in skipped], **first.details},
            code=first.code, failed=len(skipped), total=total, first=first)
        self.status = first.status


def refusal(skipped: list[Skipped], total: int) -> DomainError:
    """The error of a refused change: the rule's own when it addressed one
    booking, else the series' (which carries the first rule's code)."""
    return skipped[0].error if total == 1 else SeriesRefused(skipped, total)


def occurrence_details(skipped: Skipped) -> dict[str, object]:
    return {"start": skipped.start.isoformat(), "end": skipped.end.isoformat(),
            "error": skipped.error.code, "message": skipped.error.message}


def create_series(session: Session, *, actor: User, request: BookingRequest, rule: str,
                  skip_conflicts: bool, now: datetime, policy: Policy) -> SeriesResult:
    """Book every occurrence, or (``skip_conflicts``) those that pass and
    report the others with the error each would have had alone."""
    begin_write(session)
    resolved = resolve(session, actor, request)
    zone = hours.zone_of(resolved.equipment)
    occurrences = expand(rule, request.start, request.end, zone, policy, now)
    created: list[Booking] = []
    skipped: list[Skipped] = []
    with session.begin_nested():
        series = BookingSeries(
            equipment_id=resolved.equipment.id, rrule=rule.strip(), first_start=request.start,
            duration_minutes=int((request.end - request.start).total_seconds() // 60),
            timezone=zone.key, created_by_id=actor.id, created_at=now)
        session.add(series)
        session.flush()
        for start, end in occurrences:
            try:
                created.append(create_booking(
                    session, actor=actor, request=with_times(request, start, end), now=now,
                    policy=policy, series=series, resolved=resolved, notify=False))
            except CertificationRequired as exc:  # per occurrence: a certification may lapse
                skipped.append(Skipped(start.astimezone(zone), end.astimezone(zone), exc))
            except (Forbidden, NotFound):
                raise
            except DomainError as exc:
                skipped.append(Skipped(start.astimezone(zone), end.astimezone(zone), exc))
        if skipped and (not skip_conflicts or not created):
            raise refusal(skipped, len(occurrences))
        audit.record(session, actor=actor, action="series.create", object_type="series",
                     object_id=series.id, now=now, rrule=series.rrule,
                     created=len(created), skipped=len(skipped))
        notifications.series_booked(session, created, now=now)
    return SeriesResult(series, created, skipped)


def in_scope(session: Session, booking: Booking, scope: str, now: datetime) -> list[Booking]:
    """The still active, not yet finished occurrences a change addresses."""
    if scope not in SCOPES:
        raise ValidationError(N_("Scope is one of occurrence, following, series, group."),
                              {"field": "scope"})
    if scope == "group":
        if booking.group_id is None:
            return [booking]
        stmt = select(Booking).where(Booking.group_id == booking.group_id,
                                     Booking.status.in_(ACTIVE), Booking.end_at > now)
        return list(session.scalars(stmt.order_by(Booking.id))) or [booking]
    if scope == "occurrence" or booking.series_id is None:
        return [booking]
    stmt = select(Booking).where(Booking.series_id == booking.series_id,
                                 Booking.status.in_(ACTIVE), Booking.end_at > now)
    if scope == "following":
        stmt = stmt.where(Booking.start_at >= booking.start_at)
    targets = list(session.scalars(stmt.order_by(Booking.start_at)))
    return targets or [booking]


def cancel_in_scope(session: Session, *, actor: User, booking: Booking, scope: str,
                    now: datetime, reason: str | None) -> list[Booking]:
    begin_write(session)
    targets = in_scope(session, booking, scope, now)
    if scope != "occurrence" and booking not in targets:
        targets = [booking, *targets]
    return [cancel_booking(session, actor=actor, booking=b, now=now, reason=reason)
            for b in targets]


def move_in_scope(session: Session, *, actor: User, booking: Booking, scope: str,
                  now: datetime, policy: Policy, start: datetime | None = None,
                  end: datetime | None = None, title: str | None = None) -> list[Booking]:
    """Apply the addressed occurrence's change to the others in the scope, as a
    shift of local wall-clock time (09:00→10:00 stays so across DST); all or
    nothing."""
    begin_write(session)
    targets = in_scope(session, booking, scope, now)
    zone = hours.zone_of(booking.equipment)
    shift_start = _wall_shift(booking.start_at, start, zone)
    shift_end = _wall_shift(booking.end_at, end, zone)
    moved: list[Booking] = []
    skipped: list[Skipped] = []
    before: dict[int, tuple[datetime, datetime, int]] = {}
    with session.begin_nested():
        for target in sorted(targets, key=lambda b: b.start_at, reverse=shift_start > timedelta(0)):
            new_start = _shifted(target.start_at, shift_start, zone) if start else None
            new_end = _shifted(target.end_at, shift_end, zone) if end else None
            try:
                before[target.id] = (target.start_at, target.end_at, target.sequence)
                moved.append(move_booking(session, actor=actor, booking=target, now=now,
                                          policy=policy, start=new_start, end=new_end,
                                          title=title, notify=False))
            except CertificationRequired as exc:
                skipped.append(Skipped((new_start or target.start_at).astimezone(zone),
                                       (new_end or target.end_at).astimezone(zone), exc))
            except (Forbidden, NotFound):
                raise
            except DomainError as exc:
                skipped.append(Skipped((new_start or target.start_at).astimezone(zone),
                                       (new_end or target.end_at).astimezone(zone), exc))
        if skipped:
            raise refusal(skipped, len(targets))
    moved.sort(key=lambda b: b.start_at)
    _tell(session, moved, before, now)
    return moved


def _tell(session: Session, changed: list[Booking],
          before: dict[int, tuple[datetime, datetime, int]], now: datetime) -> None:
    """One mail for the occurrences moved together; a retitled one as before."""
    moves = [(b, before[b.id][0], before[b.id][1]) for b in changed
             if (b.start_at, b.end_at) != before[b.id][:2]]
    notifications.booking_moved(session, moves, now=now)
    for b in changed:
        if (b.start_at, b.end_at) == before[b.id][:2] and b.sequence != before[b.id][2]:
            notifications.booking_changed(session, b, now=now)


def _wall_shift(old: datetime, new: datetime | None, zone: ZoneInfo) -> timedelta:
    if new is None:
        return timedelta(0)
    return new.astimezone(zone).replace(tzinfo=None) - old.astimezone(zone).replace(tzinfo=None)


def _shifted(value: datetime, shift: timedelta, zone: ZoneInfo) -> datetime:
    local = value.astimezone(zone).replace(tzinfo=None) + shift
    return local.replace(tzinfo=zone).astimezone(UTC)
