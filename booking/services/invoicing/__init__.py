"""invoicing (issue 15)."""
