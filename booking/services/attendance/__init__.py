"""attendance (issue 15)."""
