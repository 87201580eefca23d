"""The utilisation report as a CSV file or a workbook for spreadsheets.

:func:`utilisation_table` is what the reader downloads: headers and labels in
their language, hours and rates as numbers (a workbook shows the rate as a
per cent). :func:`utilisation_csv` is the machine form of before (``codes=1``):
UTF-8 with a BOM, so that spreadsheet programs read the accents. French
spreadsheets expect ``;`` between fields and a decimal comma; with ``,`` as
separator the decimals take a point (a comma would split the number).
Hours have two decimals, the rate (a fraction, as in the API) four; a rate
without open hours is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from booking.services.feeds.exports import FORMULA_START
from booking.services.reports.utilisation import Row
from booking.services.tables import Column, Table

COLUMNS = ("key", "label", "booked_hours", "open_hours", "rate")
SEPARATORS = (";", ",")
BOM = "\ufeff"


def _number(value: float | None, decimals: int, separator: str) -> str:
    if value is None:
        return ""
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if separator == ";" else text


def _text(value: str) -> str:
    # A label such as "=HYPERLINK(...)" stays text (OWASP "CSV injection").
    return "'" + value if value.startswith(FORMULA_START) else value


def utilisation_csv(rows: Iterable[Row], separator: str = ";") -> bytes:
    if separator not in SEPARATORS:
        raise ValueError(f"separator is one of {SEPARATORS}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow((_text(row.key), _text(row.label),
                         _number(row.booked_hours, 2, separator),
                         _number(row.open_hours, 2, separator),
                         _number(row.rate, 4, separator)))
    return (BOM + out.getvalue()).encode("utf-8")


def utilisation_table(title: str, head: str, rows: Iterable[Row],
                      labels: Iterable[str]) -> Table:
    """One group's rows; ``head`` names what a row is (a machine, a month...)
    and ``labels`` are the rows' labels in the reader's language."""
    table = Table(title, [Column(head, width=40), Column(str(_l("Booked hours"))),
                          Column(str(_l("Open hours"))),
                          Column(str(_l("Rate")), decimals=4, percent=True)])
    for row, label in zip(rows, labels, strict=True):
        table.rows.append((label, round(float(row.booked_hours), 2),
                           round(float(row.open_hours), 2),
                           None if row.rate is None else round(float(row.rate), 4)))
    return table


# --- used against booked (issue 14) ---------------------------------------------

USAGE_COLUMNS = ("key", "label", "booked_hours", "check_in_booked_hours", "used_hours",
                 "usage_rate", "due_count", "no_show_count", "no_show_rate",
                 "bookings_count", "late_cancellation_count", "late_cancellation_rate")


def usage_csv(rows: Iterable[Row], separator: str = ";") -> bytes:
    """The machine form of the used-against-booked figures (``codes=1``), as
    :func:`utilisation_csv`: hours with two decimals, rates (fractions) with
    four, an empty cell for a rate of nothing, counts as integers."""
    if separator not in SEPARATORS:
        raise ValueError(f"separator is one of {SEPARATORS}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(USAGE_COLUMNS)
    for row in rows:
        writer.writerow((_text(row.key), _text(row.label),
                         _number(row.booked_hours, 2, separator),
                         _number(row.check_in_booked_hours, 2, separator),
                         _number(row.used_hours, 2, separator),
                         _number(row.usage_rate, 4, separator),
                         row.due_count, row.no_show_count,
                         _number(row.no_show_rate, 4, separator),
                         row.bookings_count, row.late_cancellation_count,
                         _number(row.late_cancellation_rate, 4, separator)))
    return (BOM + out.getvalue()).encode("utf-8")


def _fraction(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def usage_table(title: str, head: str, rows: Iterable[Row], labels: Iterable[str]) -> Table:
    """The used-against-booked figures of one group, in the reader's language."""
    table = Table(title, [
        Column(head, width=40), Column(str(_l("Booked hours"))),
        Column(str(_l("Booked hours on check-in"))), Column(str(_l("Used hours"))),
        Column(str(_l("Real usage rate")), decimals=4, percent=True),
        Column(str(_l("Bookings due"))), Column(str(_l("No-shows"))),
        Column(str(_l("No-show rate")), decimals=4, percent=True),
        Column(str(_l("Bookings made"))), Column(str(_l("Late cancellations"))),
        Column(str(_l("Late cancellation rate")), decimals=4, percent=True)])
    for row, label in zip(rows, labels, strict=True):
        table.rows.append((label, round(float(row.booked_hours), 2),
                           round(float(row.check_in_booked_hours), 2),
                           round(float(row.used_hours), 2), _fraction(row.usage_rate),
                           row.due_count, row.no_show_count, _fraction(row.no_show_rate),
                           row.bookings_count, row.late_cancellation_count,
                           _fraction(row.late_cancellation_rate)))
    return table
