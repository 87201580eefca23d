"""The admin blueprint and its guard: every page is for admins only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user
from werkzeug.wrappers import Response

from booking.permissions import may
from models import Establishment

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only() -> Response | None:
    """Anonymous users go to the login page; others than admins get a 403."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if not may(current_user, "manage", Establishment):
        abort(403)
    return None
