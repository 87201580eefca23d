"""/api/v1/onboarding: the bulk imports of the /onboarding pages, for a
program: POST a CSV or XLSX file (multipart, field ``file``) to
``/onboarding/{accounts,equipment,certifications}``; ``?dry_run=true`` answers
the preview (200); otherwise 201 with the counts, or 422 with every line's
errors and nothing written. ``.../template?format=csv|xlsx`` gives the template.

One route per kind rather than a ``{kind}`` segment: every path parameter of
the API is an id (tests/test_api_style.py), and three kinds are few.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import get_locale
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow
from booking.extensions import db
from booking.handlers import commit
from booking.onboarding.shown import KINDS, plan_json
from booking.services.onboarding.access import Onboarding
from booking.services.onboarding.plan import (
    REQUEST_SECONDS,
    ImportRefused,
    import_file,
    preview,
)
from booking.services.onboarding.template import FORMATS, template_file
from booking.services.tables import layout_for
from booking.timeutil import utc_now

blp = Blueprint("Onboarding", __name__, url_prefix="/api/v1/onboarding",
                description="Accounts, equipment and certifications imported from a CSV or "
                            "XLSX file: a preview, then all lines or none.")
BLUEPRINTS = [blp]


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "true: answer what the import would do, and write nothing."})


class FileSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "The CSV (UTF-8, ';' or ',') or XLSX file, at most 2 MB and 5,000 "
                       "lines; its columns: docs/onboarding.md or the template."})


class TemplateArgs(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))


class ChangeSchema(Schema):
    column = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class LineSchema(Schema):
    line = fields.Integer(metadata={"description": "As a spreadsheet numbers it (1: header)."})
    key = fields.String(metadata={"description": "What the line is matched by."})
    status = fields.String(validate=validate.OneOf(
        ("created", "updated", "unchanged", "error")))
    changes = fields.List(fields.Nested(ChangeSchema))
    errors = fields.List(fields.String())


class PlanSchema(Schema):
    kind = fields.String()
    valid = fields.Boolean()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "created, updated, unchanged, error: lines of each."})
    errors = fields.List(fields.String(), metadata={
        "description": "What makes the whole file unreadable."})
    lines = fields.List(fields.Nested(LineSchema))


def _import(kind: str, args: dict[str, Any], files: dict[str, Any]) -> Any:
    # At most MAX_CONTENT_LENGTH was read; the service refuses more than its own limit.
    data = files["file"].read()
    if args["dry_run"]:
        plan = preview(db.session, actor=api_user(), kind=kind, data=data, now=utc_now(),
                       seconds=REQUEST_SECONDS)
        db.session.rollback()
        return plan_json(plan), 200
    try:
        plan = import_file(db.session, actor=api_user(), kind=kind, data=data, now=utc_now(),
                           source_name=getattr(files["file"], "filename", None) or None,
                           seconds=REQUEST_SECONDS)
    except ImportRefused as refused:
        db.session.rollback()
        response = jsonify({"error": refused.code, "message": refused.message,
                            "details": plan_json(refused.plan)})
        response.status_code = 422
        return response
    commit()
    return plan_json(plan), 201


def _template(kind: str, args: dict[str, Any]) -> Response:
    body, mimetype, name = template_file(kind, args["format"], layout_for(get_locale()))
    return Response(body, content_type=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _register(kind: str) -> None:
    """POST /onboarding/<kind> and GET /onboarding/<kind>/template."""

    def post(args: dict[str, Any], files: dict[str, Any]) -> Any:
        return _import(kind, args, files)

    def get_template(args: dict[str, Any]) -> Response:
        return _template(kind, args)

    post.__name__ = post.__qualname__ = f"post_{kind}"
    post.__doc__ = (f"Import a file of {kind} (dry_run: its preview).\n\n201: every line "
                    "was written; 422: none was, the body's details list every line's errors.")
    get_template.__name__ = get_template.__qualname__ = f"{kind}_template"
    get_template.__doc__ = f"The template of a file of {kind}: headers and an example line."
    # The 422 (the Error body, its details the plan) is documented by the arguments.
    view = blp.alt_response(200, schema=PlanSchema, description="dry_run: the preview")(
        blp.response(201, PlanSchema)(post))
    view = blp.arguments(FileSchema, location="files")(view)
    view = blp.arguments(ImportArgs, location="query")(view)
    blp.route(f"/{kind}", methods=["POST"])(allow("import", Onboarding)(view))
    template_view = blp.response(200, description="The CSV or XLSX file.")(get_template)
    template_view = blp.arguments(TemplateArgs, location="query")(template_view)
    blp.route(f"/{kind}/template", methods=["GET"])(allow("import", Onboarding)(
        template_view))


for _kind, _title in KINDS:
    _register(_kind)
