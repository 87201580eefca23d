"""The projects API: a company requests an industrial teaching project, a
coordinator approves it (assigning a trainer) or rejects it.

A company sees only its own company's projects (another's is a 404), a
trainer those they run; coordinators and admins see all.

Extension beyond API.md: ``POST /api/v1/projects/{id}/cancel`` with
``{"reason"}`` (required) cancels the project and its sessions still to come
(each as ``POST /api/v1/bookings/{id}/cancel`` would, with its messages), and
answers the project, 200. Its company may cancel it while it is requested,
approved or scheduled, a coordinator or an admin until it is over; a trainer,
a company once its sessions have begun, or anyone the rule for cancelling one
of the sessions refuses (a session booked by someone else, on a machine of
another establishment) gets 403 ``forbidden``; a completed, rejected or
cancelled project 409 ``invalid_state``; another company's project 404.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow, load, local_iso, page
from booking.api.fields import (
    DATE_TIME,
    Day,
    PageArgs,
    integer,
    object_id,
    optional_text,
    page_of,
    required_text,
)
from booking.extensions import db
from booking.handlers import commit
from booking.services.policy import CAMPUS_ZONE
from booking.services.projects import operations as projects
from booking.services.projects.access import visible_projects
from booking.timeutil import utc_now
from models import Project, ProjectStatus, Sector

PARIS = CAMPUS_ZONE.key

blp = Blueprint("Projects", __name__, url_prefix="/api/v1/projects",
                description="Industrial teaching projects requested by companies.")
BLUEPRINTS = [blp]


def _email_or_empty(value: str) -> None:
    if value:
        validate.Email()(value)


class ProjectSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = required_text(255)
    description = optional_text(10000)
    objectives = optional_text(10000)
    learners = integer(1, 100000, required=True)
    equipment_ids = fields.List(object_id(), load_default=list,
                                validate=validate.Length(max=100))
    wanted_from = Day(required=True)
    wanted_to = Day(required=True)
    contact_name = optional_text(255)
    contact_email = optional_text(254, also=_email_or_empty)
    contact_phone = optional_text(40)
    sector = fields.Enum(Sector, by_value=True, load_default=Sector.OTHER, metadata={
        "description": "The industry the project serves (the campus's evaluation counts "
                       "per sector); default other."})
    status = fields.Enum(ProjectStatus, by_value=True, dump_only=True)
    company_id = fields.Integer(dump_only=True)
    trainer_id = fields.Integer(dump_only=True, allow_none=True)
    requested_by_id = fields.Integer(dump_only=True, allow_none=True)
    decided_by_id = fields.Integer(dump_only=True, allow_none=True)
    decided_at = fields.Function(lambda p: local_iso(p.decided_at, PARIS), dump_only=True,
                                 metadata={**DATE_TIME, "nullable": True})
    decision_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.Function(lambda p: local_iso(p.created_at, PARIS), dump_only=True,
                                 metadata=DATE_TIME)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "equipment_ids":
            return [e.id for e in obj.equipment]
        return super().get_attribute(obj, attr, default)


class ProjectQuerySchema(PageArgs):
    status = fields.Enum(ProjectStatus, by_value=True)
    company_id = object_id(strict=False)


class ProjectApproveSchema(Schema):
    trainer_id = object_id(required=True, metadata={"description": "A trainer account."})
    reason = optional_text(2000)


class ProjectRejectSchema(Schema):
    reason = required_text(2000)


class ProjectCancelSchema(Schema):
    reason = required_text(2000)


@blp.route("", methods=["POST"])
@allow("request", Project)
@blp.arguments(ProjectSchema)
@blp.response(201, ProjectSchema)
def request_project(body: dict[str, Any]) -> Project:
    """Request a project for the caller's company (company accounts only)."""
    project = projects.request_project(db.session, actor=api_user(), now=utc_now(), **body)
    commit()
    return project


@blp.route("", methods=["GET"])
@blp.arguments(ProjectQuerySchema, location="query")
@blp.response(200, page_of(ProjectSchema))
def list_projects(args: dict[str, Any]) -> dict[str, Any]:
    """The projects the caller may see, newest first; filters ``status``, ``company_id``."""
    stmt = (visible_projects(api_user()).options(selectinload(Project.equipment))
            .order_by(Project.created_at.desc(), Project.id.desc()))
    for name in ("status", "company_id"):
        if name in args:
            stmt = stmt.where(getattr(Project, name) == args[name])
    return page(stmt, args)


@blp.route("/<id:project_id>", methods=["GET"])
@blp.response(200, ProjectSchema)
def get_project(project_id: int) -> Project:
    return load(Project, project_id, api_user())


@blp.route("/<id:project_id>/approve", methods=["POST"])
@blp.arguments(ProjectApproveSchema)
@blp.response(200, ProjectSchema)
def approve_project(body: dict[str, Any], project_id: int) -> Project:
    """Approve a requested project and assign its trainer (coordinators, admins)."""
    project = load(Project, project_id, api_user(), "decide")
    projects.approve_project(db.session, project, actor=api_user(), now=utc_now(), **body)
    commit()
    return project


@blp.route("/<id:project_id>/reject", methods=["POST"])
@blp.arguments(ProjectRejectSchema)
@blp.response(200, ProjectSchema)
def reject_project(body: dict[str, Any], project_id: int) -> Project:
    """Reject a requested project, saying why (coordinators, admins)."""
    project = load(Project, project_id, api_user(), "decide")
    projects.reject_project(db.session, project, actor=api_user(), now=utc_now(), **body)
    commit()
    return project


@blp.route("/<id:project_id>/cancel", methods=["POST"])
@blp.arguments(ProjectCancelSchema)
@blp.response(200, ProjectSchema)
def cancel_project(body: dict[str, Any], project_id: int) -> Project:
    """Cancel a project and its sessions still to come, saying why (its company
    until the sessions begin; coordinators, admins). An extension of API.md."""
    project = load(Project, project_id, api_user())
    projects.cancel_project(db.session, project, actor=api_user(), now=utc_now(), **body)
    commit()
    return project
