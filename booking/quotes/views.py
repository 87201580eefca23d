"""Pages of quotes (issue 15)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("quotes", __name__)
