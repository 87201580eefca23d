"""What the attendance PDFs show: the sheets of a project (or of one session),
each with its learners' marks and signatures, and a learner's certificate of
attendance (hours attended on the sheets their trainer signed).

The issuer is the establishment of the project's accepted quote, else that of
its first session's machine, else of its first machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.services.attendance.sheets import (
    attended_cents,
    current_learners,
    project_sheets,
    signature_parts,
)
from models import (
    AttendanceMark,
    AttendanceSheet,
    BillingProfile,
    Booking,
    Establishment,
    Learner,
    Project,
    Quote,
    QuoteStatus,
)


@dataclass
class Row:
    learner: Learner
    mark: AttendanceMark | None


@dataclass
class SheetView:
    sheet: AttendanceSheet
    rows: list[Row]
    trainer_signature: tuple[str, str] | None
    company_signature: tuple[str, str] | None


@dataclass
class Issuer:
    establishment: Establishment | None
    profile: BillingProfile | None


def issuer_of(session: Session, project: Project) -> Issuer:
    establishment_id = session.scalar(select(Quote.establishment_id).where(
        Quote.project_id == project.id, Quote.status == QuoteStatus.ACCEPTED))
    if establishment_id is None:
        first = session.scalar(select(Booking).where(Booking.project_id == project.id)
                               .order_by(Booking.start_at, Booking.id).limit(1))
        if first is not None:
            establishment_id = first.equipment.establishment_id
        elif project.equipment:
            establishment_id = min(project.equipment, key=lambda e: e.id).establishment_id
    if establishment_id is None:
        return Issuer(None, None)
    return Issuer(session.get(Establishment, establishment_id),
                  session.get(BillingProfile, establishment_id))


def sheet_view(session: Session, sheet: AttendanceSheet) -> SheetView:
    """The sheet's rows: each marked learner (erased ones too, anonymous), and
    the current learners not marked yet (while unsigned)."""
    marks = {m.learner_id: m for m in sheet.marks}
    learners = {m.learner_id: m.learner for m in sheet.marks}
    if sheet.trainer_signed_at is None:
        for learner in current_learners(session, sheet.project_id):
            learners.setdefault(learner.id, learner)
    ordered = sorted(learners.values(), key=lambda lr: (lr.erased_at is not None,
                                                        lr.last_name.casefold(),
                                                        lr.first_name.casefold(), lr.id))
    return SheetView(sheet, [Row(lr, marks.get(lr.id)) for lr in ordered],
                     signature_parts(sheet.trainer_signature),
                     signature_parts(sheet.company_signature))


def sheet_views(session: Session, project: Project,
                booking: Booking | None = None) -> list[SheetView]:
    sheets = project_sheets(session, project.id)
    if booking is not None:
        sheets = [s for s in sheets if s.booking_id == booking.id]
    return [sheet_view(session, s) for s in sheets]


@dataclass
class Certificate:
    learner: Learner
    project: Project
    first_day: date | None
    last_day: date | None
    attended_cents: int
    planned_cents: int
    half_days: int
    sessions: list[AttendanceSheet] = field(default_factory=list)


def certificate_of(session: Session, learner: Learner) -> Certificate:
    """Hours attended on the sheets the trainer signed (present: the half-day's
    hours; late: less the lateness; absent: none)."""
    sheets = [s for s in project_sheets(session, learner.project_id)
              if s.trainer_signed_at is not None]
    attended = planned = count = 0
    days: list[date] = []
    for sheet in sheets:
        planned += sheet.hours_cents
        mark = next((m for m in sheet.marks if m.learner_id == learner.id), None)
        if mark is None:
            continue
        cents = attended_cents(sheet, mark)
        attended += cents
        if cents:
            count += 1
            days.append(sheet.day)
    return Certificate(learner, learner.project, min(days, default=None),
                       max(days, default=None), attended, planned, count, sheets)
