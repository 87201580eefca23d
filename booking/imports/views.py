"""Placeholder while the import page is written."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/coordination")
