"""Pages of attendance (issue 15)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__)
