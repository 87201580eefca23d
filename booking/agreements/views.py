"""Pages of agreements (issue 15)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agreements", __name__)
