"""What the answers say: per project, and aggregated per machine, trainer and
establishment over a period.

Learners' answers are anonymous: results give counts, averages and the
comments, never which learner answered what (no learner id, no address, no
time of answer; the learners' comments sorted by their text). The contact's
comment is shown as the company contact's: a company knows who its contact is.

:func:`aggregate` is the public entry of the campus's evaluation page
(booking.services.evaluation) and of /satisfaction/ and its API.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from booking.permissions import require
from booking.services.errors import N_, ValidationError
from booking.services.policy import CAMPUS_ZONE
from booking.services.satisfaction.access import SatisfactionResults, aggregate_scope
from models import Booking, BookingStatus, Equipment, Project, ProjectStatus, User
from models.satisfaction import RATINGS, Respondent, SatisfactionSurvey

GroupBy = Literal["equipment", "trainer", "establishment"]
GROUPS: tuple[str, ...] = ("equipment", "trainer", "establishment")
# The sessions that make a project's end: those done (lifecycle.advance_projects).
DONE = (BookingStatus.COMPLETED, BookingStatus.CONFIRMED)


@dataclass
class Tally:
    """Counts and sums of a set of surveys; averages and rates derived."""

    sent: int = 0
    answered: int = 0
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    marks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    recommend_yes: int = 0
    recommend_no: int = 0

    def add(self, survey: SatisfactionSurvey) -> None:
        self.sent += 1
        if survey.answered_at is None:
            return
        self.answered += 1
        for name in RATINGS:
            value = getattr(survey, name)
            if value is not None:
                self.sums[name] += value
                self.marks[name] += 1
        if survey.would_recommend is True:
            self.recommend_yes += 1
        elif survey.would_recommend is False:
            self.recommend_no += 1

    @property
    def averages(self) -> dict[str, float | None]:
        """Each rating's mean over the answers that gave it (two decimals), None without."""
        return {name: round(self.sums[name] / self.marks[name], 2) if self.marks[name] else None
                for name in RATINGS}

    @property
    def response_rate(self) -> float | None:
        """Answered over sent, 0 to 1 (four decimals), None when nothing was sent."""
        return round(self.answered / self.sent, 4) if self.sent else None

    @property
    def recommend_rate(self) -> float | None:
        """Yes over the answers that said yes or no, 0 to 1, None without."""
        said = self.recommend_yes + self.recommend_no
        return round(self.recommend_yes / said, 4) if said else None


@dataclass(frozen=True)
class Comment:
    respondent: Respondent
    text: str


@dataclass(frozen=True)
class ProjectResults:
    project_id: int
    tally: Tally
    contact: Tally
    learners: Tally
    comments: list[Comment]
    first_sent_at: datetime | None


def project_results(session: Session, project: Project, *, actor: User) -> ProjectResults:
    """A project's results for ``actor`` (staff, its company: NotFound for
    another company, Forbidden for its trainer)."""
    require(actor, "satisfaction", project,
            N_("A project's satisfaction results are for its company and the coordinators."))
    surveys = list(session.scalars(select(SatisfactionSurvey)
                                   .where(SatisfactionSurvey.project_id == project.id)))
    tally, contact, learners = Tally(), Tally(), Tally()
    for survey in surveys:
        tally.add(survey)
        (contact if survey.respondent is Respondent.CONTACT else learners).add(survey)
    said = [s for s in surveys if s.answered_at is not None and s.comment]
    comments = [Comment(s.respondent, s.comment or "") for s in said
                if s.respondent is Respondent.CONTACT]
    # Learners' comments in the order of their text: nothing ties one to its author.
    comments += sorted((Comment(s.respondent, s.comment or "") for s in said
                        if s.respondent is Respondent.LEARNER),
                       key=lambda c: (sort_key(c.text), c.text))
    first = min((s.sent_at for s in surveys), default=None)
    return ProjectResults(project.id, tally, contact, learners, comments, first)


# --- the aggregate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One machine, trainer or establishment over the period: plain values."""

    group_by: str
    key: int
    label: str
    projects: int
    sent: int
    answered: int
    response_rate: float | None
    averages: dict[str, float | None]
    recommend_rate: float | None


def end_dates(session: Session, projects: Iterable[Project]) -> dict[int, date]:
    """Each project's end: the Paris day its last session done ended, else the
    last day it wanted."""
    wanted = {p.id: p.wanted_to for p in projects}
    if not wanted:
        return {}
    last: dict[int, datetime] = {
        project_id: end for project_id, end in session.execute(
            select(Booking.project_id, func.max(Booking.end_at))
            .where(Booking.project_id.in_(list(wanted)), Booking.status.in_(DONE))
            .group_by(Booking.project_id))}
    ends = {}
    for project_id, fallback in wanted.items():
        end = last.get(project_id)
        if end is not None and end.tzinfo is None:  # stored UTC (models.base.UTCDateTime)
            end = end.replace(tzinfo=UTC)
        ends[project_id] = end.astimezone(CAMPUS_ZONE).date() if end is not None else fallback
    return ends


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationError(N_("The period ends before it begins."), {"fields": ["from", "to"]})


def aggregate(session: Session, actor: User, group_by: str, start: date | None = None,
              end: date | None = None) -> list[Row]:
    """The answers of the completed projects the actor may see whose end falls
    from ``start`` to ``end`` (both included, either open), one row per
    machine (the project's machines), trainer (the project's) or establishment
    (its machines'), by label. A project counts once in each of its groups.
    Staff only (Forbidden otherwise); a coordinator's rows are the projects
    with a machine of their establishment, and only that establishment's
    machines and establishment rows."""
    require(actor, "view", SatisfactionResults,
            N_("The satisfaction results of the campus are for coordinators and admins."))
    if group_by not in GROUPS:
        raise ValidationError(N_("group_by is one of %(groups)s."), {"field": "group_by"},
                              groups=", ".join(GROUPS))
    _check_period(start, end)
    scope = aggregate_scope(actor)
    if not scope.everything and scope.establishment_id is None:
        return []
    stmt = (select(Project).where(Project.status == ProjectStatus.COMPLETED)
            .options(selectinload(Project.equipment).selectinload(Equipment.establishment),
                     selectinload(Project.trainer)))
    if not scope.everything:
        stmt = stmt.where(Project.equipment.any(
            Equipment.establishment_id == scope.establishment_id))
    projects = list(session.scalars(stmt))
    ends = end_dates(session, projects)
    projects = [p for p in projects
                if (start is None or ends[p.id] >= start) and (end is None or ends[p.id] <= end)]
    surveys: dict[int, list[SatisfactionSurvey]] = defaultdict(list)
    if projects:
        for survey in session.scalars(select(SatisfactionSurvey).where(
                SatisfactionSurvey.project_id.in_([p.id for p in projects]))):
            surveys[survey.project_id].append(survey)
    tallies: dict[int, Tally] = defaultdict(Tally)
    labels: dict[int, str] = {}
    counted: dict[int, int] = defaultdict(int)
    for project in projects:
        for key, label in _groups(project, group_by, scope.establishment_id):
            labels[key] = label
            counted[key] += 1
            for survey in surveys[project.id]:
                tallies[key].add(survey)
    rows = [Row(group_by, key, labels[key], counted[key], tallies[key].sent,
                tallies[key].answered, tallies[key].response_rate, tallies[key].averages,
                tallies[key].recommend_rate) for key in labels]
    return sorted(rows, key=lambda r: (sort_key(r.label), r.key))


def sort_key(label: str) -> str:
    """Labels in dictionary order, accents aside (« Étuve » before « Mélangeur »)."""
    return "".join(c for c in unicodedata.normalize("NFKD", label.casefold())
                   if not unicodedata.combining(c))


def _groups(project: Project, group_by: str, establishment_id: int | None
            ) -> list[tuple[int, str]]:
    mine = [e for e in project.equipment
            if establishment_id is None or e.establishment_id == establishment_id]
    if group_by == "equipment":
        return [(e.id, f"{e.name} ({e.code})") for e in mine]
    if group_by == "establishment":
        return sorted({(e.establishment_id, e.establishment.name) for e in mine})
    if project.trainer is None:
        return []
    return [(project.trainer.id, project.trainer.name)]
