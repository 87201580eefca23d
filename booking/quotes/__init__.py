"""Pages of issue 15: quotes (see views.py)."""
