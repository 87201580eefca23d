"""/evaluation: the campus's evaluation for the steering committee (issue 15,
lever 8; booking.services.evaluation.figures defines each figure).

One page for a period (a school year from the list, or from/until days, both
included, Europe/Paris; the current school year by default) and the whole
campus or one establishment: learners trained and hours of training, machine
hours per public, revenue, satisfaction and sharing between establishments,
each as a chart (SVG drawn as the reports draw theirs) in a figure with its
caption, then the same figures as a table. ``/evaluation/export.csv`` gives
every figure on its own line (block, dimension, item, measure, value) and
``/evaluation/export.xlsx`` one sheet per block. Admins and coordinators read
it (booking.services.evaluation.access); aggregates only, nobody named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from booking import labels
from booking.extensions import db
from booking.forms import QueryForm
from booking.i18n import local_date
from booking.permissions import may
from booking.reports.svg import Bar, bar_chart, column_chart, grouped_bar_chart
from booking.services.errors import DomainError
from booking.services.evaluation.access import Evaluation
from booking.services.evaluation.exports import (
    BLOCK_TITLES,
    labeller,
    long_csv,
    school_year_label,
    short_month,
    tables,
)
from booking.services.evaluation.figures import (
    Figures,
    current_school_year,
    evaluation,
    school_year,
    school_year_key,
    school_year_of,
    sharing_matrix,
)
from booking.services.inputs import ascii_file_name, parse_id
from booking.services.policy import CAMPUS_ZONE
from booking.services.reports.utilisation import check_range
from booking.services.tables import XLSX_MIMETYPE, layout_for, xlsx_bytes
from booking.timeutil import utc_now
from models import Establishment

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")

ALL = "all"
YEARS_BACK = 6  # school years offered before the current one


class PeriodForm(QueryForm):
    year = SelectField(_l("School year"), validate_choice=False, validators=[Optional()])
    first = DateField(_l("From"), name="from", validators=[Optional()])
    last = DateField(_l("To"), name="until", validators=[Optional()])
    establishment_id = SelectField(_l("Establishment"), validate_choice=False,
                                   validators=[Optional()])


@dataclass
class Choice:
    first: date
    last_excluded: date
    establishment_id: int | None

    def query(self) -> dict[str, Any]:
        args: dict[str, Any] = {"from": self.first.isoformat(),
                                "until": (self.last_excluded - timedelta(days=1)).isoformat()}
        if self.establishment_id is not None:
            args["establishment_id"] = self.establishment_id
        return args


@bp.app_context_processor
def _evaluation_helpers() -> dict[str, Any]:
    # base.html's menu asks ``can("view", evaluation_access)``.
    return {"evaluation_access": Evaluation}


def _allowed() -> None:
    if not may(current_user, "view", Evaluation):
        abort(403)


def _establishments() -> list[Establishment]:
    return list(db.session.scalars(select(Establishment).order_by(Establishment.name,
                                                                  Establishment.id)))


def _years(today: date) -> list[int]:
    current = school_year_of(today)
    return list(range(current + 1, current - YEARS_BACK - 1, -1))


def _choose(form: PeriodForm, known: set[int], today: date) -> Choice | None:
    """What the form asks for, or None after setting the form's errors. Dates
    take precedence over the school year; a period chosen by its school year
    (or the current one, by default) leaves the date fields empty, so that
    choosing another year in the list is enough."""
    form.validate()
    first, last_excluded = current_school_year(utc_now())
    year: int | None = school_year_of(first)
    typed = form.first.data is not None or form.last.data is not None
    if typed:
        first = form.first.data or first
        last_excluded = (form.last.data + timedelta(days=1) if form.last.data
                         else school_year(school_year_of(first))[1])
        year = None
    elif form.year.data:
        if not form.year.data.isdigit() or int(form.year.data) not in _years(today):
            form.year.errors = [_("Choose a school year of the list.")]
        else:
            year = int(form.year.data)
            first, last_excluded = school_year(year)
    if not form.first.errors and not form.last.errors and not form.year.errors:
        try:
            check_range(first, last_excluded)
        except DomainError as error:
            form.last.errors = [error.message]
    establishment_id = None
    raw = request.args.get("establishment_id", "")
    if raw not in ("", ALL):
        if parse_id(raw) not in known:
            form.establishment_id.errors = [_("Choose an establishment of the list.")]
        else:
            establishment_id = parse_id(raw)
    if typed:
        form.first.data, form.last.data = first, last_excluded - timedelta(days=1)
    form.year.data = "" if year is None else str(year)
    form.establishment_id.data = ALL if establishment_id is None else str(establishment_id)
    if form.errors:
        return None
    return Choice(first, last_excluded, establishment_id)


# --- charts and tables ------------------------------------------------------------


def _quantity(hundredths: int) -> str:
    return labels.quantity(hundredths, get_locale())


def _money(cents: int) -> str:
    return labels.money(cents, get_locale())


def _hours_text(hundredths: int) -> str:
    return _("%(hours)s h", hours=_quantity(hundredths))


def _tick_hours(value: float) -> str:
    return _quantity(round(value * 100))


def _tick_count(value: float) -> str:
    return _quantity(round(value * 100))


def _tick_euros(value: float) -> str:
    return _money(round(value * 100))


@dataclass
class Section:
    """A chart and its table: ``columns`` are (title, kind) with kind one of
    count, hours, money, average (the table's filters)."""

    id: str
    title: str
    head: str
    columns: list[tuple[str, str]]
    rows: list[tuple[str, list[int | None]]]
    chart: Markup | None = None
    intro: str = ""


def _training_sections(f: Figures, period: str) -> list[Section]:
    label = labeller(f)
    titles = {"public": _("Training per learner public"),
              "establishment": _("Training per establishment"),
              "sector": _("Training per sector"), "month": _("Training per month"),
              "school_year": _("Training per school year")}
    heads = {"public": _("Learner public"), "establishment": _("Establishment"),
             "sector": _("Sector"), "month": _("Month"), "school_year": _("School year")}
    sections = []
    for dim in ("public", "establishment", "sector", "month", "school_year"):
        rows = f.training[dim]
        names = [label(dim, r.key) for r in rows]
        chart = None
        if rows and dim != "school_year":
            options = {"chart_id": f"chart-training-{dim}",
                       "title": _("%(what)s, %(period)s.", what=titles[dim], period=period),
                       "desc": _("Hours of training of the learners present; the table "
                                 "that follows also gives the learners trained."),
                       "axis_label": _("Training hours"), "tick_format": _tick_hours}
            if dim == "month":
                chart = column_chart([Bar(short_month(r.key), r.hours_cents / 100,
                                          _quantity(r.hours_cents)) for r in rows], **options)
            else:
                chart = bar_chart([Bar(n, r.hours_cents / 100, _hours_text(r.hours_cents))
                                   for r, n in zip(rows, names, strict=True)], **options)
        sections.append(Section(
            f"training-{dim}", titles[dim], heads[dim],
            [(_("Learners trained"), "count"), (_("Training hours"), "hours")],
            [(n, [r.learners, r.hours_cents]) for r, n in zip(rows, names, strict=True)],
            chart))
    return sections


def _machine_section(f: Figures, period: str) -> Section:
    label = labeller(f)
    booked, used = _("Booked hours"), _("Used hours")
    groups = [(label("machine", r.key), [
        Bar(booked, r.booked_cents / 100, _hours_text(r.booked_cents), 1),
        Bar(used, r.used_cents / 100, _hours_text(r.used_cents), 0)]) for r in f.machine_hours]
    chart = grouped_bar_chart(
        groups, series=[(booked, 1), (used, 0)], chart_id="chart-machine-hours",
        title=_("Machine hours per public, %(period)s.", period=period),
        desc=_("Machine-hours booked (confirmed and completed bookings), then the hours "
               "used from check-in to check-out; the table that follows gives the figures."),
        axis_label=_("Hours"), tick_format=_tick_hours)
    return Section("machine", _("Machine hours per public"), _("Public"),
                   [(booked, "hours"), (used, "hours")],
                   [(label("machine", r.key), [r.booked_cents, r.used_cents])
                    for r in f.machine_hours], chart)


def _revenue_sections(f: Figures, period: str) -> list[Section]:
    label = labeller(f)
    amount = _("Amount excl. VAT")
    by_est = f.revenue_by_establishment
    est_chart = bar_chart(
        [Bar(label("establishment", r.key), r.excl_cents / 100, _money(r.excl_cents))
         for r in by_est],
        chart_id="chart-revenue-establishment",
        title=_("Revenue per establishment, %(period)s.", period=period),
        desc=_("Accepted quotes of completed projects, excluding VAT, by issuing "
               "establishment."),
        axis_label=_("Euros excl. VAT"), tick_format=_tick_euros) if by_est else None
    month_chart = column_chart(
        [Bar(short_month(r.key), r.excl_cents / 100, _money(r.excl_cents))
         for r in f.revenue_by_month],
        chart_id="chart-revenue-month",
        title=_("Revenue per month, %(period)s.", period=period),
        desc=_("Accepted quotes of completed projects, excluding VAT, in the month of the "
               "project's last session."),
        axis_label=_("Euros excl. VAT"), tick_format=_tick_euros)
    columns = [(_("Completed projects"), "count"), (amount, "money")]
    return [
        Section("revenue-establishment", _("Revenue per establishment"), _("Establishment"),
                columns, [(label("establishment", r.key), [r.projects, r.excl_cents])
                          for r in by_est], est_chart),
        Section("revenue-month", _("Revenue per month"), _("Month"), columns,
                [(label("month", r.key), [r.projects, r.excl_cents])
                 for r in f.revenue_by_month], month_chart),
    ]


def _satisfaction_sections(f: Figures, period: str) -> list[Section]:
    label = labeller(f)
    s = f.satisfaction
    ratings = Section(
        "satisfaction-ratings", _("Satisfaction per rating"), _("Rating"),
        [(_("Answers"), "count"), (_("Average out of 5"), "average")],
        [(label("rating", r.key),
          [r.answers, None if r.average is None else round(r.average * 100)])
         for r in s.ratings],
        bar_chart([Bar(label("rating", r.key), r.average,
                       "—" if r.average is None else _quantity(round(r.average * 100)))
                   for r in s.ratings],
                  chart_id="chart-satisfaction-ratings",
                  title=_("Average rating out of 5, %(period)s.", period=period),
                  desc=_("Average of the answers to each question, from 1 (very "
                         "dissatisfied) to 5 (very satisfied); “—” without answers."),
                  axis_label=_("Average out of 5"), maximum=5, ticks=5,
                  tick_format=_tick_count))
    marks = Section(
        "satisfaction-marks", _("Overall marks given"), _("Overall mark"),
        [(_("Answers"), "count")],
        [(f"{mark}/5", [count]) for mark, count in s.overall_marks.items()],
        column_chart([Bar(f"{mark}/5", count, str(count))
                      for mark, count in s.overall_marks.items()],
                     chart_id="chart-satisfaction-marks",
                     title=_("Overall marks given, %(period)s.", period=period),
                     desc=_("How many respondents gave each overall mark."),
                     axis_label=_("Answers"), tick_format=lambda v: f"{v:g}"))
    return [ratings, marks]


def _sharing_chart(f: Figures, period: str) -> Markup | None:
    label = labeller(f)
    shared: dict[int, int] = {}
    for cell in f.sharing:
        if cell.booker_establishment_id != cell.machine_establishment_id:
            shared[cell.booker_establishment_id] = (shared.get(cell.booker_establishment_id, 0)
                                                    + cell.booked_cents)
    if not shared:
        return None
    return bar_chart(
        [Bar(label("establishment", str(e)), c / 100, _hours_text(c)) for e, c in shared.items()],
        chart_id="chart-sharing",
        title=_("Hours booked on another establishment's machines, %(period)s.",
                period=period),
        desc=_("Per establishment of the people who booked; the table that follows gives "
               "every establishment's hours on the machines of each."),
        axis_label=_("Booked hours"), tick_format=_tick_hours)


def _page_context(f: Figures, period: str) -> dict[str, Any]:
    label = labeller(f)
    return {
        "figures": f, "period": period, "label": label,
        "training": _training_sections(f, period),
        "machine": _machine_section(f, period),
        "revenue": _revenue_sections(f, period),
        "satisfaction": _satisfaction_sections(f, period),
        "sharing_chart": _sharing_chart(f, period),
        "sharing_rows": [(label("establishment", str(b)), cells)
                         for b, cells in sharing_matrix(f)],
        "sharing_heads": [label("establishment", str(e)) for e in f.sharing_establishments],
        "block_titles": BLOCK_TITLES,
    }


# --- the views ----------------------------------------------------------------------


@bp.route("/", endpoint="index")
@login_required
def index() -> tuple[str, int] | str:
    _allowed()
    now = utc_now()
    today = now.astimezone(CAMPUS_ZONE).date()
    establishments = _establishments()
    form = PeriodForm(request.args)
    form.year.choices = [("", _("Choose dates below"))] + [
        (str(y), school_year_label(school_year_key(y))) for y in _years(today)]
    form.establishment_id.choices = [(ALL, _("Whole campus"))] + [
        (str(e.id), f"{e.code} — {e.name}") for e in establishments]
    choice = _choose(form, {e.id for e in establishments}, today)
    if choice is None:
        return render_template("evaluation/index.html", form=form, choice=None), 400
    figures = evaluation(db.session, first=choice.first, last_excluded=choice.last_excluded,
                         establishment_id=choice.establishment_id, now=now)
    last_day = choice.last_excluded - timedelta(days=1)
    period = _("from %(first)s to %(last)s", first=local_date(choice.first, "long"),
               last=local_date(last_day, "long"))
    scope = next((e for e in establishments if e.id == choice.establishment_id), None)
    return render_template(
        "evaluation/index.html", form=form, choice=choice, scope=scope,
        csv_url=url_for("evaluation.export_csv", **choice.query()),
        csv_comma_url=url_for("evaluation.export_csv", **choice.query(), sep=","),
        xlsx_url=url_for("evaluation.export_xlsx", **choice.query()),
        **_page_context(figures, period))


def _download() -> tuple[Figures, str]:
    """The figures of a download's period; 400 for what cannot be read, 404
    for an establishment that does not exist."""
    form = PeriodForm(request.args)
    form.year.choices = []
    form.establishment_id.choices = []
    today = utc_now().astimezone(CAMPUS_ZONE).date()
    known = {e.id for e in _establishments()}
    raw = request.args.get("establishment_id", "")
    if raw not in ("", ALL) and parse_id(raw) is not None and parse_id(raw) not in known:
        abort(404)
    choice = _choose(form, known, today)
    if choice is None:
        abort(400, description=" ".join(str(e) for errors in form.errors.values()
                                        for e in errors))
    figures = evaluation(db.session, first=choice.first, last_excluded=choice.last_excluded,
                         establishment_id=choice.establishment_id, now=utc_now())
    last = choice.last_excluded - timedelta(days=1)
    return figures, f"evaluation-{choice.first.isoformat()}-{last.isoformat()}"


def _sent(body: bytes, content_type: str, name: str) -> Response:
    return Response(body, content_type=content_type,
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/export.csv", endpoint="export_csv")
@login_required
def export_csv() -> Response:
    _allowed()
    separator = request.args.get("sep") or None
    if separator is not None and separator not in (";", ","):
        abort(400, description=_("sep is “;” or “,”."))
    figures, name = _download()
    return _sent(long_csv(figures, layout_for(get_locale()), separator),
                 "text/csv; charset=utf-8", ascii_file_name(name + ".csv"))


@bp.route("/export.xlsx", endpoint="export_xlsx")
@login_required
def export_xlsx() -> Response:
    _allowed()
    figures, name = _download()
    return _sent(xlsx_bytes(tables(figures), layout_for(get_locale())), XLSX_MIMETYPE,
                 ascii_file_name(name + ".xlsx"))
