"""Pages of issue 15: pricing (see views.py)."""
