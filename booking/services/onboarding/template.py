"""The template of each kind of file: its headers in the reader's language and
one example line, as CSV (in the reader's separator) or as a workbook."""

from __future__ import annotations

from enum import Enum

from flask_babel import gettext

from booking.labels import label
from booking.services.onboarding.plan import kind_named
from booking.services.tables import XLSX_MIMETYPE, Column, Layout, Table, csv_bytes, xlsx_bytes

FORMATS = ("csv", "xlsx")


def _example(value: object) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, Enum):
        return str(label(value))
    return str(value)


def template_table(kind: str) -> Table:
    spec = kind_named(kind)
    columns = [Column(gettext(c.title), width=max(14, len(gettext(c.title)) + 2))
               for c in spec.columns]
    return Table(gettext(spec.title), columns, [[_example(c.example) for c in spec.columns]])


def template_file(kind: str, file_format: str, layout: Layout) -> tuple[bytes, str, str]:
    """The file's bytes, its media type and its name."""
    table = template_table(kind)
    if file_format == "xlsx":
        return xlsx_bytes([table], layout), XLSX_MIMETYPE, f"{kind}.xlsx"
    return csv_bytes(table, layout), "text/csv; charset=utf-8", f"{kind}.csv"
