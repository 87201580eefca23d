"""/reports: utilisation and activity for coordinators and admins.

The page shows each figure twice, as a chart drawn here as SVG
(booking.reports.svg) and as a table (the accessible alternative, and what a
screen reader reads); ``/reports/utilisation.csv`` downloads the rows of one
group and ``/reports/utilisation.xlsx`` every group, in the reader's language
(``codes=1``: the CSV as the API gives its rows). Its section « Utilisation
réelle » sets used hours beside booked hours, with the no-show and late
cancellation rates, per machine, establishment and user (the booker; a
coordinator sees the users of their own establishment, an admin everyone), and
``/reports/usage.csv`` downloads them; the workbook has their sheets too.
The page's range has both
days included (``from``, ``until``), as every other page; the API's ``to``
(excluded) is still read in old links and by the downloads. Dates in
Europe/Paris. Coordinators start on their establishment, admins on the whole
campus; both may choose any (``establishment_id=all`` is the campus).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel import numbers
from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from booking.bookings.forms import PURPOSE_LABELS
from booking.coordination.access import staff_required
from booking.extensions import db
from booking.i18n import local_date
from booking.query import arg_day, arg_id, optional_day
from booking.reports.forms import ALL, ReportForm
from booking.reports.svg import Bar, bar_chart, column_chart, grouped_bar_chart
from booking.services.errors import DomainError
from booking.services.inputs import ascii_file_name, parse_id
from booking.services.policy import CAMPUS_ZONE
from booking.services.reports.access import PeopleScope, default_establishment, people_scope
from booking.services.reports.activity import activity
from booking.services.reports.spreadsheet import (
    SEPARATORS,
    usage_csv,
    usage_table,
    utilisation_csv,
    utilisation_table,
)
from booking.services.reports.utilisation import (
    FIRST_DAY,
    GROUPS,
    LAST_DAY,
    Row,
    check_range,
    report,
)
from booking.services.tables import XLSX_MIMETYPE, Table, csv_bytes, layout_for, xlsx_bytes
from booking.timeutil import utc_now
from models import Establishment

bp = Blueprint("reports", __name__, url_prefix="/reports")

SHARING_LABELS = {
    "own": _l("Owner establishment"),
    "other": _l("Other establishments"),
    "company": _l("Companies"),
    "none": _l("No establishment"),
}
SHARING_PATTERNS = {"own": 0, "other": 1, "company": 2, "none": 3}
# What a row of each group is: a sheet's name and its first column.
GROUP_HEADS = {
    "equipment": _lp("table column", "Equipment"), "month": _l("Month"),
    "purpose": _l("Purpose"), "sharing": _l("Booked by"), "company": _l("Company"),
    "establishment": _l("Establishment"),
}
# Pages' sections, in order; "establishment" only for the whole campus.
SECTIONS = ("equipment", "month", "purpose", "sharing", "company", "establishment")
# The used-against-booked tables (« Utilisation réelle »), in order.
USAGE_GROUPS = ("equipment", "establishment", "user")
USAGE_HEADS = {"equipment": _lp("table column", "Equipment"),
               "establishment": _l("Establishment"), "user": _l("Booked by")}
USAGE_TITLES = {"equipment": _l("Real use per machine"),
                "establishment": _l("Real use per establishment"),
                "user": _l("Real use per user")}
BOOKED_PATTERN, USED_PATTERN = 1, 0
NO_SHOW_PATTERN, LATE_PATTERN = 0, 2


# --- numbers in the page's language --------------------------------------------


def hours(value: float) -> str:
    return numbers.format_decimal(value, format="#,##0.##", locale=get_locale())


def percent(rate: float | None) -> str:
    if rate is None:
        return "—"
    # A tenth of a per cent, rounded half up from the rate's decimal digits.
    tenths = Decimal(str(rate)).quantize(Decimal("0.001"), ROUND_HALF_UP)
    return numbers.format_percent(tenths, locale=get_locale(), decimal_quantization=False)


def _tick_percent(value: float) -> str:
    return percent(value / 100)


# --- the range -------------------------------------------------------------------


def month_of(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


@dataclass
class Choice:
    first: date
    last_excluded: date
    establishment_id: int | None

    def query(self, **more: Any) -> dict[str, Any]:
        """The page's query string: both days included (``until``)."""
        last = self.last_excluded - timedelta(days=1)
        args = {"from": self.first.isoformat(), "until": last.isoformat(), **more}
        if self.establishment_id is not None:
            args["establishment_id"] = self.establishment_id
        return args


def _establishments() -> list[Establishment]:
    return list(db.session.scalars(
        select(Establishment).order_by(Establishment.city, Establishment.name)))


def _legacy_end() -> date | None:
    """The last day of an old link's ``to`` (excluded, the API's word)."""
    excluded = optional_day("to")
    return excluded - timedelta(days=1) if excluded is not None else None


def _choose(form: ReportForm, known: set[int], today: date) -> Choice | None:
    """What the filter asks for, or None after setting the form's errors."""
    form.validate()
    default_first, default_last = month_of(today)
    first = form.first.data or default_first
    in_bounds = FIRST_DAY <= first <= LAST_DAY
    last = form.last.data or _legacy_end() or (
        default_last - timedelta(days=1) if not form.first.data
        else month_of(first)[1] - timedelta(days=1) if in_bounds else first)
    if not form.first.errors and not form.last.errors:
        try:
            check_range(first, last + timedelta(days=1))
        except DomainError as error:
            form.last.errors = [error.message]
    raw = request.args.get("establishment_id")
    establishment_id: int | None = None
    if raw is None:
        establishment_id = default_establishment(current_user)
    elif raw not in ("", ALL):
        if parse_id(raw) not in known:
            form.establishment_id.errors = [_("Choose an establishment of the list.")]
        else:
            establishment_id = parse_id(raw)
    form.first.data, form.last.data = first, last
    form.establishment_id.data = ALL if establishment_id is None else str(establishment_id)
    if form.errors:
        return None
    return Choice(first, last + timedelta(days=1), establishment_id)


# --- charts ----------------------------------------------------------------------


def _labels(group: str, rows: list[Row]) -> list[str]:
    if group == "purpose":
        return [str(PURPOSE_LABELS.get(r.key, r.label)) for r in rows]
    if group == "sharing":
        return [str(SHARING_LABELS.get(r.key, r.label)) for r in rows]
    if group == "company":
        return [_("No company") if r.key == "none" else r.label for r in rows]
    if group == "month":
        return [format_date(date.fromisoformat(r.key + "-01"), "LLLL yyyy") for r in rows]
    return [r.label for r in rows]


def _chart(group: str, rows: list[Row], labels: list[str], period: str) -> Markup:
    chart_id = f"chart-{group}"
    if group in ("equipment", "establishment", "month"):
        bars = [Bar(label, None if r.rate is None else r.rate * 100, percent(r.rate))
                for r, label in zip(rows, labels, strict=True)]
        what = {"equipment": _("Utilisation rate of each machine, %(period)s.", period=period),
                "establishment": _("Utilisation rate of each establishment, %(period)s.",
                                   period=period),
                "month": _("Utilisation rate of each month, %(period)s.", period=period)}[group]
        desc = _("Booked hours over open hours, in per cent; the table that follows gives "
                 "the hours.")
        options: dict[str, Any] = {"chart_id": chart_id, "title": what, "desc": desc,
                                   "axis_label": _("Utilisation rate (per cent)"),
                                   # The axis follows the figures, from 10 % up.
                                   "maximum": 10,
                                   "tick_format": _tick_percent}
        if group == "month":
            bars = [Bar(f"{format_date(date.fromisoformat(r.key + '-01'), 'LLL')}\n"
                        f"{r.key[:4]}", b.value, b.text) for r, b in zip(rows, bars, strict=True)]
            return column_chart(bars, **options)
        return bar_chart(bars, **options)
    bars = [Bar(label, r.booked_hours, _("%(hours)s h", hours=hours(r.booked_hours)),
                SHARING_PATTERNS.get(r.key, 0) if group == "sharing" else 0)
            for r, label in zip(rows, labels, strict=True)]
    what = {"purpose": _("Booked hours by purpose, %(period)s.", period=period),
            "sharing": _("Booked hours by who booked, %(period)s.", period=period),
            "company": _("Booked hours by company, %(period)s.", period=period)}[group]
    desc = _("Machine-hours booked; the table that follows gives their share of the open "
             "hours.")
    return bar_chart(bars, chart_id=chart_id, title=what, desc=desc,
                     axis_label=_("Booked hours"), tick_format=hours)


# --- used against booked (« Utilisation réelle ») -----------------------------------


def _usage_groups(choice_establishment: int | None) -> list[str]:
    return [g for g in USAGE_GROUPS if g != "establishment" or choice_establishment is None]


def _with_figures(rows: list[Row]) -> list[Row]:
    """The rows that have something to say: booked hours or bookings made."""
    return [r for r in rows if r.booked_hours or r.bookings_count or r.used_hours]


def _usage_chart(rows: list[Row], period: str) -> Markup | None:
    """Booked and used hours of each machine concerned by check-in."""
    shown = [r for r in rows if r.check_in_booked_hours or r.used_hours]
    if not shown:
        return None
    booked, used = _("Booked hours on check-in"), _("Used hours")
    groups = [(r.label, [
        Bar(booked, r.check_in_booked_hours,
            _("%(hours)s h", hours=hours(r.check_in_booked_hours)), BOOKED_PATTERN),
        Bar(used, r.used_hours, _("%(hours)s h", hours=hours(r.used_hours)), USED_PATTERN)])
        for r in shown]
    return grouped_bar_chart(
        groups, series=[(booked, BOOKED_PATTERN), (used, USED_PATTERN)],
        chart_id="chart-usage-hours",
        title=_("Booked and used hours of each machine, %(period)s.", period=period),
        desc=_("Machines that require check-in, or where people checked in: the hours "
               "booked, then the hours used from check-in to check-out; the table that "
               "follows gives the figures."),
        axis_label=_("Hours"), tick_format=hours)


def _rate_bar(name: str, rate: float | None, pattern: int) -> Bar:
    return Bar(name, None if rate is None else rate * 100, percent(rate), pattern)


def _rates_chart(rows: list[Row], period: str) -> Markup | None:
    """No-show and late cancellation rates of each machine with bookings."""
    shown = [r for r in rows if r.due_count or r.bookings_count]
    if not shown:
        return None
    no_show, late = _("No-show rate"), _("Late cancellation rate")
    return grouped_bar_chart(
        [(r.label, [_rate_bar(no_show, r.no_show_rate, NO_SHOW_PATTERN),
                    _rate_bar(late, r.late_cancellation_rate, LATE_PATTERN)])
         for r in shown],
        series=[(no_show, NO_SHOW_PATTERN), (late, LATE_PATTERN)],
        chart_id="chart-usage-rates",
        title=_("No-show and late cancellation rates of each machine, %(period)s.",
                period=period),
        desc=_("No-shows over the bookings due at a machine that requires check-in; "
               "late cancellations over the bookings made; in per cent, “—” without "
               "bookings. The table that follows gives the counts."),
        axis_label=_("Rate (per cent)"), maximum=10, tick_format=_tick_percent)


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _usage(rows: dict[str, list[Row]], choice: Choice, period: str,
           people: PeopleScope) -> dict[str, Any]:
    machines = rows["equipment"]
    tables = []
    for group in _usage_groups(choice.establishment_id):
        shown = _with_figures(rows[group]) if group != "user" else rows[group]
        tables.append({
            "group": group, "title": USAGE_TITLES[group], "head": USAGE_HEADS[group],
            "rows": shown,
            "csv": url_for("reports.usage_csv", **choice.query(group_by=group)),
            "csv_comma": url_for("reports.usage_csv", **choice.query(group_by=group, sep=",")),
        })
    used = sum(r.used_hours for r in machines)
    check_in = sum(r.check_in_booked_hours for r in machines)
    due = sum(r.due_count for r in machines)
    no_shows = sum(r.no_show_count for r in machines)
    made = sum(r.bookings_count for r in machines)
    late = sum(r.late_cancellation_count for r in machines)
    return {
        "tables": tables, "everyone": people.everyone,
        "hours_chart": _usage_chart(machines, period),
        "rates_chart": _rates_chart(machines, period),
        "totals": {"used": used, "check_in": check_in, "usage_rate": _ratio(used, check_in),
                   "due": due, "no_shows": no_shows, "no_show_rate": _ratio(no_shows, due),
                   "made": made, "late": late, "late_rate": _ratio(late, made)},
    }


# --- the views -------------------------------------------------------------------


@bp.route("", endpoint="utilisation")
@staff_required
def utilisation_page() -> tuple[str, int] | str:
    now = utc_now()
    today = now.astimezone(CAMPUS_ZONE).date()
    establishments = _establishments()
    form = ReportForm(request.args)
    form.establishment_id.choices = [(ALL, _("All establishments"))] + [
        (str(e.id), f"{e.city} — {e.name}") for e in establishments]
    choice = _choose(form, {e.id for e in establishments}, today)
    this_month = month_of(today)
    if choice is None:
        return render_template("reports/utilisation.html", form=form, choice=None,
                               this_month=this_month), 400
    groups = [g for g in SECTIONS if g != "establishment" or choice.establishment_id is None]
    people = people_scope(current_user)
    rows = report(db.session, first=choice.first, last_excluded=choice.last_excluded,
                  groups=[*groups, "user"], establishment_id=choice.establishment_id,
                  now=now, people=people, counts=True)
    last_day = choice.last_excluded - timedelta(days=1)
    period = _("from %(first)s to %(last)s", first=local_date(choice.first, "long"),
               last=local_date(last_day, "long"))
    sections = []
    for group in groups:
        labels = _labels(group, rows[group])
        sections.append({
            "group": group, "rows": list(zip(rows[group], labels, strict=True)),
            "chart": _chart(group, rows[group], labels, period) if rows[group] else None,
            "csv": url_for("reports.csv", **choice.query(group_by=group)),
            "csv_comma": url_for("reports.csv", **choice.query(group_by=group, sep=",")),
        })
    machines = rows["equipment"]
    booked = sum(r.booked_hours for r in machines)
    opened = sum(r.open_hours for r in machines)
    previous = month_of(choice.first - timedelta(days=1))
    following = month_of(month_of(choice.first)[1])
    scope = next((e for e in establishments if e.id == choice.establishment_id), None)
    return render_template(
        "reports/utilisation.html", form=form, choice=choice, sections=sections,
        period=period, last_day=last_day, scope=scope, this_month=this_month,
        this_month_args=_month_args(this_month),
        totals={"booked": booked, "open": opened,
                "rate": round(booked / opened, 4) if opened else None},
        activity=activity(db.session, choice.first, choice.last_excluded,
                          choice.establishment_id, now=now),
        usage=_usage(rows, choice, period, people),
        previous=choice.query(**_month_args(previous)),
        following=choice.query(**_month_args(following)),
        hours=hours, percent=percent)


def _month_args(month: tuple[date, date]) -> dict[str, str]:
    return {"from": month[0].isoformat(),
            "until": (month[1] - timedelta(days=1)).isoformat()}


def _day(name: str, default: date) -> date:
    return arg_day(name) or default


@dataclass
class Download:
    first: date
    last_excluded: date
    establishment_id: int | None

    def name(self, what: str, extension: str) -> str:
        last = self.last_excluded - timedelta(days=1)
        return ascii_file_name(f"{_('utilisation')}-{what}-{self.first.isoformat()}-"
                               f"{last.isoformat()}.{extension}")


def _download() -> Download:
    """The range and establishment of a download; 400 for what cannot be read.
    ``until`` is the last day (the page's word), ``to`` the day after (the API's)."""
    today = utc_now().astimezone(CAMPUS_ZONE).date()
    first = _day("from", month_of(today)[0])
    until = arg_day("until")
    last = until + timedelta(days=1) if until is not None else _day("to", month_of(first)[1])
    try:
        check_range(first, last)
    except DomainError as error:
        abort(400, description=error.message)
    establishment_id = None
    if request.args.get("establishment_id", "").strip() != ALL:
        establishment_id = arg_id("establishment_id")
        if establishment_id is not None and db.session.get(Establishment,
                                                           establishment_id) is None:
            abort(404)
    return Download(first, last, establishment_id)


def _sent(body: bytes, content_type: str, name: str) -> Response:
    return Response(body, content_type=content_type,
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": f'attachment; filename="{name}"'})


def _table(group: str, rows: list[Row]) -> Table:
    head = str(GROUP_HEADS[group])
    return utilisation_table(head, head, rows, _labels(group, rows))


@bp.route("/utilisation.csv", endpoint="csv")
@staff_required
def utilisation_csv_download() -> Response:
    """The rows of one group in the reader's language (``codes=1``: as the API
    gives them); the whole campus unless ``establishment_id`` says otherwise."""
    choice = _download()
    group_by = request.args.get("group_by", "equipment")
    if group_by not in GROUPS:
        abort(400, description=_("group_by is one of %(groups)s.", groups=", ".join(GROUPS)))
    separator = request.args.get("sep") or None
    if separator is not None and separator not in SEPARATORS:
        abort(400, description=_("sep is “;” or “,”."))
    codes = request.args.get("codes") == "1"
    rows = report(db.session, first=choice.first, last_excluded=choice.last_excluded,
                  groups=[group_by], establishment_id=choice.establishment_id)[group_by]
    if codes:
        body = utilisation_csv(rows, separator or ";")
        name = ascii_file_name(f"utilisation-{group_by}-{choice.first.isoformat()}-"
                               f"{choice.last_excluded.isoformat()}.csv")
    else:
        body = csv_bytes(_table(group_by, rows), layout_for(get_locale()), separator)
        name = choice.name(str(GROUP_HEADS[group_by]), "csv")
    return _sent(body, "text/csv; charset=utf-8", name)


@bp.route("/utilisation.xlsx", endpoint="xlsx")
@staff_required
def utilisation_xlsx_download() -> Response:
    """Every group of the page, one sheet each, in the reader's language."""
    choice = _download()
    groups = [g for g in SECTIONS if g != "establishment" or choice.establishment_id is None]
    rows = report(db.session, first=choice.first, last_excluded=choice.last_excluded,
                  groups=[*groups, "user"], establishment_id=choice.establishment_id,
                  now=utc_now(), people=people_scope(current_user), counts=True)
    usage = [_usage_table(group, rows[group]) for group in _usage_groups(choice.establishment_id)]
    body = xlsx_bytes([_table(group, rows[group]) for group in groups] + usage,
                      layout_for(get_locale()))
    return _sent(body, XLSX_MIMETYPE, choice.name(_("report"), "xlsx"))


def _usage_table(group: str, rows: list[Row]) -> Table:
    shown = _with_figures(rows) if group != "user" else rows
    return usage_table(str(USAGE_TITLES[group]), str(USAGE_HEADS[group]), shown,
                       [r.label for r in shown])


@bp.route("/usage.csv", endpoint="usage_csv")
@staff_required
def usage_csv_download() -> Response:
    """Used against booked, per machine, establishment or user (``group_by``),
    in the reader's language (``codes=1``: the columns of the API's rows)."""
    choice = _download()
    group_by = request.args.get("group_by", "equipment")
    if group_by not in USAGE_GROUPS:
        abort(400, description=_("group_by is one of %(groups)s.",
                                 groups=", ".join(USAGE_GROUPS)))
    separator = request.args.get("sep") or None
    if separator is not None and separator not in SEPARATORS:
        abort(400, description=_("sep is “;” or “,”."))
    rows = report(db.session, first=choice.first, last_excluded=choice.last_excluded,
                  groups=[group_by], establishment_id=choice.establishment_id,
                  now=utc_now(), people=people_scope(current_user), counts=True)[group_by]
    if request.args.get("codes") == "1":
        body = usage_csv(rows, separator or ";")
        name = ascii_file_name(f"usage-{group_by}-{choice.first.isoformat()}-"
                               f"{choice.last_excluded.isoformat()}.csv")
    else:
        body = csv_bytes(_usage_table(group_by, rows), layout_for(get_locale()), separator)
        name = choice.name(str(USAGE_TITLES[group_by]), "csv")
    return _sent(body, "text/csv; charset=utf-8", name)
