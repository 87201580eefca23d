"""evaluation (issue 15)."""
