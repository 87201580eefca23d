"""Pages of issue 15: satisfaction (see views.py)."""
