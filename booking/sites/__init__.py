"""The calendar of a whole establishment: every machine, by day or by week."""
