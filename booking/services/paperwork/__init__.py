"""The documents a training body hands out (quotes, training agreements,
attendance sheets, certificates of attendance), rendered as PDF from HTML
templates: :mod:`booking.services.paperwork.pdf`."""
