"""Pages of issue 15: attendance (see views.py)."""
