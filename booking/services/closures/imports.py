"""Closures imported from an iCalendar file (the school-holiday calendar of a
zone, a maintenance plan exported from another tool).

Each VEVENT becomes a closure of one establishment or one machine, matched by
its UID: importing the same file again changes nothing, a changed event
updates its closure, a cancelled one (STATUS:CANCELLED) removes it. Events
that ended before ``now`` are skipped. All-day events (DATE values, DTEND
excluded) close whole local days of the establishment's zone; timed events
carry a TZID or are UTC, and floating times are read in that zone too.

The whole file is checked before anything is written: a broken file is
refused with the number of the first line at fault. That includes what the
pages would refuse (booking.services.inputs): a UID or SUMMARY with control
characters, a date outside the supported years, a DURATION that overflows. ``icalendar`` itself
accepts broken lines and only lists them, so the lines are scanned here first.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component
from icalendar.parser import Contentline
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.permissions import may
from booking.services import audit
from booking.services.closures.operations import ClosureTarget, closure_target
from booking.services.errors import N_, Conflict, Forbidden, ValidationError
from booking.services.inputs import in_supported_years, text_problem
from booking.services.policy import FIRST_YEAR, LAST_YEAR
from models import Closure, ClosureKind, Equipment, Establishment, User

MAX_BYTES = 2 * 1024 * 1024  # below config.MAX_CONTENT_LENGTH, which adds the form around it
MAX_UID = 255  # Closure.source_uid
MAX_REASON = 2000  # as the closure form's reason
NEWLINE = re.compile(r"\r?\n")  # as icalendar splits lines
NOT_SINGLE = ("RRULE", "RDATE", "RECURRENCE-ID")
# The partial unique indexes of models/closure.py, as PostgreSQL and SQLite name them.
UID_TAKEN = re.compile(r"\buq_closure_(establishment|equipment)_id_source_uid\b"
                       r"|closure\.(establishment|equipment)_id, closure\.source_uid")


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int
    removed: int = 0  # cancelled in the file
    skipped: int = 0  # over before now, or cancelled and never imported


@dataclass
class _Scanned:
    """A component as the scan saw it: its BEGIN line and its properties' lines."""

    name: str
    line: int
    properties: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str | None) -> int:
        return self.properties.get((name or "").upper(), self.line)


@dataclass(frozen=True)
class _Event:
    uid: str
    start: datetime
    end: datetime
    reason: str
    kind: ClosureKind
    cancelled: bool


def _refuse(template: str, line: int, **params: Any) -> ValidationError:
    return ValidationError(template, {"field": "file", "line": line}, line=line, **params)


# --- reading the file -----------------------------------------------------------


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationError(N_("The file is larger than %(size)d MB."), {"field": "file"},
                              size=MAX_BYTES // (1024 * 1024))
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _refuse(N_("Line %(line)d is not UTF-8 text."), line) from None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfolded content lines, each with the number of its first physical line."""
    lines: list[tuple[int, str]] = []
    for number, physical in enumerate(NEWLINE.split(text), start=1):
        if physical[:1] in (" ", "\t") and lines:
            first, so_far = lines[-1]
            lines[-1] = (first, so_far + physical[1:])
        elif physical:
            lines.append((number, physical))
    return lines


def _scan(text: str) -> list[_Scanned]:
    """Check every content line and the nesting of BEGIN/END; the components in
    document order (the order of ``Component.walk``)."""
    components: list[_Scanned] = []
    open_: list[_Scanned] = []
    closed = False
    for number, line in _logical_lines(text):
        try:
            name, _params, value = Contentline(line).parts()
        except ValueError:  # icalendar's words are English: ours name the line
            raise _refuse(N_("Line %(line)d cannot be read: a calendar line is written "
                             "NAME:value (or NAME;PARAMETER=value:value)."), number) from None
        name, value = name.upper(), value.strip().upper()
        if closed:
            raise _refuse(N_("Line %(line)d: nothing may follow END:VCALENDAR."), number)
        if not open_ and (name, value) != ("BEGIN", "VCALENDAR"):
            raise _refuse(N_("Line %(line)d: a calendar file starts with BEGIN:VCALENDAR."),
                          number)
        if name == "BEGIN":
            open_.append(_Scanned(value, number))
            components.append(open_[-1])
        elif name == "END":
            if value != open_[-1].name:
                raise _refuse(N_("Line %(line)d: END:%(found)s where END:%(expected)s "
                                 "was expected."), number, found=value,
                              expected=open_[-1].name)
            open_.pop()
            closed = not open_
        else:
            open_[-1].properties.setdefault(name, number)
    if open_:
        raise _refuse(N_("Line %(line)d: BEGIN:%(name)s is never closed."), open_[-1].line,
                      name=open_[-1].name)
    if not components:
        raise _refuse(N_("Line %(line)d: the file holds no calendar."), 1)
    return components


def _parse(data: bytes) -> list[tuple[Component, _Scanned]]:
    text = _text(data)
    scanned = _scan(text)
    try:
        calendar = Calendar.from_ical(text)
    except ValueError:  # the scan should have seen it first
        raise _refuse(N_("Line %(line)d: this calendar file cannot be read."), 1) from None
    components = list(calendar.walk())
    if [c.name for c in components] != [s.name for s in scanned]:
        raise _refuse(N_("Line %(line)d: this calendar file cannot be read."), 1)
    for component, seen in zip(components, scanned, strict=True):
        if component.errors:  # values icalendar kept as "broken": the first one
            name, _problem = component.errors[0]  # icalendar's words are English
            raise _refuse(N_("Line %(line)d: the value of %(name)s cannot be read."),
                          seen.line_of(name), name=name or component.name)
    return [(c, s) for c, s in zip(components, scanned, strict=True) if c.name == "VEVENT"]


def _kind(summary: str) -> ClosureKind:
    lowered = summary.lower()
    if "vacances" in lowered:
        return ClosureKind.HOLIDAYS
    if "maintenance" in lowered:
        return ClosureKind.MAINTENANCE
    return ClosureKind.OTHER


def _instant(value: date | datetime, line: int, has_tzid: bool, zone: ZoneInfo) -> datetime:
    if not in_supported_years(value):  # before the conversion to UTC, which could overflow
        raise _refuse(N_("Line %(line)d: choose a date between %(first)d and %(last)d."),
                      line, first=FIRST_YEAR, last=LAST_YEAR)
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)
    if value.tzinfo is None:
        if has_tzid:  # icalendar leaves times of a zone it does not know naive
            raise _refuse(N_("Line %(line)d: unknown time zone."), line)
        value = value.replace(tzinfo=zone)  # floating: the establishment's local time
    return value.astimezone(UTC)


def _period(event: Component, seen: _Scanned, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if "DTSTART" not in event:
        raise _refuse(N_("Line %(line)d: the event has no DTSTART."), seen.line)
    start = event.decoded("DTSTART")
    if not in_supported_years(start):  # before the end is computed from it
        raise _refuse(N_("Line %(line)d: choose a date between %(first)d and %(last)d."),
                      seen.line_of("DTSTART"), first=FIRST_YEAR, last=LAST_YEAR)
    all_day = not isinstance(start, datetime)
    if "DTEND" in event:
        end = event.decoded("DTEND")
        if all_day != (not isinstance(end, datetime)):
            raise _refuse(N_("Line %(line)d: DTSTART and DTEND must both be dates or both "
                             "date-times."), seen.line_of("DTEND"))
    elif "DURATION" in event:
        try:
            end = start + event.decoded("DURATION")
        except OverflowError:  # P999999999D: past year 9999
            raise _refuse(N_("Line %(line)d: choose a date between %(first)d and %(last)d."),
                          seen.line_of("DURATION"), first=FIRST_YEAR, last=LAST_YEAR) from None
    elif all_day:
        end = start + timedelta(days=1)  # RFC 5545: an all-day event lasts its day
    else:
        raise _refuse(N_("Line %(line)d: the event has no end (DTEND or DURATION)."),
                      seen.line)
    start_at = _instant(start, seen.line_of("DTSTART"), "TZID" in event["DTSTART"].params,
                        zone)
    end_line = seen.line_of("DTEND" if "DTEND" in event else "DURATION")
    end_at = _instant(end, end_line, "DTEND" in event and "TZID" in event["DTEND"].params,
                      zone)
    if not start_at < end_at:
        raise _refuse(N_("Line %(line)d: the event ends before it starts."), end_line)
    return start_at, end_at


def _checked_text(event: Component, name: str, seen: _Scanned, *, multiline: bool) -> str:
    """The property's text, stripped; refused with its line when it holds what no
    page would take (booking.services.inputs: NUL, control characters...)."""
    text = str(event.get(name, "")).strip()
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        raise _refuse(N_("Line %(line)d: %(name)s: %(problem)s"), seen.line_of(name),
                      name=name, problem=ValidationError(problem))
    return text


def read_events(data: bytes, zone: ZoneInfo) -> list[_Event]:
    """Every VEVENT of the file as a closure to be; ValidationError at the first
    line at fault."""
    events: list[_Event] = []
    lines_of: dict[str, int] = {}
    for event, seen in _parse(data):
        for name in NOT_SINGLE:
            if name in event:
                raise _refuse(N_("Line %(line)d: repeating events (%(name)s) are not "
                                 "imported; export the occurrences one by one."),
                              seen.line_of(name), name=name)
        uid = _checked_text(event, "UID", seen, multiline=False)
        if not uid:
            raise _refuse(N_("Line %(line)d: the event has no UID."), seen.line)
        if len(uid) > MAX_UID:
            raise _refuse(N_("Line %(line)d: the UID is longer than %(max)d characters."),
                          seen.line_of("UID"), max=MAX_UID)
        if uid in lines_of:
            raise _refuse(N_("Line %(line)d: the UID %(uid)s is already used at line "
                             "%(first)d."), seen.line_of("UID"), uid=uid, first=lines_of[uid])
        lines_of[uid] = seen.line_of("UID")
        reason = _checked_text(event, "SUMMARY", seen, multiline=True)
        if not reason:
            raise _refuse(N_("Line %(line)d: the event has no SUMMARY to give as the "
                             "reason."), seen.line)
        if len(reason) > MAX_REASON:
            raise _refuse(N_("Line %(line)d: the SUMMARY is longer than %(max)d characters."),
                          seen.line_of("SUMMARY"), max=MAX_REASON)
        start, end = _period(event, seen, zone)
        cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
        events.append(_Event(uid, start, end, reason, _kind(reason), cancelled))
    return events


# --- writing the closures -------------------------------------------------------


def _lock(session: Session, target: ClosureTarget) -> None:
    """Two imports into one target wait for each other (PostgreSQL; SQLite's
    writers already queue): the UID check and the insert stay together. The
    guarantee is the database's (one UID per scope, partial unique indexes);
    a writer that went past the lock is refused there, see ``import_closures``."""
    model = Equipment if target.equipment is not None else Establishment
    target_id = target.equipment.id if target.equipment is not None else target.owner_id
    session.execute(select(model.id).where(model.id == target_id).with_for_update())


def import_closures(session: Session, *, actor: User, data: bytes,
                    establishment_id: int | None = None, equipment_id: int | None = None,
                    now: datetime, source_name: str | None = None) -> ImportSummary:
    target = closure_target(session, establishment_id=establishment_id,
                            equipment_id=equipment_id)
    if not may(actor, "import", target):
        raise Forbidden(N_("You may import closures only for your own establishment."))
    owner = session.get(Establishment, target.owner_id)
    assert owner is not None
    events = read_events(data, ZoneInfo(owner.timezone))
    _lock(session, target)
    scope_establishment = target.establishment.id if target.establishment else None
    scope_equipment = target.equipment.id if target.equipment else None
    existing = {c.source_uid: c for c in session.scalars(select(Closure).where(
        Closure.establishment_id.is_(None) if scope_establishment is None
        else Closure.establishment_id == scope_establishment,
        Closure.equipment_id.is_(None) if scope_equipment is None
        else Closure.equipment_id == scope_equipment,
        Closure.source_uid.is_not(None)))}
    try:
        # In a savepoint: a refusal by the UID indexes undoes exactly this import.
        with session.begin_nested():
            counts = _apply(session, events, existing, actor=actor, now=now,
                            establishment_id=scope_establishment,
                            equipment_id=scope_equipment)
    except IntegrityError as exc:
        if not UID_TAKEN.search(str(exc.orig)):
            raise
        raise Conflict(N_("Closures with the same UIDs were added here while the file was "
                          "being imported. Import the file again to update them."),
                       {"field": "file"}) from None
    audit.record(session, actor=actor, action="closure.import",
                 object_type="equipment" if scope_equipment else "establishment",
                 object_id=scope_equipment or target.owner_id, now=now, file=source_name,
                 establishment_id=scope_establishment, equipment_id=scope_equipment,
                 **counts)
    return ImportSummary(**counts)


def _apply(session: Session, events: list[_Event], existing: dict[str | None, Closure], *,
           actor: User, now: datetime, establishment_id: int | None,
           equipment_id: int | None) -> dict[str, int]:
    """Create, update or remove the target's closures by UID; the counts of each."""
    counts = dict.fromkeys(("created", "updated", "unchanged", "removed", "skipped"), 0)
    for event in events:
        closure = existing.get(event.uid)
        if event.cancelled or (closure is None and event.end <= now):
            if closure is not None:
                session.delete(closure)
            counts["removed" if closure is not None else "skipped"] += 1
            continue
        if closure is None:
            session.add(Closure(
                establishment_id=establishment_id, equipment_id=equipment_id,
                start_at=event.start, end_at=event.end, kind=event.kind, reason=event.reason,
                source_uid=event.uid, created_by_id=actor.id, created_at=now))
            counts["created"] += 1
            continue
        wanted = {"start_at": event.start, "end_at": event.end, "kind": event.kind,
                  "reason": event.reason}
        if all(getattr(closure, key) == value for key, value in wanted.items()):
            counts["unchanged"] += 1
            continue
        for key, value in wanted.items():
            setattr(closure, key, value)
        counts["updated"] += 1
    session.flush()
    return counts
