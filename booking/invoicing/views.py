"""Pages of invoicing (issue 15): the invoice lines of completed projects, for
the issuing establishment's accounting software.

* ``/invoicing/``: staff choose an establishment (a coordinator: their own)
  and a period (both days included, Europe/Paris; the previous month by
  default), see the lines and their totals, and download them;
* ``/invoicing/export.csv`` and ``.xlsx`` (``establishment_id``, ``from``,
  ``until``): that period's lines as a file;
* ``/invoicing/projects/<id>.csv`` and ``.xlsx``: one project's lines;
* the « Facturation » card of the project page (templates/invoicing/_project.html),
  fed by :func:`invoicing_card`.

Who may: booking.services.invoicing.access; the files' formats:
booking.services.invoicing.exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from booking.extensions import db
from booking.handlers import get_or_404
from booking.invoicing.forms import PeriodForm
from booking.permissions import is_admin, may
from booking.query import arg_day, arg_id
from booking.request_memo import accepted_quote, per_request
from booking.services.errors import DomainError
from booking.services.inputs import ascii_file_name
from booking.services.invoicing.access import Invoicing, IssuedBy
from booking.services.invoicing.exports import invoice_csv, invoice_xlsx
from booking.services.invoicing.lines import (
    InvoiceLine,
    Totals,
    invoice_lines,
    period_lines,
    totals,
)
from booking.services.policy import CAMPUS_ZONE
from booking.services.tables import XLSX_MIMETYPE, layout_for
from booking.timeutil import utc_now
from models import Establishment, Project, ProjectStatus

bp = Blueprint("invoicing", __name__)

NO_STORE = {"Cache-Control": "private, no-store"}
FORMATS = ("csv", "xlsx")
# No invoice ever comes for these projects: the card says nothing.
ABANDONED = (ProjectStatus.REJECTED, ProjectStatus.CANCELLED)


def _attachment(body: bytes, fmt: str, name: str) -> Response:
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIMETYPE
    return Response(body, content_type=mimetype, headers={
        **NO_STORE,
        "Content-Disposition": f'attachment; filename="{ascii_file_name(name)}.{fmt}"'})


def _file(lines: list[InvoiceLine], fmt: str, name: str) -> Response:
    title = _("Invoice lines")
    if fmt == "csv":
        return _attachment(invoice_csv(lines, title), fmt, name)
    return _attachment(invoice_xlsx(lines, title, layout_for(get_locale())), fmt, name)


# --- one project ------------------------------------------------------------------------


def _project_file(project_id: int, fmt: str) -> Response:
    project = get_or_404(Project, project_id, current_user)
    lines = invoice_lines(db.session, actor=current_user, project=project)
    return _file(lines, fmt, f"{_('invoice-lines')}_{lines[0].quote_reference}"
                 if lines else f"{_('invoice-lines')}_{project.id}")


@bp.route("/invoicing/projects/<id:project_id>.csv")
@login_required
def project_csv(project_id: int) -> Response:
    return _project_file(project_id, "csv")


@bp.route("/invoicing/projects/<id:project_id>.xlsx")
@login_required
def project_xlsx(project_id: int) -> Response:
    return _project_file(project_id, "xlsx")


@dataclass(frozen=True)
class Card:
    """What the project page's « Facturation » card shows: a hint, or the totals
    and the downloads."""

    hint: str | None = None
    totals: Totals | None = None
    reference: str = ""
    attended_hours_cents: int = 0
    learners: int = 0
    links: tuple[tuple[str, str], ...] = ()


@per_request
def invoicing_card(project: Project) -> Card | None:
    """None for whoever may not read the project's invoice lines (companies,
    trainers, another establishment's coordinators), and for a rejected or
    cancelled project."""
    if not may(current_user, "view", Invoicing) or project.status in ABANDONED:
        return None
    quote = accepted_quote(project)  # once per request: the agreement's card's too
    if quote is None:
        return Card(hint=_("Invoice lines come from the accepted quote, once the project is "
                           "completed."))
    if not may(current_user, "export", IssuedBy(quote.establishment_id)):
        return None
    if project.status is not ProjectStatus.COMPLETED:
        return Card(hint=_("Quote %(reference)s is accepted: its invoice lines are ready "
                           "once the project is completed.", reference=quote.reference))
    try:
        lines = invoice_lines(db.session, actor=current_user, project=project)
    except DomainError:
        return None
    first = lines[0] if lines else None
    return Card(totals=totals(lines), reference=quote.reference,
                attended_hours_cents=first.attended_hours_cents if first else 0,
                learners=first.learners_attended if first else 0,
                links=tuple((fmt, url_for(f"invoicing.project_{fmt}", project_id=project.id))
                            for fmt in FORMATS))


@bp.app_context_processor
def _card() -> dict[str, Any]:
    # ``invoicing_access``: for a menu link, ``can("view", invoicing_access)``.
    return {"invoicing_card": invoicing_card, "invoicing_access": Invoicing}


# --- a period -----------------------------------------------------------------------------


def _establishments() -> list[Establishment]:
    """Those the reader may export: all for an admin, their own for a coordinator."""
    stmt = select(Establishment).order_by(Establishment.city, Establishment.name)
    if not is_admin(current_user):
        stmt = stmt.where(Establishment.id == current_user.establishment_id)
    return list(db.session.scalars(stmt))


def _previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _period_file(fmt: str) -> Response:
    if not may(current_user, "view", Invoicing):
        abort(403)
    establishment_id, first, last = arg_id("establishment_id"), arg_day("from"), arg_day("until")
    if establishment_id is None or first is None or last is None:
        abort(400, description=_("Choose an establishment and a period."))
    lines = period_lines(db.session, actor=current_user, establishment_id=establishment_id,
                         first=first, last=last)
    code = db.session.get(Establishment, establishment_id).code  # type: ignore[union-attr]
    return _file(lines, fmt, f"{_('invoice-lines')}_{code}_{first.isoformat()}_"
                 f"{last.isoformat()}")


@bp.route("/invoicing/export.csv")
@login_required
def period_csv() -> Response:
    return _period_file("csv")


@bp.route("/invoicing/export.xlsx")
@login_required
def period_xlsx() -> Response:
    return _period_file("xlsx")


def _projects(lines: list[InvoiceLine]) -> list[dict[str, Any]]:
    """One summary per project: its attendance and its totals."""
    seen: dict[int, dict[str, Any]] = {}
    for line in lines:
        entry = seen.setdefault(line.project_id, {"line": line, "lines": []})
        entry["lines"].append(line)
    return [{"line": e["line"], "totals": totals(e["lines"])} for e in seen.values()]


@bp.route("/invoicing/", endpoint="index")
@login_required
def index() -> tuple[str, int] | str:
    if not may(current_user, "view", Invoicing):
        abort(403)
    establishments = _establishments()
    form = PeriodForm(request.args)
    form.establishment_id.choices = [SelectChoice(str(e.id), f"{e.city} — {e.name}")
                                     for e in establishments]
    form.validate()
    first_default, last_default = _previous_month(utc_now().astimezone(CAMPUS_ZONE).date())
    first = form.first.data or first_default
    last = form.last.data or last_default
    form.first.data, form.last.data = first, last
    chosen = form.establishment_id.data or (str(establishments[0].id)
                                            if len(establishments) == 1 else None)
    known = {str(e.id): e for e in establishments}
    context: dict[str, Any] = {"form": form, "lines": None}
    if chosen is not None and chosen not in known:
        form.establishment_id.errors = [_("Choose an establishment of the list.")]
    elif chosen is not None and not form.errors:
        form.establishment_id.data = chosen
        try:
            lines = period_lines(db.session, actor=current_user,
                                 establishment_id=int(chosen), first=first, last=last)
        except DomainError as error:
            form.last.errors = [error.message]
        else:
            args = {"establishment_id": chosen, "from": first.isoformat(),
                    "until": last.isoformat()}
            context.update(
                lines=lines, totals=totals(lines), projects=_projects(lines),
                establishment=known[chosen], first=first, last=last,
                links=[(fmt, url_for(f"invoicing.period_{fmt}", **args))
                       for fmt in FORMATS])
    status = 422 if form.errors else 200
    page = render_template("invoicing/index.html", **context)
    return (page, status) if status != 200 else page
