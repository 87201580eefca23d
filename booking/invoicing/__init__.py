"""Pages of issue 15: invoicing (see views.py)."""
