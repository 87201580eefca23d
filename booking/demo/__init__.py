"""Demo data: a realistic campus for a newcomer's first start."""
