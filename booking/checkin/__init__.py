"""The pages of check-in at the machine: the page its QR label opens, and the
page of an incident reported there (booking.services.checkin)."""
