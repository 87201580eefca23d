"""The campus's evaluation (issue 15, lever 8): the figures the steering
committee reads, for a period and optionally one establishment.

The period is [first, last_excluded) of local dates in Europe/Paris, as the
reports' (:func:`booking.services.reports.utilisation.check_range`: at most
400 days); by default the current school year, 1 September to 31 August.
Hours and money are integers: hundredths of an hour (150 = 1.5 h) and euro
cents, exact on both databases.

Blocks (docs/evaluation.md):

(a) training: learners trained and hours of training. A mark counts when the
    learner was present or late on a half-day sheet whose day is in the
    period; its hours are the half-day's ``hours_cents`` minus the minutes of
    lateness (never below zero). Learners trained are distinct learners with
    such a mark (erased learners still count: their row stays). Per learner
    public, per establishment (of the session's machine), per sector (of the
    project), per month and per school year of the sheet's day.
(b) machine hours per public (:class:`models.pricing.Public`): the booked
    hours of confirmed and completed bookings inside the period, in
    machine-hours as the reports count them (a line booking counts on the line
    and each component), and their used hours from check-in to check-out
    (the reports' definition). A booking's public:
    - a project's booking: the public of the project's accepted quote; without
      one, ``job_seekers`` when more than half of the project's learners are
      job seekers, else ``company``;
    - otherwise a booker of a company: ``company``;
    - a booker of the machine's establishment: ``own``; of another
      establishment of the campus: ``campus``;
    - a booker attached to no establishment: ``none`` (listed only with hours).
    ``academic`` only comes from a quote (an academic partner outside the
    campus has no account of its own establishment).
(c) revenue: accepted quotes (total excluding VAT) of completed projects, per
    issuing establishment and month; a project's revenue falls in the month
    of the end of its last session (confirmed or completed booking), or of
    the quote's acceptance when it had none.
(d) satisfaction: questionnaires answered in the period (contact and
    learners), their count, the average of each rating (1 to 5, unanswered
    ratings left out) and how many gave each overall mark.
(e) sharing: hours booked by the people of one establishment on the machines
    of each establishment (the matrix booker's establishment × machine's
    establishment; the diagonal is each establishment's own use). Company and
    project bookings are left out, as in the reports' ``sharing`` group.

With an establishment: training of sessions on its machines, bookings of its
machines, quotes it issued, surveys of projects with a session on its
machines.

Every block is one or two aggregate statements: the count of statements does
not grow with the data (tests/test_evaluation.py counts them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from booking.services.bookings.occupancy import MAX_SPAN
from booking.services.equipment import hours
from booking.services.policy import CAMPUS_ZONE
from booking.services.reports.utilisation import (
    COUNTED,
    _used,
    month_starts,
    range_bounds,
)
from models import (
    RATINGS,
    AttendanceMark,
    AttendanceSheet,
    Booking,
    Equipment,
    Establishment,
    Learner,
    LearnerPublic,
    Occupancy,
    Presence,
    Project,
    ProjectStatus,
    Quote,
    QuoteStatus,
    Respondent,
    SatisfactionSurvey,
    User,
)
from models.pricing import Public
from models.project import Sector

NONE = "none"  # a booker attached to no establishment (block b)
PUBLICS = (*(p.value for p in Public),)
LEARNER_PUBLICS = tuple(p.value for p in LearnerPublic)
SECTORS = tuple(s.value for s in Sector)
TRAINING_DIMENSIONS = ("public", "establishment", "sector", "month", "school_year")
MARKS = tuple(range(1, 6))


# --- the period -------------------------------------------------------------------


def school_year_of(day: date) -> int:
    """The year a school year starts in: 1 September 2026 to 31 August 2027 is 2026."""
    return day.year if day.month >= 9 else day.year - 1


def school_year(start_year: int) -> tuple[date, date]:
    """[1 September, next 1 September) of the school year starting in ``start_year``."""
    return date(start_year, 9, 1), date(start_year + 1, 9, 1)


def current_school_year(now: datetime) -> tuple[date, date]:
    return school_year(school_year_of(now.astimezone(CAMPUS_ZONE).date()))


def school_year_key(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


# --- the figures ------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRow:
    key: str
    learners: int
    hours_cents: int


@dataclass(frozen=True)
class MachineRow:
    key: str  # a Public value, or "none"
    booked_cents: int
    used_cents: int


@dataclass(frozen=True)
class RevenueRow:
    key: str  # an establishment's id, or a month "YYYY-MM"
    projects: int
    excl_cents: int


@dataclass(frozen=True)
class RevenueCell:
    establishment_id: int
    month: str
    projects: int
    excl_cents: int


@dataclass(frozen=True)
class RatingRow:
    key: str  # one of RATINGS
    answers: int
    average: float | None  # two decimals, None without answers


@dataclass(frozen=True)
class Satisfaction:
    answered: int
    by_respondent: dict[str, int]
    ratings: list[RatingRow]
    overall_marks: dict[int, int]  # 1..5 → answers

    @property
    def overall(self) -> float | None:
        return self.ratings[0].average


@dataclass(frozen=True)
class SharingCell:
    booker_establishment_id: int
    machine_establishment_id: int
    booked_cents: int


@dataclass
class Figures:
    first: date
    last_excluded: date
    establishment_id: int | None
    establishments: list[int]  # those in scope, by name
    names: dict[int, str]  # every establishment's id → "CODE — name"
    months: list[str]  # "YYYY-MM" of the period, in order
    training_total: TrainingRow
    training: dict[str, list[TrainingRow]]  # TRAINING_DIMENSIONS → rows
    machine_hours: list[MachineRow]
    revenue_total: RevenueRow
    revenue_by_establishment: list[RevenueRow]
    revenue_by_month: list[RevenueRow]
    revenue_cells: list[RevenueCell]
    satisfaction: Satisfaction
    sharing: list[SharingCell]
    sharing_establishments: list[int] = field(default_factory=list)

    @property
    def shared_cents(self) -> int:
        """Hours booked on a machine of another establishment than the booker's."""
        return sum(c.booked_cents for c in self.sharing
                   if c.booker_establishment_id != c.machine_establishment_id)


def _cents(hours_: float) -> int:
    return round(hours_ * 100)


def _month_index(column: object, bounds: list[object]) -> object:
    """The index of the period's month ``column`` falls in: ``bounds`` are the
    starts of the second month onwards."""
    if not bounds:
        return literal(0)
    return case(*((column < b, i) for i, b in enumerate(bounds)), else_=len(bounds))


def _training(session: Session, first: date, last_excluded: date,
              establishment_id: int | None, months: list[tuple[date, date]]
              ) -> tuple[TrainingRow, dict[str, list[TrainingRow]], dict[str, TrainingRow]]:
    late = AttendanceMark.presence == Presence.LATE
    # Hundredths of a minute: the half-day's hundredths of an hour × 60, minus
    # the minutes late × 100; never below zero.
    trained = AttendanceSheet.hours_cents * 60 - case(
        (late, AttendanceMark.minutes_late * 100), else_=0)
    inner = (
        select(AttendanceMark.learner_id, Learner.public.label("public"),
               Equipment.establishment_id.label("establishment_id"),
               Project.sector.label("sector"),
               _month_index(AttendanceSheet.day, [a for a, _b in months[1:]]).label("month"),
               case((trained > 0, trained), else_=0).label("trained"))
        .join(AttendanceSheet, AttendanceSheet.id == AttendanceMark.sheet_id)
        .join(Learner, Learner.id == AttendanceMark.learner_id)
        .join(Booking, Booking.id == AttendanceSheet.booking_id)
        .join(Equipment, Equipment.id == Booking.equipment_id)
        .join(Project, Project.id == AttendanceSheet.project_id)
        .where(AttendanceMark.presence.in_((Presence.PRESENT, Presence.LATE)),
               AttendanceSheet.day >= first, AttendanceSheet.day < last_excluded))
    if establishment_id is not None:
        inner = inner.where(Equipment.establishment_id == establishment_id)
    sub = inner.subquery()
    keys = (sub.c.learner_id, sub.c.public, sub.c.establishment_id, sub.c.sector, sub.c.month)
    learners: dict[tuple[str, str], set[int]] = defaultdict(set)
    minutes: dict[tuple[str, str], int] = defaultdict(int)
    everyone: set[int] = set()
    total = 0
    month_keys = [f"{a:%Y-%m}" for a, _b in months]
    year_of = [school_year_key(school_year_of(a)) for a, _b in months]
    seen_establishments: set[str] = set()
    for learner_id, public, est, sector, month, trained_ in session.execute(
            select(*keys, func.sum(sub.c.trained)).group_by(*keys)):
        trained_ = int(trained_ or 0)
        everyone.add(learner_id)
        total += trained_
        seen_establishments.add(str(est))
        for dimension, key in (("public", LearnerPublic(public).value), ("establishment", str(est)),
                               ("sector", Sector(sector).value),
                               ("month", month_keys[int(month)]),
                               ("school_year", year_of[int(month)])):
            learners[(dimension, key)].add(learner_id)
            minutes[(dimension, key)] += trained_

    def row(dimension: str, key: str) -> TrainingRow:
        return TrainingRow(key, len(learners[(dimension, key)]),
                           round(minutes[(dimension, key)] / 60))

    rows = {
        "public": [row("public", k) for k in LEARNER_PUBLICS],
        "sector": [row("sector", k) for k in SECTORS],
        "month": [row("month", k) for k in month_keys],
        "school_year": [row("school_year", k) for k in dict.fromkeys(year_of)],
    }
    per_establishment = {k: row("establishment", k) for k in seen_establishments}
    return TrainingRow("total", len(everyone), round(total / 60)), rows, per_establishment


def _publics_of_projects() -> tuple[object, object]:
    accepted = (select(Quote.project_id.label("project_id"), Quote.public.label("public"))
                .where(Quote.status == QuoteStatus.ACCEPTED).subquery())
    learners = (select(Learner.project_id.label("project_id"),
                       func.count(Learner.id).label("n"),
                       func.sum(case((Learner.public == LearnerPublic.JOB_SEEKER, 1),
                                     else_=0)).label("job_seekers"))
                .group_by(Learner.project_id).subquery())
    return accepted, learners


def machine_public(*, project_id: int | None, quote_public: str | None, learners: int,
                   job_seekers: int, booker_company: int | None,
                   booker_establishment: int | None, machine_establishment: int) -> str:
    """The public of a booking (block b; the module's docstring)."""
    if project_id is not None:
        if quote_public is not None:
            return Public(quote_public).value
        if learners and job_seekers * 2 > learners:
            return Public.JOB_SEEKERS.value
        return Public.COMPANY.value
    if booker_company is not None:
        return Public.COMPANY.value
    if booker_establishment is None:
        return NONE
    if booker_establishment == machine_establishment:
        return Public.OWN.value
    return Public.CAMPUS.value


def _machines(session: Session, start: datetime, end: datetime, establishment_id: int | None,
              now: datetime | None) -> tuple[list[MachineRow], list[SharingCell]]:
    """Blocks (b) and (e), from the one reading of the period's occupancy rows
    (as the reports read them: see booking.services.reports.utilisation._load)."""
    accepted, learners = _publics_of_projects()
    stmt = (
        select(Occupancy.equipment_id, Equipment.establishment_id, Booking.start_at,
               Booking.end_at, Booking.project_id, accepted.c.public,
               func.coalesce(learners.c.n, 0), func.coalesce(learners.c.job_seekers, 0),
               User.company_id, User.establishment_id, Booking.checked_in_at,
               Booking.checked_out_at)
        .join(Booking, Booking.id == Occupancy.booking_id)
        .join(Equipment, Equipment.id == Occupancy.equipment_id)
        .join(User, User.id == Booking.booked_by_id)
        .outerjoin(accepted, accepted.c.project_id == Booking.project_id)
        .outerjoin(learners, learners.c.project_id == Booking.project_id)
        .where(Occupancy.booking_status.in_(COUNTED), Occupancy.starts_at < end,
               Occupancy.starts_at > start - MAX_SPAN, Booking.end_at > start))
    if establishment_id is not None:
        stmt = stmt.where(Equipment.establishment_id == establishment_id)
    booked: dict[str, float] = defaultdict(float)
    used: dict[str, float] = defaultdict(float)
    shared: dict[tuple[int, int], float] = defaultdict(float)
    for (_machine, machine_est, b_start, b_end, project_id, quote_public, n, job_seekers,
         booker_company, booker_est, checked_in, checked_out) in session.execute(stmt):
        piece = (min(b_end, end) - max(b_start, start)).total_seconds() / 3600
        if piece <= 0:
            continue
        public = machine_public(project_id=project_id, quote_public=quote_public,
                                learners=int(n), job_seekers=int(job_seekers or 0),
                                booker_company=booker_company, booker_establishment=booker_est,
                                machine_establishment=machine_est)
        booked[public] += piece
        part = _used((b_start, b_end), checked_in, checked_out, now, (start, end))
        if part is not None:
            used[public] += (part[1] - part[0]).total_seconds() / 3600
        if public in (Public.OWN.value, Public.CAMPUS.value):
            shared[(booker_est, machine_est)] += piece
    rows = [MachineRow(k, _cents(booked[k]), _cents(used[k]))
            for k in (*PUBLICS, NONE) if k != NONE or k in booked]
    cells = [SharingCell(b, m, _cents(h)) for (b, m), h in sorted(shared.items())]
    return rows, cells


def _revenue(session: Session, start: datetime, end: datetime, establishment_id: int | None,
             bounds: list[datetime], month_keys: list[str]
             ) -> tuple[list[RevenueCell], int, int]:
    last_session = (select(Booking.project_id.label("project_id"),
                           func.max(Booking.end_at).label("ended"))
                    .where(Booking.project_id.is_not(None), Booking.status.in_(COUNTED))
                    .group_by(Booking.project_id).subquery())
    when = func.coalesce(last_session.c.ended, Quote.decided_at)
    inner = (
        select(Quote.establishment_id.label("establishment_id"),
               Quote.total_excl_cents.label("cents"),
               _month_index(when, bounds).label("month"))
        .join(Project, Project.id == Quote.project_id)
        .outerjoin(last_session, last_session.c.project_id == Quote.project_id)
        .where(Quote.status == QuoteStatus.ACCEPTED, Project.status == ProjectStatus.COMPLETED,
               when >= start, when < end))
    if establishment_id is not None:
        inner = inner.where(Quote.establishment_id == establishment_id)
    sub = inner.subquery()
    cells = []
    projects = cents = 0
    for est, month, count, total in session.execute(
            select(sub.c.establishment_id, sub.c.month, func.count(), func.sum(sub.c.cents))
            .group_by(sub.c.establishment_id, sub.c.month)
            .order_by(sub.c.establishment_id, sub.c.month)):
        cells.append(RevenueCell(est, month_keys[int(month)], int(count), int(total or 0)))
        projects += int(count)
        cents += int(total or 0)
    return cells, projects, cents


def _satisfaction(session: Session, start: datetime, end: datetime,
                  establishment_id: int | None) -> Satisfaction:
    conditions = [SatisfactionSurvey.answered_at.is_not(None),
                  SatisfactionSurvey.answered_at >= start, SatisfactionSurvey.answered_at < end]
    if establishment_id is not None:
        conditions.append(SatisfactionSurvey.project_id.in_(
            select(Booking.project_id).join(Equipment, Equipment.id == Booking.equipment_id)
            .where(Equipment.establishment_id == establishment_id,
                   Booking.project_id.is_not(None))))
    columns = [getattr(SatisfactionSurvey, name) for name in RATINGS]
    sums: dict[str, list[int]] = {name: [0, 0] for name in RATINGS}
    by_respondent = {r.value: 0 for r in Respondent}
    marks = dict.fromkeys(MARKS, 0)
    answered = 0
    stmt = (select(SatisfactionSurvey.respondent, SatisfactionSurvey.overall, func.count(),
                   *(func.sum(c) for c in columns), *(func.count(c) for c in columns))
            .where(*conditions)
            .group_by(SatisfactionSurvey.respondent, SatisfactionSurvey.overall))
    for respondent, overall, count, *figures in session.execute(stmt):
        count = int(count)
        answered += count
        by_respondent[Respondent(respondent).value] += count
        if overall in marks:
            marks[int(overall)] += count
        for i, name in enumerate(RATINGS):
            sums[name][0] += int(figures[i] or 0)
            sums[name][1] += int(figures[len(RATINGS) + i] or 0)
    ratings = [RatingRow(name, n, round(total / n, 2) if n else None)
               for name, (total, n) in sums.items()]
    return Satisfaction(answered, by_respondent, ratings, marks)


def evaluation(session: Session, *, first: date, last_excluded: date,
               establishment_id: int | None = None, now: datetime | None = None) -> Figures:
    """Every block of the evaluation for [first, last_excluded) (local dates,
    Europe/Paris). ``now`` ends the used hours of a booking still running."""
    start, end = range_bounds(first, last_excluded)
    months = month_starts(first, last_excluded)
    month_keys = [f"{a:%Y-%m}" for a, _b in months]
    bounds = [hours.wall_clock(a, time(0), CAMPUS_ZONE) for a, _b in months[1:]]

    stmt = select(Establishment.id, Establishment.code, Establishment.name).order_by(
        Establishment.name, Establishment.id)
    names = {e_id: f"{code} — {name}" for e_id, code, name in session.execute(stmt)}
    in_scope = list(names) if establishment_id is None else [
        e for e in names if e == establishment_id]

    total, training, by_est = _training(session, first, last_excluded, establishment_id, months)
    training["establishment"] = [by_est.get(str(e), TrainingRow(str(e), 0, 0))
                                 for e in in_scope]

    machine_rows, sharing = _machines(session, start, end, establishment_id, now)

    cells, projects, cents = _revenue(session, start, end, establishment_id, bounds, month_keys)
    per_est: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        for bucket in (per_est[cell.establishment_id], per_month[cell.month]):
            bucket[0] += cell.projects
            bucket[1] += cell.excl_cents
    revenue_by_establishment = [RevenueRow(str(e), *per_est.get(e, (0, 0))) for e in in_scope]
    revenue_by_month = [RevenueRow(k, *per_month.get(k, (0, 0))) for k in month_keys]

    sharing_ids = sorted({i for c in sharing for i in (c.booker_establishment_id,
                                                       c.machine_establishment_id)},
                         key=lambda i: (list(names).index(i) if i in names else len(names), i))
    return Figures(
        first=first, last_excluded=last_excluded, establishment_id=establishment_id,
        establishments=in_scope, names=names, months=month_keys,
        training_total=total, training=training, machine_hours=machine_rows,
        revenue_total=RevenueRow("total", projects, cents),
        revenue_by_establishment=revenue_by_establishment, revenue_by_month=revenue_by_month,
        revenue_cells=cells,
        satisfaction=_satisfaction(session, start, end, establishment_id),
        sharing=sharing, sharing_establishments=sharing_ids)


def sharing_matrix(figures: Figures) -> list[tuple[int, list[int]]]:
    """Rows of booker establishments, each with the hundredths booked on the
    machines of each of ``figures.sharing_establishments``."""
    cells = {(c.booker_establishment_id, c.machine_establishment_id): c.booked_cents
             for c in figures.sharing}
    ids = figures.sharing_establishments
    bookers: Iterable[int] = [i for i in ids if any(c.booker_establishment_id == i
                                                    for c in figures.sharing)]
    return [(b, [cells.get((b, m), 0) for m in ids]) for b in bookers]

