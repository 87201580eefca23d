"""quotes (issue 15)."""
