"""Pages of satisfaction (issue 15)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("satisfaction", __name__)
