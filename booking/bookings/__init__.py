"""Booking pages: the booking form with its preview, my bookings, cancel, move."""
