"""The evaluation in the reader's language: labels of its rows, and its
tables for the downloads (booking.services.tables: the same tables give the
CSV and the workbook, and keep a text that looks like a formula as text).

The workbook has one sheet per block, numbers as numbers (hours and euros
with two decimals, averages with two, counts as integers). The CSV is long:
one line per figure, ``block;dimension;item;measure;value`` (UTF-8 with a
BOM, ``;`` and a decimal comma in French, ``,`` and a point in English), so
that a spreadsheet filters it by block or measure.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from booking.labels import LEARNER_PUBLIC_LABELS, PUBLIC_LABELS, RESPONDENT_LABELS, SECTOR_LABELS
from booking.services.evaluation.figures import NONE, Figures, sharing_matrix
from booking.services.tables import BOM, Column, Layout, Table, _as_text
from models import LearnerPublic, Respondent
from models.pricing import Public
from models.project import Sector

RATING_LABELS: dict[str, Any] = {
    "overall": _lp("evaluation rating", "Overall rating"),
    "content": _lp("evaluation rating", "Content"),
    "trainer": _lp("evaluation rating", "Trainer"),
    "equipment": _lp("evaluation rating", "Equipment"),
    "organisation": _lp("evaluation rating", "Organisation"),
    "objectives": _lp("evaluation rating", "Objectives"),
}
DIMENSION_LABELS: dict[str, Any] = {
    "total": _lp("evaluation dimension", "Whole period"),
    "public": _lp("evaluation dimension", "Learner public"),
    "establishment": _lp("evaluation dimension", "Establishment"),
    "sector": _lp("evaluation dimension", "Sector"),
    "month": _lp("evaluation dimension", "Month"),
    "school_year": _lp("evaluation dimension", "School year"),
}
BLOCK_TITLES: dict[str, Any] = {
    "training": _l("Training"),
    "machine": _l("Machine hours"),
    "revenue": _l("Revenue"),
    "satisfaction": _l("Satisfaction"),
    "sharing": _l("Sharing"),
}
NO_ESTABLISHMENT = _lp("evaluation public", "No establishment")


def month_label(key: str) -> str:
    """« janvier 2027 » for "2027-01", in the reader's language (Babel)."""
    return format_date(date.fromisoformat(key + "-01"), "LLLL yyyy")


def short_month(key: str) -> str:
    return f"{format_date(date.fromisoformat(key + '-01'), 'LLL')}\n{key[:4]}"


def school_year_label(key: str) -> str:
    first, last = key.split("-")
    return f"{first}–{last}"


def labeller(figures: Figures) -> Callable[[str, str], str]:
    """``label(dimension, key)``: what a row of the evaluation is called."""

    def label(dimension: str, key: str) -> str:
        if dimension == "public":
            return str(LEARNER_PUBLIC_LABELS[LearnerPublic(key)])
        if dimension == "sector":
            return str(SECTOR_LABELS[Sector(key)])
        if dimension == "establishment":
            return figures.names.get(int(key), key)
        if dimension == "month":
            return month_label(key)
        if dimension == "school_year":
            return school_year_label(key)
        if dimension == "machine":
            return str(NO_ESTABLISHMENT) if key == NONE else str(PUBLIC_LABELS[Public(key)])
        if dimension == "rating":
            return str(RATING_LABELS[key])
        if dimension == "respondent":
            return str(RESPONDENT_LABELS[Respondent(key)])
        return key

    return label


def _units(cents: int) -> float:
    """Hundredths (of an hour or a euro) as a number with two decimals."""
    return round(cents / 100, 2)


def tables(figures: Figures) -> list[Table]:
    """One table per block, each with its dimension and item first."""
    label = labeller(figures)
    dimension = Column(str(_l("Dimension")), width=22)
    item = Column(str(_lp("evaluation column", "Item")), width=36)

    training = Table(str(BLOCK_TITLES["training"]), [
        dimension, item, Column(str(_l("Learners trained"))),
        Column(str(_l("Training hours")))])
    t = figures.training_total
    training.rows.append((str(DIMENSION_LABELS["total"]), str(_l("All learners")),
                          t.learners, _units(t.hours_cents)))
    for dim in ("public", "establishment", "sector", "month", "school_year"):
        for row in figures.training[dim]:
            training.rows.append((str(DIMENSION_LABELS[dim]), label(dim, row.key),
                                  row.learners, _units(row.hours_cents)))

    machine = Table(str(BLOCK_TITLES["machine"]), [
        dimension, item, Column(str(_l("Booked hours"))), Column(str(_l("Used hours")))])
    for row in figures.machine_hours:
        machine.rows.append((str(_lp("evaluation dimension", "Public")),
                             label("machine", row.key), _units(row.booked_cents),
                             _units(row.used_cents)))

    revenue = Table(str(BLOCK_TITLES["revenue"]), [
        dimension, item, Column(str(_l("Completed projects"))),
        Column(str(_l("Amount excl. VAT (€)")))])
    r = figures.revenue_total
    revenue.rows.append((str(DIMENSION_LABELS["total"]), str(_l("Whole campus"))
                         if figures.establishment_id is None
                         else label("establishment", str(figures.establishment_id)),
                         r.projects, _units(r.excl_cents)))
    for row in figures.revenue_by_establishment:
        revenue.rows.append((str(DIMENSION_LABELS["establishment"]),
                             label("establishment", row.key), row.projects,
                             _units(row.excl_cents)))
    for row in figures.revenue_by_month:
        revenue.rows.append((str(DIMENSION_LABELS["month"]), label("month", row.key),
                             row.projects, _units(row.excl_cents)))
    for cell in figures.revenue_cells:
        revenue.rows.append((label("establishment", str(cell.establishment_id)),
                             label("month", cell.month), cell.projects,
                             _units(cell.excl_cents)))

    s = figures.satisfaction
    satisfaction = Table(str(BLOCK_TITLES["satisfaction"]), [
        dimension, item, Column(str(_l("Answers"))), Column(str(_l("Average")))])
    satisfaction.rows.append((str(DIMENSION_LABELS["total"]),
                              str(_l("Questionnaires answered")), s.answered, None))
    for key, count in s.by_respondent.items():
        satisfaction.rows.append((str(_lp("evaluation dimension", "Respondent")),
                                  label("respondent", key), count, None))
    for rating in s.ratings:
        satisfaction.rows.append((str(_lp("evaluation dimension", "Rating")),
                                  label("rating", rating.key), rating.answers, rating.average))
    for mark, count in s.overall_marks.items():
        satisfaction.rows.append((str(_lp("evaluation dimension", "Overall mark")),
                                  f"{mark}/5", count, None))

    sharing = Table(str(BLOCK_TITLES["sharing"]), [
        Column(str(_l("Booked by")), width=36), Column(str(_l("Machines of")), width=36),
        Column(str(_l("Booked hours")))])
    for booker, hours_ in sharing_matrix(figures):
        for machine_est, cents in zip(figures.sharing_establishments, hours_, strict=True):
            if cents:
                sharing.rows.append((label("establishment", str(booker)),
                                     label("establishment", str(machine_est)), _units(cents)))
    return [training, machine, revenue, satisfaction, sharing]


def long_csv(figures: Figures, layout: Layout, separator: str | None = None) -> bytes:
    """Every figure of every block on its own line: block, dimension, item,
    measure, value (the layout's separator and decimal mark, UTF-8 with BOM)."""
    sep = separator or layout.separator
    if sep == "," and layout.decimal == ",":
        layout = Layout(",", ".", layout.date_pattern, layout.xlsx_date, layout.xlsx_datetime)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerow([str(_l("Block")), str(_l("Dimension")),
                     str(_lp("evaluation column", "Item")),
                     str(_l("Measure")), str(_l("Value"))])
    for table in tables(figures):
        first, second, *measures = table.columns
        for row in table.rows:
            head = [_as_text(row[0], first, layout), _as_text(row[1], second, layout)]
            for column, value in zip(measures, row[2:], strict=True):
                if value is None:
                    continue
                writer.writerow([_as_text(table.title, first, layout), *head,
                                 _as_text(column.title, first, layout),
                                 _as_text(value, column, layout)])
    return (BOM + out.getvalue()).encode("utf-8")
