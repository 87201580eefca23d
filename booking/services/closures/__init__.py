"""Closures: periods when a site or a machine cannot be booked, typed in or
imported from an iCalendar file."""
