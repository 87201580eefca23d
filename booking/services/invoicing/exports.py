"""Invoice lines as files for the accounting software: CSV and XLSX.

Both come from one :class:`booking.services.tables.Table`, so they never
disagree; headers and the lines' kinds are in the reader's language.

* CSV: what French accounting software imports, whatever the reader's
  language: UTF-8 with a BOM, ``;`` between fields, a decimal comma, amounts
  in euros with two decimals, dates day/month/year (the French layout of
  booking.services.tables).
* XLSX: numbers as numbers (amounts with a euro number format, rates and
  discounts as per cents), dates as dates, the header bold and frozen.

Text cells a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``…)
stay text in both (OWASP "CSV injection"): a quote line's label is typed by
a person.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l

from booking.labels import label
from booking.services.invoicing.lines import InvoiceLine
from booking.services.tables import FRENCH, Cell, Column, Layout, Table, csv_bytes

# A number format of euros that every spreadsheet program reads.
EURO_FORMAT = '#,##0.00 "€"'

# (title, width, money?) of each column, in order.
COLUMNS = (
    (_l("Establishment code"), 12, False),
    (_l("Issuing establishment"), 30, False),
    (_l("Customer"), 30, False),
    (_l("Project no."), 10, False),
    (_l("Project title"), 30, False),
    (_l("Quote reference"), 18, False),
    (_l("Quote date"), 12, False),
    (_l("Last session"), 12, False),
    (_l("Line label"), 40, False),
    (_l("Kind of line"), 16, False),
    (_l("Analytic code"), 14, False),
    (_l("Revenue account"), 14, False),
    (_l("Quantity"), 10, False),
    (_l("Unit"), 10, False),
    (_l("Unit price excl. VAT (€)"), 14, True),
    (_l("Line discount (%)"), 10, False),
    (_l("Quote discount (%)"), 10, False),
    (_l("Total excl. VAT (€)"), 14, True),
    (_l("VAT rate (%)"), 10, False),
    (_l("VAT (€)"), 12, True),
    (_l("Total incl. VAT (€)"), 14, True),
    (_l("Learners who attended (project)"), 12, False),
    (_l("Hours attended by the learners (project)"), 14, False),
)
MONEY = frozenset(i for i, (_, _, money) in enumerate(COLUMNS) if money)


def _euros(cents: int) -> float:
    return cents / 100


def _per_cent(basis_points: int) -> float:
    return basis_points / 100


def _row(line: InvoiceLine) -> tuple[Cell, ...]:
    return (line.establishment_code, line.establishment_name, line.customer, line.project_id,
            line.project_title, line.quote_reference, line.quote_date, line.last_session,
            line.label, str(label(line.kind)), line.analytic_code, line.revenue_account,
            line.quantity_cents / 100, line.unit, _euros(line.unit_price_cents),
            _per_cent(line.discount_bp), _per_cent(line.quote_discount_bp),
            _euros(line.excl_cents), _per_cent(line.vat_rate_bp), _euros(line.vat_cents),
            _euros(line.incl_cents), line.learners_attended, line.attended_hours_cents / 100)


def invoice_table(lines: Sequence[InvoiceLine], title: str) -> Table:
    """The rows in the reader's language; ``title`` names the sheet."""
    table = Table(title, [Column(str(head), width=width) for head, width, _ in COLUMNS])
    table.rows.extend(_row(line) for line in lines)
    return table


def invoice_csv(lines: Sequence[InvoiceLine], title: str) -> bytes:
    return csv_bytes(invoice_table(lines, title), FRENCH)


def invoice_xlsx(lines: Sequence[InvoiceLine], title: str, layout: Layout) -> bytes:
    """One sheet; ``layout`` gives the dates' format (the reader's)."""
    from openpyxl import Workbook  # imported here: only downloads need it
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    table = invoice_table(lines, title)
    book = Workbook()
    sheet = book.active
    sheet.title = "".join(" " if c in "[]:*?/\\" else c for c in title)[:31].strip() or "—"
    bold = Font(bold=True)
    for j, column in enumerate(table.columns, start=1):
        head = sheet.cell(row=1, column=j, value=column.title)
        head.data_type = "s"
        head.font = bold
        sheet.column_dimensions[get_column_letter(j)].width = column.width
    for i, row in enumerate(table.rows, start=2):
        for j, value in enumerate(row, start=1):
            cell = sheet.cell(row=i, column=j)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever its first character
            elif isinstance(value, float):
                cell.number_format = EURO_FORMAT if j - 1 in MONEY else "0.00"
            elif value is not None and not isinstance(value, int):
                cell.number_format = layout.xlsx_date
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
