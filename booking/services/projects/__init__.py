"""Industrial teaching projects: requested by a company, decided by a
coordinator, their sessions booked as bookings."""
