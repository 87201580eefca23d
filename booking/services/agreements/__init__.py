"""agreements (issue 15)."""
