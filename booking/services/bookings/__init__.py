"""Bookings and series: the rules a booking must pass, what it occupies,
creating, moving, cancelling and deciding, and what time does to them."""
