"""/api/v1/evaluation: the campus's evaluation for the steering committee
(issue 15, lever 8; booking.services.evaluation.figures defines each figure).

Hours are integers in hundredths of an hour (``*_hours_cents``: 150 = 1.5 h)
and money integers in euro cents (``*_cents``), exact as the models store
them; averages are numbers with two decimals. Keys are codes (a learner
public, a sector, a price public, ``YYYY-MM`` months, ``YYYY-YYYY`` school
years, establishment ids), never labels. Admins and coordinators only.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.fields import Day, object_id
from booking.extensions import db
from booking.permissions import require
from booking.services.errors import N_, NotFound, ValidationError
from booking.services.evaluation.access import Evaluation
from booking.services.evaluation.figures import (
    TRAINING_DIMENSIONS,
    Figures,
    current_school_year,
    evaluation,
    sharing_matrix,
)
from booking.timeutil import utc_now
from models import Establishment

blp = Blueprint("Evaluation", __name__, url_prefix="/api/v1/evaluation",
                description="The campus's evaluation for its steering committee: training, "
                            "machine hours, revenue, satisfaction and sharing")
BLUEPRINTS = [blp]


class EvaluationArgs(Schema):
    from_ = Day(data_key="from", metadata={
        "description": "first day, Europe/Paris, inclusive; default: 1 September of the "
                       "current school year"})
    to = Day(metadata={"description": "last day, exclusive; default: the 1 September after "
                                      "``from`` (or after the current school year)"})
    establishment_id = object_id(strict=False, metadata={
        "description": "one establishment (its machines' sessions and bookings, the quotes "
                       "it issued); default: the whole campus"})


class EvaluationTrainingRowSchema(Schema):
    key = fields.String(metadata={"description": "the dimension's code"})
    learners = fields.Integer(metadata={"description": "distinct learners present or late"})
    hours_cents = fields.Integer(metadata={
        "description": "hours of training, hundredths of an hour (half-days' hours less "
                       "lateness)"})


class EvaluationTrainingSchema(Schema):
    learners = fields.Integer()
    hours_cents = fields.Integer()
    public = fields.List(fields.Nested(EvaluationTrainingRowSchema), metadata={
        "description": "per learner public: apprentice, student, employee, job_seeker"})
    establishment = fields.List(fields.Nested(EvaluationTrainingRowSchema), metadata={
        "description": "per establishment of the session's machine (key: its id)"})
    sector = fields.List(fields.Nested(EvaluationTrainingRowSchema), metadata={
        "description": "per project sector: cosmetics, pharmaceutical, other"})
    month = fields.List(fields.Nested(EvaluationTrainingRowSchema), metadata={
        "description": "per month of the period, YYYY-MM"})
    school_year = fields.List(fields.Nested(EvaluationTrainingRowSchema), metadata={
        "description": "per school year, YYYY-YYYY (1 September to 31 August)"})


class EvaluationMachineRowSchema(Schema):
    public = fields.String(metadata={
        "description": "own, campus, academic, company, job_seekers, or none (a booker of "
                       "no establishment)"})
    booked_hours_cents = fields.Integer(metadata={
        "description": "machine-hours of confirmed and completed bookings, hundredths"})
    used_hours_cents = fields.Integer(metadata={
        "description": "hours from check-in to check-out inside the booked slot, hundredths"})


class EvaluationRevenueRowSchema(Schema):
    establishment_id = fields.Integer(allow_none=True)
    month = fields.String(allow_none=True)
    projects = fields.Integer()
    excl_vat_cents = fields.Integer()


class EvaluationRevenueSchema(Schema):
    projects = fields.Integer()
    excl_vat_cents = fields.Integer(metadata={
        "description": "accepted quotes of completed projects, excluding VAT, euro cents"})
    by_establishment = fields.List(fields.Nested(EvaluationRevenueRowSchema))
    by_month = fields.List(fields.Nested(EvaluationRevenueRowSchema))
    cells = fields.List(fields.Nested(EvaluationRevenueRowSchema), metadata={
        "description": "per issuing establishment and month, those with revenue"})


class EvaluationRatingSchema(Schema):
    rating = fields.String(metadata={
        "description": "overall, content, trainer, equipment, organisation, objectives"})
    answers = fields.Integer()
    average = fields.Float(allow_none=True, metadata={
        "description": "out of 5, two decimals; null without answers"})


class EvaluationMarkSchema(Schema):
    mark = fields.Integer()
    answers = fields.Integer()


class EvaluationSatisfactionSchema(Schema):
    answered = fields.Integer()
    contact = fields.Integer(metadata={"description": "answers of company contacts"})
    learner = fields.Integer(metadata={"description": "answers of learners"})
    ratings = fields.List(fields.Nested(EvaluationRatingSchema))
    overall_marks = fields.List(fields.Nested(EvaluationMarkSchema))


class EvaluationSharingCellSchema(Schema):
    booker_establishment_id = fields.Integer()
    machine_establishment_id = fields.Integer()
    booked_hours_cents = fields.Integer()


class EvaluationSharingSchema(Schema):
    shared_hours_cents = fields.Integer(metadata={
        "description": "hours booked on a machine of another establishment than the booker's"})
    cells = fields.List(fields.Nested(EvaluationSharingCellSchema), metadata={
        "description": "booker's establishment × machine's establishment, those with hours; "
                       "company projects left out"})


class EvaluationEstablishmentSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class EvaluationSchema(Schema):
    # Named "from"/"to" in the body, as in the query.
    from_ = fields.Date(data_key="from", metadata={"description": "first day, inclusive"})
    to = fields.Date(metadata={"description": "last day, exclusive"})
    establishment_id = fields.Integer(allow_none=True)
    establishments = fields.List(fields.Nested(EvaluationEstablishmentSchema), metadata={
        "description": "the establishments named by ids in the figures"})
    training = fields.Nested(EvaluationTrainingSchema)
    machine_hours = fields.List(fields.Nested(EvaluationMachineRowSchema))
    revenue = fields.Nested(EvaluationRevenueSchema)
    satisfaction = fields.Nested(EvaluationSatisfactionSchema)
    sharing = fields.Nested(EvaluationSharingSchema)


def as_json(f: Figures, establishments: list[Establishment]) -> dict[str, Any]:
    """The figures in the API's shape (codes and integers)."""
    s = f.satisfaction

    def training_rows(rows: list[Any]) -> list[dict[str, Any]]:
        return [{"key": r.key, "learners": r.learners, "hours_cents": r.hours_cents}
                for r in rows]

    return {
        "from_": f.first, "to": f.last_excluded, "establishment_id": f.establishment_id,
        "establishments": [{"id": e.id, "code": e.code, "name": e.name} for e in establishments],
        "training": {"learners": f.training_total.learners,
                     "hours_cents": f.training_total.hours_cents,
                     **{dim: training_rows(f.training[dim]) for dim in TRAINING_DIMENSIONS}},
        "machine_hours": [{"public": r.key, "booked_hours_cents": r.booked_cents,
                           "used_hours_cents": r.used_cents} for r in f.machine_hours],
        "revenue": {
            "projects": f.revenue_total.projects, "excl_vat_cents": f.revenue_total.excl_cents,
            "by_establishment": [{"establishment_id": int(r.key), "month": None,
                                  "projects": r.projects, "excl_vat_cents": r.excl_cents}
                                 for r in f.revenue_by_establishment],
            "by_month": [{"establishment_id": None, "month": r.key, "projects": r.projects,
                          "excl_vat_cents": r.excl_cents} for r in f.revenue_by_month],
            "cells": [{"establishment_id": c.establishment_id, "month": c.month,
                       "projects": c.projects, "excl_vat_cents": c.excl_cents}
                      for c in f.revenue_cells]},
        "satisfaction": {
            "answered": s.answered, "contact": s.by_respondent.get("contact", 0),
            "learner": s.by_respondent.get("learner", 0),
            "ratings": [{"rating": r.key, "answers": r.answers, "average": r.average}
                        for r in s.ratings],
            "overall_marks": [{"mark": m, "answers": n} for m, n in s.overall_marks.items()]},
        "sharing": {
            "shared_hours_cents": f.shared_cents,
            "cells": [{"booker_establishment_id": b, "machine_establishment_id": m,
                       "booked_hours_cents": cents}
                      for b, row in sharing_matrix(f)
                      for m, cents in zip(f.sharing_establishments, row, strict=True)
                      if cents]},
    }


@blp.route("", methods=["GET"])
@blp.arguments(EvaluationArgs, location="query")
@blp.response(200, EvaluationSchema)
def get_evaluation(args: dict[str, Any]) -> dict[str, Any]:
    """Every block of the evaluation for the period [``from``, ``to``) in
    Europe/Paris (default: the current school year; at most 400 days, 422
    ``validation`` otherwise): learners trained and hours of training
    per public, establishment, sector, month and school year; machine hours
    per price public; revenue per establishment and month; satisfaction;
    sharing between establishments. 403 for trainers and companies, 404 for
    an establishment that does not exist."""
    now = utc_now()
    user = api_user()
    require(user, "view", Evaluation, N_("The evaluation is for coordinators and admins."))
    first, last_excluded = current_school_year(now)
    if args.get("from_") is not None:
        first = args["from_"]
        last_excluded = args.get("to") or first.replace(
            year=first.year + (1 if first.month >= 9 else 0), month=9, day=1)
    elif args.get("to") is not None:
        last_excluded = args["to"]
    if first >= last_excluded:
        raise ValidationError(N_("“to” must come after “from”."), {"field": "to"})
    establishment_id = args.get("establishment_id")
    if establishment_id is not None and db.session.get(Establishment, establishment_id) is None:
        raise NotFound(N_("Not found."))
    figures = evaluation(db.session, first=first, last_excluded=last_excluded,
                         establishment_id=establishment_id, now=now)
    named = {i for c in figures.sharing for i in (c.booker_establishment_id,
                                                  c.machine_establishment_id)}
    named |= set(figures.establishments) | {c.establishment_id for c in figures.revenue_cells}
    establishments = list(db.session.scalars(
        select(Establishment).where(Establishment.id.in_(named))
        .order_by(Establishment.name, Establishment.id)))
    return as_json(figures, establishments)
