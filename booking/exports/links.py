"""The export buttons of a page (templates/_export_buttons.html): the downloads
of what the page shows, with its filters.

Each page that lists bookings or figures includes the buttons with one line;
which selection that is comes from here, read from the page's own query
string, so the page's view and template need not know about exports. The
downloads apply the reader's visibility again (a company exports only its own
bookings, whatever the link says).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import request, url_for
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

from booking.permissions import is_coordinator
from booking.query import optional_day
from booking.reports.forms import ALL
from booking.services.policy import CAMPUS_ZONE
from booking.timeutil import utc_now


@dataclass(frozen=True)
class ExportLink:
    kind: str  # "ics", "csv", "xlsx": the button's label and the file's type
    url: str


def _today() -> date:
    return utc_now().astimezone(CAMPUS_ZONE).date()


def _booking_links(args: dict[str, Any]) -> list[ExportLink]:
    return [ExportLink(kind, url_for(f"exports.export_{kind}", **args))
            for kind in ("ics", "csv", "xlsx")]


def _mine() -> dict[str, Any]:
    """« Mes réservations »: the tab's side of today."""
    today = _today().isoformat()
    past = request.args.get("tab") == "past"
    return {"mine": 1, "to": today} if past else {"mine": 1, "from": today}


def _site(view_args: dict[str, Any]) -> dict[str, Any]:
    """The site calendar's establishment and the days its view shows."""
    day = optional_day("date") or _today()
    view = request.args.get("view", "day")
    first = last = day
    if view == "week":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
    elif view == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {"establishment_id": view_args.get("establishment_id"),
            "from": first.isoformat(), "to": last.isoformat()}


def _approvals() -> dict[str, Any]:
    """The bookings awaiting the reader's decision (a coordinator's establishment)."""
    args: dict[str, Any] = {"status": "pending"}
    if is_coordinator(current_user) and current_user.establishment_id is not None:
        args["establishment_id"] = current_user.establishment_id
    return args


def _report(choice: Any) -> list[ExportLink]:
    """The report's figures, for the period and establishment the page shows
    (its choice: the query string, or the reader's defaults)."""
    if choice is None:  # a refused filter: nothing is shown, nothing to download
        return []
    args = choice.query(establishment_id=choice.establishment_id or ALL)
    return [ExportLink("csv", url_for("reports.csv", **args)),
            ExportLink("xlsx", url_for("reports.xlsx", **args))]


@pass_context
def export_links(context: Context) -> list[ExportLink]:
    """The downloads of the current page, or none for a page without exports."""
    endpoint = request.endpoint or ""
    if endpoint == "bookings.mine":
        return _booking_links(_mine())
    if endpoint == "sites.calendar":
        return _booking_links(_site(request.view_args or {}))
    if endpoint == "coordination.queue":
        return _booking_links(_approvals())
    if endpoint == "reports.utilisation":
        return _report(context.get("choice"))
    return []
