"""Pages of issue 15: evaluation (see views.py)."""
