"""The coordinator's inbox: what waits on them, read from the tables that
already hold it (pending bookings and projects, open certification requests,
bookings a closure hits, bookings flagged for a lapsing certification)."""
