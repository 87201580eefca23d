"""The rules a booking must pass (PRODUCT.md), each refusal a typed error
whose message names the rule and the data in a trainer's words.

The checks run in the order of :func:`check_all`, so a request that breaks
several rules is told about the most basic one first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.labels import Period
from booking.services.bookings.occupancy import (
    collisions,
    held_until,
    occupied_equipment,
    related_equipment,
)
from booking.services.bookings.trainers import check_trainer
from booking.services.bookings.windows import check_windows
from booking.services.equipment import hours
from booking.services.errors import (
    N_,
    BadDuration,
    BeyondHorizon,
    CertificationRequired,
    Closed,
    Conflict,
    EquipmentUnavailable,
    InPast,
    NotAligned,
    OutsideOpeningHours,
    TrainerBusy,
    ValidationError,
    translate,
)
from booking.services.policy import CAMPUS_ZONE, Policy
from models import Certification, CertificationType, Equipment, EquipmentStatus, User


def fmt(value: datetime, zone: ZoneInfo) -> datetime:
    """The instant in the equipment's zone: a message shows it in the reader's
    language (booking.labels), never as ISO or a strftime pattern."""
    return value.astimezone(zone)


@dataclass(frozen=True)
class Slot:
    """A proposed occupation of ``equipment`` from ``start`` to ``end`` (UTC)."""

    equipment: Equipment
    start: datetime
    end: datetime

    @property
    def zone(self) -> ZoneInfo:
        return hours.zone_of(self.equipment)


def check_times(slot: Slot, *, now: datetime, policy: Policy) -> None:
    """Rule 1 and the time limits of rule 2: order, past, horizon, grid, duration."""
    eq, zone = slot.equipment, slot.zone
    if slot.start >= slot.end:
        raise ValidationError(N_("The booking must end after it starts."),
                              {"field": "end"})
    if slot.start < now:
        raise InPast(N_("%(start)s is in the past: a booking must start in the future."),
                     start=fmt(slot.start, zone))
    if slot.start > now + timedelta(days=policy.horizon_days):
        raise BeyondHorizon(
            N_("Bookings open %(days)d days ahead: %(start)s is too far away."),
            {"horizon_days": policy.horizon_days}, days=policy.horizon_days,
            start=fmt(slot.start, zone))
    local = slot.start.astimezone(zone)
    minutes_into_day = local.hour * 60 + local.minute
    duration = int((slot.end - slot.start).total_seconds() // 60)
    if (local.second or local.microsecond or minutes_into_day % eq.slot_minutes
            or (slot.end - slot.start).total_seconds() % (eq.slot_minutes * 60)):
        raise NotAligned(
            N_("%(equipment)s is booked in steps of %(slot)d minutes from the hour: "
               "choose a start and an end on that grid."),
            {"slot_minutes": eq.slot_minutes}, equipment=eq.name, slot=eq.slot_minutes)
    if not eq.min_minutes <= duration <= eq.max_minutes:
        raise BadDuration(
            N_("A booking of %(equipment)s lasts from %(min)d to %(max)d minutes, "
               "not %(minutes)d."),
            {"min_minutes": eq.min_minutes, "max_minutes": eq.max_minutes},
            equipment=eq.name, min=eq.min_minutes, max=eq.max_minutes, minutes=duration)


def check_status(equipment: Equipment) -> None:
    """Rule 3: every machine the booking holds is active."""
    for held in related_equipment(equipment):
        if held.status is not EquipmentStatus.ACTIVE:
            template = (N_("%(equipment)s is under maintenance: %(reason)s")
                        if held.status is EquipmentStatus.MAINTENANCE
                        else N_("%(equipment)s is retired: %(reason)s"))
            raise EquipmentUnavailable(
                template, {"equipment_id": held.id, "status": held.status.value},
                equipment=held.name, reason=held.status_reason or "-")


def check_calendar(session: Session, slot: Slot) -> None:
    """Rule 2: public holidays, closures, opening hours."""
    eq, zone = slot.equipment, slot.zone
    if not eq.open_on_holidays:
        for day in hours.local_days(slot.start, slot.end, zone):
            name = hours.holiday_name(day)
            if name is not None:
                raise Closed(N_("%(day)s is a public holiday (%(name)s): %(equipment)s "
                                "does not open on public holidays."),
                             {"holiday": day.isoformat()}, day=day, name=HolidayName(day),
                             equipment=eq.name)
    held_ids = [e.id for e in related_equipment(eq)]
    closures = hours.closures_meeting(session, held_ids, eq.establishment_id,
                                         slot.start, slot.end)
    if closures:
        closure = closures[0]
        raise Closed(
            N_("Closed %(when)s: %(reason)s"),
            {"conflicts": [{"closure_id": c.id, "start": c.start_at.astimezone(zone).isoformat(),
                            "end": c.end_at.astimezone(zone).isoformat(), "reason": c.reason}
                           for c in closures]},
            when=Period(fmt(closure.start_at, zone), fmt(closure.end_at, zone)),
            reason=closure.reason)
    opening = hours.opening_intervals(eq, slot.start, slot.end, skip_holidays=False)
    if not any(s <= slot.start and slot.end <= e for s, e in opening):
        raise OutsideOpeningHours(
            N_("%(equipment)s is not open throughout the slot asked %(when)s; "
               "its opening hours are %(hours)s."),
            equipment=eq.name, when=Period(fmt(slot.start, zone), fmt(slot.end, zone)),
            hours=WeeklyHours.of(eq))


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class HolidayName:
    """A public holiday's name as a message parameter, in the reader's language."""

    day: date

    def shown_in(self, locale: Any) -> str:
        language = "fr" if locale.language == "fr" else "en_US"
        return hours.holiday_name(self.day, language) or ""

    def __str__(self) -> str:
        return hours.holiday_name(self.day, "en_US") or ""


@dataclass(frozen=True)
class WeeklyHours:
    """Opening hours as a message parameter, with the weekdays written in the
    reader's language when shown (copied: a message may be shown after a rollback)."""

    intervals: tuple[tuple[int, time, time], ...]

    @classmethod
    def of(cls, equipment: Equipment) -> WeeklyHours:
        return cls(tuple((h.weekday, h.opens, h.closes) for h in equipment.opening_hours))

    def shown_in(self, locale: Any) -> str:
        names = get_day_names("abbreviated", locale=locale)
        return describe_hours(self.intervals, [names[day] for day in range(7)])

    def __str__(self) -> str:
        return describe_hours(self.intervals)


def describe_opening_hours(equipment: Equipment,
                           day_names: Sequence[str] = WEEKDAYS) -> str:
    """E.g. "Mon–Fri 08:00–18:00 · Sat 08:00–12:00": consecutive days with the
    same hours are grouped."""
    return describe_hours([(h.weekday, h.opens, h.closes) for h in equipment.opening_hours],
                          day_names)


def describe_hours(intervals: Iterable[tuple[int, time, time]],
                   day_names: Sequence[str] = WEEKDAYS) -> str:
    by_day: dict[int, str] = {}
    for weekday, opens, closes in intervals:
        hours = f"{opens:%H:%M}–{closes:%H:%M}"
        by_day[weekday] = f"{by_day[weekday]}, {hours}" if weekday in by_day else hours
    parts: list[str] = []
    days = sorted(by_day)
    while days:
        first = last = days.pop(0)
        while days and days[0] == last + 1 and by_day[days[0]] == by_day[first]:
            last = days.pop(0)
        label = day_names[first] if first == last else f"{day_names[first]}–{day_names[last]}"
        parts.append(f"{label} {by_day[first]}")
    # « · » between day groups: a semicolon would need French's no-break space.
    return " · ".join(parts) if parts else "-"


def required_types(equipment: Equipment) -> list[CertificationType]:
    """Types required by the equipment and, for a line, by each component."""
    found: dict[int, CertificationType] = {}
    for item in [equipment, *equipment.components]:
        for ctype in item.required_certification_types:
            found.setdefault(ctype.id, ctype)
    return sorted(found.values(), key=lambda t: t.code)


def certification_days(start: datetime, end: datetime) -> tuple[date, date]:
    days = hours.local_days(start, end, CAMPUS_ZONE)
    return days[0], days[-1]


def missing_certifications(session: Session, trainer: User | None,
                           types: Iterable[CertificationType], start: datetime,
                           end: datetime) -> list[tuple[CertificationType, date | None]]:
    """Each required type the trainer does not hold for the whole booking, with
    the last day they held it (None if never)."""
    types = list(types)
    if not types or trainer is None:
        return missing_from([], types, start, end)
    certs = session.scalars(select(Certification).where(
        Certification.user_id == trainer.id,
        Certification.certification_type_id.in_([t.id for t in types])))
    return missing_from(list(certs), types, start, end)


def missing_from(certifications: Iterable[Certification], types: Iterable[CertificationType],
                 start: datetime, end: datetime) -> list[tuple[CertificationType, date | None]]:
    """missing_certifications on certifications already loaded (a job checking
    many bookings loads each trainer's once)."""
    first, last = certification_days(start, end)
    held: dict[int, list[Certification]] = {}
    for cert in certifications:
        held.setdefault(cert.certification_type_id, []).append(cert)
    missing = []
    for ctype in types:
        certs = held.get(ctype.id, [])
        if any(c.covers(first, last) for c in certs):
            continue
        past = [c.valid_until for c in certs if c.revoked_at is None and c.valid_until < last]
        missing.append((ctype, max(past) if past else None))
    return missing


@dataclass(frozen=True)
class MissingTypes:
    """The missing certification types as a message parameter: "CACES R486 (R486),
    held until <date>", the date written in the reader's language when shown."""

    types: tuple[tuple[str, str, date | None], ...]

    def shown_in(self, _locale: Any) -> str:
        return ", ".join(
            translate(N_("%(name)s (%(code)s), held until %(date)s"),
                      {"name": name, "code": code, "date": until})
            if until else f"{name} ({code})" for name, code, until in self.types)

    def __str__(self) -> str:
        return ", ".join(f"{name} ({code})" + (f", held until {until}" if until else "")
                         for name, code, until in self.types)


def describe_missing(missing: Any) -> tuple[dict[str, Any], MissingTypes]:
    """The refusal's ``details.missing`` and the types named in its sentence."""
    details = {"missing": [{"id": t.id, "code": t.code, "name": t.name,
                            "held_until": until.isoformat() if until else None}
                           for t, until in missing]}
    return details, MissingTypes(tuple((t.name, t.code, until) for t, until in missing))


def check_certifications(session: Session, slot: Slot, trainer: User | None,
                         actor: User | None = None) -> None:
    """Rule 5: the trainer holds every required type for the whole booking.
    A trainer booking for themselves is told « vous », with no gendered form."""
    missing = missing_certifications(session, trainer, required_types(slot.equipment),
                                     slot.start, slot.end)
    if not missing:
        return
    details, names = describe_missing(missing)
    if trainer is None:
        raise CertificationRequired(
            N_("%(equipment)s needs a trainer holding: %(missing)s."), details,
            equipment=slot.equipment.name, missing=names)
    if actor is not None and actor.id == trainer.id:
        raise CertificationRequired(
            N_("To book %(equipment)s on these dates, you are missing: %(missing)s."),
            details, equipment=slot.equipment.name, missing=names)
    raise CertificationRequired(
        N_("%(trainer)s is not certified for %(equipment)s on these dates: "
           "missing %(missing)s."), details,
        trainer=trainer.name, equipment=slot.equipment.name, missing=names)


def check_conflicts(session: Session, slot: Slot,
                    exclude_booking_ids: Iterable[int] = ()) -> None:
    """Rule 4: nothing else holds any machine of the booking, changeover included."""
    eq, zone = slot.equipment, slot.zone
    found = collisions(session, [e.id for e in occupied_equipment(eq)], slot.start,
                       held_until(eq, slot.end), exclude_booking_ids=exclude_booking_ids)
    if found:
        raise conflict_error(found, eq, zone)


def conflict_error(found: list, equipment: Equipment, zone: ZoneInfo) -> Conflict:
    if not found:
        return Conflict(N_("%(equipment)s was booked by someone else at the same moment."),
                        {"conflicts": []}, equipment=equipment.name)
    first = found[0]
    return Conflict(
        N_("Slot already taken on %(equipment)s %(when)s "
           "(booking %(booking)d, changeover included)."),
        {"conflicts": [{"booking_id": c.booking_id, "start": c.start.astimezone(zone).isoformat(),
                        "end": c.end.astimezone(zone).isoformat(),
                        "held_until": c.held_until.astimezone(zone).isoformat(),
                        "equipment_id": c.equipment_id} for c in found]},
        equipment=equipment.name,
        when=Period(fmt(first.start, zone), fmt(first.held_until, zone)),
        booking=first.booking_id)


def check_all(session: Session, slot: Slot, *, trainer: User | None, now: datetime,
              policy: Policy, check_certification: bool = True,
              exclude_booking_ids: Iterable[int] = (), actor: User | None = None,
              group_id: str | None = None) -> None:
    check_times(slot, now=now, policy=policy)
    check_windows(slot.equipment, slot.start, actor=actor, now=now)
    check_status(slot.equipment)
    check_calendar(session, slot)
    if check_certification:
        check_certifications(session, slot, trainer, actor)
    check_conflicts(session, slot, exclude_booking_ids)
    try:
        check_trainer(session, slot.equipment, slot.start, slot.end, trainer,
                      group_id=group_id, exclude_booking_ids=exclude_booking_ids, actor=actor)
    except TrainerBusy:
        # A booking of this machine committed since check_conflicts read (it
        # holds the same trainer): the machine's conflict is the answer.
        check_conflicts(session, slot, exclude_booking_ids)
        raise
