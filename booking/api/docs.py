"""/api/v1/docs: the OpenAPI document as a page, served by the app itself
(no CDN-hosted viewer: the platform must work on a closed network)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("api-pages", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


@bp.route("/api/v1/docs")
def docs() -> str:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", ""),
         "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
         "responses": sorted(op.get("responses", {}))}
        for path, item in spec["paths"].items()
        for method, op in item.items() if method in METHODS
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)
