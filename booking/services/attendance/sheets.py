"""Attendance sheets (feuilles d'émargement): one per half-day a project's
session covers, marked and signed by its trainer, countersigned by the company.

Half-days are the campus's (Europe/Paris): the morning is before 13:00, the
afternoon from 13:00. A session 09:00–17:00 gives two sheets; its
``hours_cents`` are the session's minutes in each half-day (real minutes: on
the nights daylight saving changes, wall-clock arithmetic would be wrong, so
every boundary is an aware instant). Sheets are created on demand
(:func:`ensure_sheets`, when the session's attendance is first looked at),
once each: the unique (booking, day, half_day) settles two requests racing.
A session moved later keeps its signed sheets; unsigned, unmarked sheets of
half-days it no longer covers go, and unsigned ones get its new hours.

The trainer records marks from the start of the half-day (the session's
start, if later) until :data:`MARKING_DAYS` days after its end, then signs
(every current learner marked). Once signed, marks are locked. The company
countersigns after the trainer, once, with no deadline.

A signature is what the signer drew (SVG path data: ``M`` and ``L`` commands
with coordinates in the drawing's box, bounded in length) or, without a
script, their typed full name. Stored as ``path:<data>`` or ``name:<text>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, InvalidState, ValidationError
from booking.services.inputs import text_problem
from booking.services.policy import CAMPUS_ZONE
from models import (
    AttendanceMark,
    AttendanceSheet,
    Booking,
    BookingStatus,
    HalfDay,
    Learner,
    Presence,
    User,
)

AFTERNOON_STARTS = time(13, 0)
# How long after a half-day its trainer may still record and sign it.
MARKING_DAYS = 7
# The sessions that have attendance: confirmed (coming, running) or completed.
WITH_ATTENDANCE = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
# The drawing's box (signature.js draws in it) and the longest path data taken.
SIGNATURE_WIDTH, SIGNATURE_HEIGHT = 600, 200
SIGNATURE_MAX = 20000
TYPED_NAME_MAX = 120
MAX_LATE_MINUTES = 720
_NUMBER = r"\d{1,4}(?:\.\d{1,2})?"
_PATH = re.compile(rf"(?:[ML] ?{_NUMBER}[ ,]{_NUMBER} ?)+")
_POINT = re.compile(rf"([ML]) ?({_NUMBER})[ ,]({_NUMBER})")


@dataclass(frozen=True)
class HalfDaySlot:
    """The part of a session in one half-day."""

    day: date
    half_day: HalfDay
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def hours_cents(self) -> int:
        return round(self.minutes * 100 / 60)


def _at(day: date, clock: time) -> datetime:
    """The instant of a wall-clock time of the campus, in UTC: Python subtracts
    two datetimes of one zone by their wall clocks, wrong across a change."""
    return datetime.combine(day, clock, tzinfo=CAMPUS_ZONE).astimezone(UTC)


def half_days(start: datetime, end: datetime) -> list[HalfDaySlot]:
    """The half-days [start, end) covers, in order, each with its part."""
    slots = []
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    day = start.astimezone(CAMPUS_ZONE).date()
    last = end.astimezone(CAMPUS_ZONE).date()
    while day <= last:
        bounds = ((HalfDay.MORNING, _at(day, time(0)), _at(day, AFTERNOON_STARTS)),
                  (HalfDay.AFTERNOON, _at(day, AFTERNOON_STARTS),
                   _at(day + timedelta(days=1), time(0))))
        for half, opens, closes in bounds:
            part_start, part_end = max(start, opens), min(end, closes)
            if part_end - part_start >= timedelta(minutes=1):
                slots.append(HalfDaySlot(day, half, part_start, part_end))
        day += timedelta(days=1)
    return slots


def slot_of(sheet: AttendanceSheet) -> HalfDaySlot | None:
    booking = sheet.booking
    for slot in half_days(booking.start_at, booking.end_at):
        if (slot.day, slot.half_day) == (sheet.day, sheet.half_day):
            return slot
    return None


def marking_window(sheet: AttendanceSheet) -> tuple[datetime, datetime]:
    """When the trainer may record and sign: [opens, closes]."""
    slot = slot_of(sheet)
    if slot is None:  # the session moved away from a signed half-day
        opens = _at(sheet.day, time(0) if sheet.half_day is HalfDay.MORNING
                    else AFTERNOON_STARTS)
        return opens, opens
    return slot.start, slot.end + timedelta(days=MARKING_DAYS)


def sheet_state(sheet: AttendanceSheet, now: datetime) -> str:
    """"countersigned", "signed" (waiting for the company), "early", "closed"
    (too late, unsigned), "open" (marks may be recorded)."""
    if sheet.company_signed_at is not None:
        return "countersigned"
    if sheet.trainer_signed_at is not None:
        return "signed"
    opens, closes = marking_window(sheet)
    if now < opens:
        return "early"
    if now > closes:
        return "closed"
    return "open"


# --- the sheets of a session ------------------------------------------------------------


# The half-days of a day in their order (their values sort "afternoon" first).
MORNING_FIRST = case((AttendanceSheet.half_day == HalfDay.MORNING, 0), else_=1)


def sheets_of(session: Session, booking: Booking) -> list[AttendanceSheet]:
    return list(session.scalars(select(AttendanceSheet)
                                .where(AttendanceSheet.booking_id == booking.id)
                                .order_by(AttendanceSheet.day, MORNING_FIRST)))


def sheets_by_booking(session: Session, bookings: Iterable[Booking]) -> dict[
        int, list[AttendanceSheet]]:
    """:func:`sheets_of` for several sessions in one statement: each booking's
    id to its sheets (an empty list for a session without any)."""
    found: dict[int, list[AttendanceSheet]] = {b.id: [] for b in bookings}
    if found:
        for sheet in session.scalars(select(AttendanceSheet)
                                     .where(AttendanceSheet.booking_id.in_(list(found)))
                                     .order_by(AttendanceSheet.day, MORNING_FIRST,
                                               AttendanceSheet.id)):
            found[sheet.booking_id].append(sheet)
    return found


def has_attendance(booking: Booking) -> bool:
    return booking.project_id is not None and booking.status in WITH_ATTENDANCE


def ensure_sheets(session: Session, booking: Booking) -> list[AttendanceSheet]:
    """The session's sheets, created for the half-days it covers when missing
    (no sheet for a session that is not confirmed or completed)."""
    existing = {(s.day, s.half_day): s for s in sheets_of(session, booking)}
    if not has_attendance(booking):
        return sorted(existing.values(), key=_order)
    slots = {(s.day, s.half_day): s for s in half_days(booking.start_at, booking.end_at)}
    for key, sheet in list(existing.items()):
        if sheet.trainer_signed_at is not None:
            continue
        if key not in slots:
            if not sheet.marks:
                session.delete(sheet)
                del existing[key]
        elif sheet.hours_cents != slots[key].hours_cents:
            sheet.hours_cents = slots[key].hours_cents
    for key, slot in slots.items():
        if key in existing:
            continue
        sheet = AttendanceSheet(booking_id=booking.id, project_id=booking.project_id,
                                day=slot.day, half_day=slot.half_day,
                                hours_cents=slot.hours_cents)
        try:
            with session.begin_nested():
                session.add(sheet)
                session.flush()
        except IntegrityError:  # another request created it first
            sheet = session.scalars(select(AttendanceSheet).where(
                AttendanceSheet.booking_id == booking.id, AttendanceSheet.day == slot.day,
                AttendanceSheet.half_day == slot.half_day)).one()
        existing[key] = sheet
    session.flush()
    return sorted(existing.values(), key=_order)


def _order(sheet: AttendanceSheet) -> tuple[date, int]:
    return sheet.day, 0 if sheet.half_day is HalfDay.MORNING else 1


def project_sheets(session: Session, project_id: int) -> list[AttendanceSheet]:
    """Every sheet of the project, by day, half-day and session."""
    rows = session.scalars(select(AttendanceSheet)
                           .where(AttendanceSheet.project_id == project_id)
                           .order_by(AttendanceSheet.day, AttendanceSheet.id))
    return sorted(rows, key=lambda s: (*_order(s), s.booking_id))


# --- marks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkInput:
    learner_id: int
    presence: Presence | str
    minutes_late: int = 0


def _marks_by_learner(sheet: AttendanceSheet) -> dict[int, AttendanceMark]:
    return {m.learner_id: m for m in sheet.marks}


def _check_open(sheet: AttendanceSheet, now: datetime) -> None:
    state = sheet_state(sheet, now)
    if state in ("signed", "countersigned"):
        raise InvalidState(N_("This sheet is signed: its marks can no longer change."),
                           {"trainer_signed_at": sheet.trainer_signed_at.isoformat()
                            if sheet.trainer_signed_at else None})
    opens, closes = marking_window(sheet)
    if state == "early":
        raise InvalidState(N_("Attendance may be recorded from %(when)s."),
                           {"opens_at": opens.isoformat()}, when=opens)
    if state == "closed":
        raise InvalidState(N_("Attendance could be recorded until %(when)s: it is closed now."),
                           {"closed_at": closes.isoformat()}, when=closes)


def current_learners(session: Session, project_id: int) -> list[Learner]:
    rows = session.scalars(select(Learner).where(Learner.project_id == project_id,
                                                 Learner.erased_at.is_(None)))
    return sorted(rows, key=lambda lr: (lr.last_name.casefold(), lr.first_name.casefold(),
                                        lr.id))


def record_marks(session: Session, *, actor: User, sheet: AttendanceSheet, now: datetime,
                 marks: Iterable[MarkInput]) -> AttendanceSheet:
    """Record (or change) the marks given; learners not named keep theirs."""
    begin_write(session)
    require(actor, "mark", sheet)
    _check_open(sheet, now)
    learners = {lr.id: lr for lr in current_learners(session, sheet.project_id)}
    slot = slot_of(sheet)
    longest = min(MAX_LATE_MINUTES, slot.minutes if slot else MAX_LATE_MINUTES)
    existing = _marks_by_learner(sheet)
    seen: set[int] = set()
    changed = 0
    for given in marks:
        if given.learner_id not in learners or given.learner_id in seen:
            raise ValidationError(N_("Learner %(id)s is not a learner of this project."),
                                  {"field": "marks", "learner_id": given.learner_id},
                                  id=given.learner_id)
        seen.add(given.learner_id)
        try:
            presence = Presence(given.presence)
        except ValueError as exc:
            raise ValidationError(N_("Choose one of the proposed values."),
                                  {"field": "marks", "learner_id": given.learner_id}) from exc
        minutes = int(given.minutes_late or 0) if presence is Presence.LATE else 0
        if presence is Presence.LATE and not 1 <= minutes <= longest:
            raise ValidationError(N_("Give the minutes of lateness, from 1 to %(max)d."),
                                  {"field": "marks", "learner_id": given.learner_id},
                                  max=longest)
        mark = existing.get(given.learner_id)
        if mark is None:
            mark = AttendanceMark(learner_id=given.learner_id, presence=presence,
                                  minutes_late=minutes)
            sheet.marks.append(mark)
            changed += 1
        elif (mark.presence, mark.minutes_late) != (presence, minutes):
            mark.presence, mark.minutes_late = presence, minutes
            changed += 1
    session.flush()
    if changed:
        audit.record(session, actor=actor, action="attendance.marks",
                     object_type="attendance_sheet", object_id=sheet.id, now=now,
                     booking_id=sheet.booking_id, marks=changed)
    return sheet


# --- signatures ---------------------------------------------------------------------------


def clean_signature(drawn: str | None, typed: str | None) -> str:
    """The stored form of a signature: the drawn path if any, else the typed
    name; ValidationError naming the field otherwise."""
    path = " ".join((drawn or "").split())
    if path:
        if len(path) > SIGNATURE_MAX or not _PATH.fullmatch(path) or not path.startswith("M"):
            raise ValidationError(N_("This signature cannot be read: sign again."),
                                  {"field": "signature"})
        points = _POINT.findall(path)
        if len(points) < 2 or any(float(x) > SIGNATURE_WIDTH or float(y) > SIGNATURE_HEIGHT
                                  for _, x, y in points):
            raise ValidationError(N_("This signature cannot be read: sign again."),
                                  {"field": "signature"})
        return "path:" + path
    name = " ".join((typed or "").split())
    if not name:
        raise ValidationError(N_("Sign in the box, or type your full name."),
                              {"field": "typed_name"})
    if len(name) > TYPED_NAME_MAX or text_problem(name) is not None:
        raise ValidationError(N_("Write at most %(max)d characters."),
                              {"field": "typed_name"}, max=TYPED_NAME_MAX)
    return "name:" + name


def signature_parts(stored: str | None) -> tuple[str, str] | None:
    """("path", data) or ("name", text) of a stored signature."""
    if not stored:
        return None
    kind, _, value = stored.partition(":")
    return (kind, value) if kind in ("path", "name") else None


def sign(session: Session, *, actor: User, sheet: AttendanceSheet, now: datetime,
         drawn: str | None = None, typed: str | None = None) -> AttendanceSheet:
    """The trainer signs the half-day: every current learner must be marked."""
    begin_write(session)
    require(actor, "sign", sheet)
    _check_open(sheet, now)
    signature = clean_signature(drawn, typed)
    learners = current_learners(session, sheet.project_id)
    if not learners:
        raise InvalidState(N_("This project has no learners yet: nobody to sign for."),
                           {"field": "marks"})
    marked = _marks_by_learner(sheet)
    missing = [lr.id for lr in learners if lr.id not in marked]
    if missing:
        raise ValidationError(N_("Record every learner's attendance before signing."),
                              {"field": "marks", "learner_ids": missing})
    sheet.trainer_signature = signature
    sheet.trainer_signed_at = now
    sheet.trainer_signed_by_id = actor.id
    session.flush()
    audit.record(session, actor=actor, action="attendance.sign",
                 object_type="attendance_sheet", object_id=sheet.id, now=now,
                 booking_id=sheet.booking_id, kind=signature.partition(":")[0])
    return sheet


def countersign(session: Session, *, actor: User, sheet: AttendanceSheet, now: datetime,
                drawn: str | None = None, typed: str | None = None) -> AttendanceSheet:
    """The company contact countersigns, after the trainer, once."""
    begin_write(session)
    require(actor, "countersign", sheet)
    if sheet.trainer_signed_at is None:
        raise InvalidState(N_("The trainer has not signed this sheet yet."),
                           {"field": "signature"})
    if sheet.company_signed_at is not None:
        raise InvalidState(N_("This sheet is already countersigned."),
                           {"company_signed_at": sheet.company_signed_at.isoformat()})
    signature = clean_signature(drawn, typed)
    sheet.company_signature = signature
    sheet.company_signed_at = now
    sheet.company_signed_by_id = actor.id
    session.flush()
    audit.record(session, actor=actor, action="attendance.countersign",
                 object_type="attendance_sheet", object_id=sheet.id, now=now,
                 booking_id=sheet.booking_id, kind=signature.partition(":")[0])
    return sheet


# --- hours --------------------------------------------------------------------------------


def attended_cents(sheet: AttendanceSheet, mark: AttendanceMark) -> int:
    """Hours (hundredths) a mark counts: the half-day's hours when present,
    less the lateness when late, none when absent."""
    if mark.presence is Presence.ABSENT:
        return 0
    if mark.presence is Presence.LATE:
        return max(0, sheet.hours_cents - round(mark.minutes_late * 100 / 60))
    return sheet.hours_cents
