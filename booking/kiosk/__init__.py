"""Kiosk screens beside the machines, their links, and the QR check-in labels
(issue 14). One blueprint; the routes are in views.py and labels.py."""

from booking.kiosk import labels as _labels  # noqa: F401  (registers the label routes)
from booking.kiosk.views import bp

__all__ = ["bp"]
