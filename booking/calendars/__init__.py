"""Calendar feeds: each user's secret iCalendar links, created, renewed and revoked."""
