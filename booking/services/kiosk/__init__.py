"""Kiosk screens (issue 14): secret, revocable links to a read-only view of a
machine's or a site's bookings, and the machines' QR check-in labels."""
