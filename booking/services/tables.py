"""A table of typed cells written as CSV or as an XLSX workbook, for the
downloads that people open in a spreadsheet.

The same table gives both files, so they never disagree. Cells keep their type
(a date, a time, a number, a text) until written: the CSV writes them as text
in the reader's conventions (``Layout``), the workbook as typed cells with a
number format, so that a spreadsheet sorts dates as dates in either file.
A text that a spreadsheet would take for a formula stays text in both (OWASP
"CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from booking.services.feeds.exports import FORMULA_START

Cell = str | int | float | date | datetime | time | None
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_SHEET_TITLE = 31  # Excel's limit


@dataclass(frozen=True)
class Layout:
    """How a reader's spreadsheet expects values written as text, and the
    number formats of typed cells in a workbook."""

    separator: str = ";"
    decimal: str = ","
    date_pattern: str = "%d/%m/%Y"  # figures only: no month name to translate
    xlsx_date: str = "DD/MM/YYYY"
    xlsx_datetime: str = "DD/MM/YYYY HH:MM"

    def number(self, value: float, decimals: int) -> str:
        return f"{value:.{decimals}f}".replace(".", self.decimal)


# French spreadsheets split fields on ";" and read a decimal comma and
# day/month/year; English ones read "," and a point, and ISO dates whatever
# their region (a "01/02" is 1 February in London and 2 January in Boston).
FRENCH = Layout()
ENGLISH = Layout(separator=",", decimal=".", date_pattern="%Y-%m-%d",
                 xlsx_date="YYYY-MM-DD", xlsx_datetime="YYYY-MM-DD HH:MM")


def layout_for(locale: object) -> Layout:
    return FRENCH if str(locale).split("_")[0] == "fr" else ENGLISH


@dataclass(frozen=True)
class Column:
    title: str
    decimals: int = 2  # for float cells
    percent: bool = False  # a fraction shown as a per cent in a workbook
    width: int = 14


@dataclass
class Table:
    title: str  # the sheet's name in a workbook
    columns: Sequence[Column]
    rows: list[Sequence[Cell]] = field(default_factory=list)


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _as_text(value: Cell, column: Column, layout: Layout) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.strftime(layout.date_pattern)} {value.strftime('%H:%M')}"
    if isinstance(value, date):
        return value.strftime(layout.date_pattern)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return layout.number(value, column.decimals)
    if isinstance(value, int):
        return str(value)
    return _safe(value)


def csv_bytes(table: Table, layout: Layout, separator: str | None = None) -> bytes:
    """UTF-8 with a BOM (so spreadsheet programs read the accents). With a
    separator other than the layout's, a comma separator takes decimal points
    (a decimal comma would split the number)."""
    sep = separator or layout.separator
    if sep == "," and layout.decimal == ",":
        layout = Layout(",", ".", layout.date_pattern, layout.xlsx_date, layout.xlsx_datetime)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([_as_text(v, c, layout) for v, c in zip(row, table.columns, strict=True)])
    return (BOM + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = "".join(" " if c in "[]:*?/\\" else c for c in title)[:MAX_SHEET_TITLE].strip()
    name, n = base or "Sheet", 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:MAX_SHEET_TITLE - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _write_cell(cell: Any, value: Cell, column: Column, layout: Layout) -> None:
    if isinstance(value, datetime):
        # A workbook has no time zones: the wall time the reader reads.
        cell.value = value.replace(tzinfo=None)
        cell.number_format = layout.xlsx_datetime
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = layout.xlsx_date
    elif isinstance(value, time):
        cell.value = value
        cell.number_format = "HH:MM"
    elif isinstance(value, float):
        cell.value = value
        cell.number_format = ("0.0%" if column.percent
                              else "0." + "0" * column.decimals if column.decimals else "0")
    elif isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never a formula, whatever its first character
    else:
        cell.value = value


def xlsx_bytes(tables: Sequence[Table], layout: Layout) -> bytes:
    """One sheet per table, its header row bold and frozen."""
    from openpyxl import Workbook  # imported here: only downloads need it
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title, taken))
        for j, column in enumerate(table.columns, start=1):
            head = sheet.cell(row=1, column=j)
            _write_cell(head, column.title, column, layout)
            head.font = bold
            sheet.column_dimensions[get_column_letter(j)].width = column.width
        for i, row in enumerate(table.rows, start=2):
            for j, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
                _write_cell(sheet.cell(row=i, column=j), value, column, layout)
        sheet.freeze_panes = "A2"
    if not tables:
        book.create_sheet("—")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
