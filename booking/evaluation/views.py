"""Pages of evaluation (issue 15)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evaluation", __name__)
