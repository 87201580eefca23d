"""Pages of issue 15: agreements (see views.py)."""
