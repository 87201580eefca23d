"""A selection of bookings as a table for the reader's spreadsheet: headers,
purposes and statuses in the reader's language (booking.labels), dates and
times as typed cells in the campus's time zone.

The scheduler's CSV files and ``?codes=1`` keep the machine form
(booking.services.feeds.exports.bookings_csv): English keys and the API's values.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from booking.labels import label
from booking.services.policy import CAMPUS_ZONE
from booking.services.tables import Column, Table
from models import Booking

COLUMNS = (
    (_l("Date"), 12), (_l("Start"), 8), (_l("End"), 8), (_l("End date"), 12),
    (_l("Establishment"), 24), (_l("Equipment code"), 14),
    (_lp("table column", "Equipment"), 28), (_l("Title"), 36), (_l("Purpose"), 20),
    (_l("Status"), 14), (_l("Trainer"), 22), (_l("Participants"), 12),
)


def bookings_table(bookings: Iterable[Booking], title: str,
                   zone: ZoneInfo = CAMPUS_ZONE) -> Table:
    """One row per booking. The end date is its own column, so a booking that
    runs past midnight says on which day it ends and every cell keeps one type."""
    table = Table(title, [Column(str(name), width=width) for name, width in COLUMNS])
    for booking in bookings:
        start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
        table.rows.append((
            start.date(), start.time(), end.time(), end.date(),
            booking.equipment.establishment.name, booking.equipment.code,
            booking.equipment.name, booking.title, str(label(booking.purpose)),
            str(label(booking.status)),
            booking.trainer.name if booking.trainer is not None else "",
            booking.participants,
        ))
    return table
