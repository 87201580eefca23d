"""Downloads of a selection of bookings: /bookings/export.ics and /bookings/export.csv."""
