"""/api/v1 routes of satisfaction (issue 15; booking.services.satisfaction).

``GET /api/v1/projects/{id}/satisfaction``: a project's results (staff and
the project's company; another company's project 404, its trainer 403).
Learners' answers are anonymous: counts, averages and comments only.
``POST /api/v1/projects/{id}/satisfaction/send``: coordinators and admins send
a completed project's questionnaires now to whoever has not received one
(409 ``invalid_state`` for a project not completed or nobody left to ask).
``GET /api/v1/satisfaction?group_by=equipment|trainer|establishment&from=&to=``:
the aggregate over the completed projects whose end falls in the period (staff;
a coordinator's, their establishment's projects).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, local_iso
from booking.api.fields import DATE_TIME, Day, text
from booking.extensions import db
from booking.handlers import commit
from booking.services.policy import CAMPUS_ZONE
from booking.services.satisfaction import results, surveys
from booking.timeutil import utc_now
from models import Project
from models.satisfaction import Respondent

blp = Blueprint("Satisfaction", __name__, url_prefix="/api/v1",
                description="Satisfaction questionnaires of completed projects and their "
                            "results.")
BLUEPRINTS = [blp]

MARK = {"description": "average mark from 1 to 5 (two decimals); null without answers"}
SHARE = {"description": "a fraction from 0 to 1; null without figures"}


class SatisfactionAveragesSchema(Schema):
    overall = fields.Float(allow_none=True, metadata=MARK)
    content = fields.Float(allow_none=True, metadata=MARK)
    trainer = fields.Float(allow_none=True, metadata=MARK)
    equipment = fields.Float(allow_none=True, metadata=MARK)
    organisation = fields.Float(allow_none=True, metadata=MARK)
    objectives = fields.Float(allow_none=True, metadata=MARK)


class SatisfactionTallySchema(Schema):
    sent = fields.Integer(metadata={"description": "questionnaires sent"})
    answered = fields.Integer(metadata={"description": "questionnaires answered"})
    response_rate = fields.Float(allow_none=True, metadata=SHARE)
    averages = fields.Nested(SatisfactionAveragesSchema)
    recommend_yes = fields.Integer()
    recommend_no = fields.Integer()
    recommend_rate = fields.Float(allow_none=True, metadata=SHARE)


class SatisfactionCommentSchema(Schema):
    respondent = fields.Enum(Respondent, by_value=True)
    text = fields.String()


class ProjectSatisfactionSchema(Schema):
    project_id = fields.Integer()
    first_sent_at = fields.String(allow_none=True, metadata={**DATE_TIME, "nullable": True})
    all = fields.Nested(SatisfactionTallySchema, metadata={"description": "every answer"})
    contact = fields.Nested(SatisfactionTallySchema,
                            metadata={"description": "the company contact's"})
    learners = fields.Nested(SatisfactionTallySchema,
                             metadata={"description": "the learners' (anonymous)"})
    comments = fields.List(fields.Nested(SatisfactionCommentSchema), metadata={
        "description": "the contact's first, then the learners' in the order of their text"})


class SurveysSentSchema(Schema):
    sent = fields.Integer(metadata={"description": "questionnaires sent by this request"})


class SatisfactionArgs(Schema):
    group_by = text(32, strip=False, load_default="equipment",
                    also=validate.OneOf(results.GROUPS))
    from_ = Day(data_key="from", metadata={
        "description": "first day of the projects' end, Europe/Paris, inclusive"})
    to = Day(metadata={"description": "last day of the projects' end, inclusive"})


class SatisfactionRowSchema(Schema):
    group_by = fields.String()
    key = fields.Integer(metadata={"description": "the equipment, trainer or establishment id"})
    label = fields.String()
    projects = fields.Integer(metadata={"description": "completed projects counted"})
    sent = fields.Integer()
    answered = fields.Integer()
    response_rate = fields.Float(allow_none=True, metadata=SHARE)
    averages = fields.Nested(SatisfactionAveragesSchema)
    recommend_rate = fields.Float(allow_none=True, metadata=SHARE)


class SatisfactionAggregateSchema(Schema):
    items = fields.List(fields.Nested(SatisfactionRowSchema))


def _tally(tally: results.Tally) -> dict[str, Any]:
    return {"sent": tally.sent, "answered": tally.answered,
            "response_rate": tally.response_rate, "averages": tally.averages,
            "recommend_yes": tally.recommend_yes, "recommend_no": tally.recommend_no,
            "recommend_rate": tally.recommend_rate}


@blp.route("/projects/<id:project_id>/satisfaction", methods=["GET"])
@blp.response(200, ProjectSatisfactionSchema)
def get_project_satisfaction(project_id: int) -> dict[str, Any]:
    """A project's satisfaction results: staff and the project's company (its
    trainer 403). Learners' answers are anonymous."""
    user = api_user()
    project = load(Project, project_id, user)
    found = results.project_results(db.session, project, actor=user)
    return {"project_id": project.id,
            "first_sent_at": local_iso(found.first_sent_at, CAMPUS_ZONE.key),
            "all": _tally(found.tally), "contact": _tally(found.contact),
            "learners": _tally(found.learners),
            "comments": [{"respondent": c.respondent, "text": c.text} for c in found.comments]}


@blp.route("/projects/<id:project_id>/satisfaction/send", methods=["POST"])
@blp.response(200, SurveysSentSchema)
def send_project_surveys(project_id: int) -> dict[str, Any]:
    """Send a completed project's questionnaires now to each respondent who has
    not received one (coordinators, admins)."""
    user = api_user()
    project = load(Project, project_id, user)
    sent = surveys.send_project_surveys(
        db.session, project, actor=user, now=utc_now(), key=current_app.config["SECRET_KEY"],
        valid_days=int(current_app.config.get("SURVEY_VALID_DAYS", 30)))
    commit()
    return {"sent": len(sent)}


@blp.route("/satisfaction", methods=["GET"])
@blp.arguments(SatisfactionArgs, location="query")
@blp.response(200, SatisfactionAggregateSchema)
def get_satisfaction(args: dict[str, Any]) -> dict[str, Any]:
    """The answers per machine, trainer or establishment (``group_by``) of the
    completed projects ended in the period (staff; a coordinator's cover the
    projects with a machine of their establishment)."""
    rows = results.aggregate(db.session, api_user(), args["group_by"], args.get("from_"),
                             args.get("to"))
    return {"items": [{**row.__dict__} for row in rows]}

