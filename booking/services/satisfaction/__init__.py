"""satisfaction (issue 15)."""
