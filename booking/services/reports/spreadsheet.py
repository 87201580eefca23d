"""The utilisation report as a CSV file for spreadsheets.

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

from booking.services.feeds.exports import FORMULA_START
from booking.services.reports.utilisation import Row

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
