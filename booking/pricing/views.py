"""Pages of pricing (issue 15)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pricing", __name__)
