"""Calendars: secret iCalendar feeds, the documents they serve and the
coordinators' export files."""
