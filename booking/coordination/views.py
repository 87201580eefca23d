"""Coordinator pages: the approval queue, closures, and the establishment's
equipment and accounts. Coordinators act on their own establishment, admins
on all; every decision goes through the same services as the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from booking.admin.forms import WINDOW_WHEN_EMPTY, fill_windows, window_data
from booking.coordination.access import staff_required
from booking.coordination.forms import (
    CLOSURE_KIND_LABELS,
    EQUIPMENT_STATUS_LABELS,
    ClosureForm,
    DeleteForm,
    EquipmentForm,
    EstablishmentFilterForm,
    RejectForm,
    format_hours,
    parse_hours,
)
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.i18n import display_zone, local_day_names
from booking.pagination import paginate
from booking.permissions import may
from booking.services.accounts.access import coordinated_establishments, members
from booking.services.bookings.approvals import pending_for, review, reviews
from booking.services.bookings.operations import decide_booking
from booking.services.bookings.rules import describe_opening_hours
from booking.services.closures.access import managed_closures
from booking.services.closures.operations import (
    closure_target,
    create_closure,
    delete_closure,
)
from booking.services.equipment.hours import wall_clock
from booking.services.equipment.operations import update_equipment
from booking.services.inbox.closures import all_hits, hits_of
from booking.timeutil import utc_now
from models import (
    Booking,
    BookingStatus,
    Closure,
    ClosureKind,
    Equipment,
    EquipmentStatus,
    Establishment,
)

bp = Blueprint("coordination", __name__, url_prefix="/coordination")

# Where a refused closure's error goes ("fields": the last one named, e.g. the end).
CLOSURE_FIELDS = {"start": "start", "end": "end", "reason": "reason", "kind": "",
                  "establishment_id": "", "equipment_id": ""}
# A pending booking whose decision deadline is this close is flagged urgent.
URGENT = timedelta(hours=24)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"closure_kind_labels": CLOSURE_KIND_LABELS,
            "equipment_status_labels": EQUIPMENT_STATUS_LABELS}


def _page() -> int:
    return request.args.get("page", 1, type=int)


# --- approvals ----------------------------------------------------------------


def _decidable(booking_id: int) -> Booking:
    """The booking, 404 if unseen, 403 if the user may not decide it."""
    return get_or_404(Booking, booking_id, current_user, "decide")


@bp.route("/approvals")
@staff_required
def queue() -> str:
    page = paginate(db.session, pending_for(current_user), _page())
    rows = reviews(db.session, [b for b in page.items if may(current_user, "decide", b)])
    return render_template("coordination/queue.html", page=page, rows=rows,
                           urgent_before=utc_now() + URGENT)


def _decided(booking: Booking, approve: bool, reason: str | None = None) -> Response | None:
    """Decide; on a refusal (already decided...) flash it and return None."""
    done = submit(lambda: decide_booking(db.session, actor=current_user, booking=booking,
                                         approve=approve, now=utc_now(), reason=reason),
                  success=_("Approved: %(title)s on %(equipment)s.", title=booking.title,
                            equipment=booking.equipment.name) if approve else
                  _("Rejected: %(title)s on %(equipment)s. The booker can read your reason.",
                    title=booking.title, equipment=booking.equipment.name))
    return redirect(url_for("coordination.queue", page=_page())) if done else None


@bp.route("/approvals/<id:booking_id>/approve", methods=["POST"])
@staff_required
def approve(booking_id: int) -> Response:
    booking = _decidable(booking_id)  # the CSRF token was checked by CSRFProtect
    return _decided(booking, True) or redirect(url_for("coordination.queue", page=_page()))


@bp.route("/approvals/<id:booking_id>/reject", methods=["GET", "POST"])
@staff_required
def reject(booking_id: int) -> str | Response:
    """A confirm step: the page says what is rejected and asks why."""
    booking = _decidable(booking_id)
    if booking.status is not BookingStatus.PENDING:
        flash(_("This booking is no longer pending: nothing to decide."), "info")
        return redirect(url_for("coordination.queue"))
    form = RejectForm()
    if form.validate_on_submit():
        done = _decided(booking, False, form.reason.data)
        if done is not None:
            return done
        return redirect(url_for("coordination.queue"))
    return render_template("coordination/reject.html", booking=booking, form=form,
                           row=review(db.session, booking))


# --- closures -----------------------------------------------------------------


def _own_establishments() -> list[Establishment]:
    return list(db.session.scalars(coordinated_establishments(current_user)))


def _closure_choices(form: ClosureForm) -> None:
    establishments = _own_establishments()
    by_id = {e.id: e for e in establishments}
    machines = db.session.scalars(
        select(Equipment).where(Equipment.establishment_id.in_(list(by_id)))
        .order_by(Equipment.name))
    several = len(establishments) > 1
    whole, one = _("The whole establishment"), _("One piece of equipment")
    form.target.choices = [
        *(SelectChoice(f"establishment-{e.id}", f"{e.name} ({e.city})", optgroup=whole)
          for e in establishments),
        *(SelectChoice(f"equipment-{m.id}", f"{m.name} — {by_id[m.establishment_id].city}"
                       if several else m.name, optgroup=one) for m in machines),
    ]


def _paris(value: datetime) -> datetime:
    """Times entered in these pages are read in Paris time."""
    return wall_clock(value.date(), value.time(), display_zone())


@bp.route("/closures", methods=["GET", "POST"])
@staff_required
def closures() -> str | Response:
    form = ClosureForm()
    _closure_choices(form)
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
    if form.validate_on_submit():
        scope, _sep, raw_id = form.target.data.partition("-")

        def close() -> Closure:
            target = closure_target(
                db.session,
                establishment_id=int(raw_id) if scope == "establishment" else None,
                equipment_id=int(raw_id) if scope == "equipment" else None)
            return create_closure(
                db.session, target, actor=current_user, now=utc_now(),
                start=_paris(form.start.data), end=_paris(form.end.data),
                reason=form.reason.data, kind=ClosureKind(form.kind.data))

        if submit(close, form=form, fields=CLOSURE_FIELDS, success=_declared):
            return redirect(url_for("coordination.closures"))
    now = utc_now()
    upcoming = Closure.end_at > now
    stmt = managed_closures(current_user).order_by(
        case((upcoming, 0), else_=1),
        case((upcoming, Closure.start_at), else_=None),
        Closure.start_at.desc(), Closure.id)
    page = paginate(db.session, stmt, _page())
    return render_template("coordination/closures.html", form=form, page=page, now=now,
                           targets=_closure_targets(page.items),
                           hits=all_hits(db.session, current_user, now=now))


def _declared(closure: Closure) -> str:
    """The success message, warning of the bookings the closure falls on."""
    done = _("Closure declared: %(reason)s.", reason=closure.reason)
    hits = hits_of(db.session, current_user, [closure], now=utc_now())
    if not hits:
        return done
    return done + " " + ngettext(
        "It falls on %(num)d booking: notify, move or cancel it below.",
        "It falls on %(num)d bookings: notify, move or cancel them below.", len(hits))


def _closure_targets(items: list[Closure]) -> dict[int, Establishment | Equipment]:
    """What each closure closes, by closure id (closures carry ids, not relations)."""
    equipment = {e.id: e for e in db.session.scalars(select(Equipment).where(
        Equipment.id.in_([c.equipment_id for c in items if c.equipment_id])))}
    establishments = {e.id: e for e in db.session.scalars(select(Establishment).where(
        Establishment.id.in_([c.establishment_id for c in items if c.establishment_id])))}
    return {c.id: equipment[c.equipment_id] if c.equipment_id else
            establishments[c.establishment_id] for c in items}


@bp.route("/closures/<id:closure_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(closure_id: int) -> str | Response:
    closure = get_or_404(Closure, closure_id, current_user, "delete")
    form = DeleteForm()
    if form.validate_on_submit() and submit(
            lambda: delete_closure(db.session, closure, actor=current_user, now=utc_now()),
            success=_("Closure deleted: %(reason)s. Its period can be booked again.",
                      reason=closure.reason)):
        return redirect(url_for("coordination.closures"))
    return render_template("coordination/closure_delete.html", closure=closure, form=form,
                           target=_closure_targets([closure])[closure.id])


# --- equipment and accounts -----------------------------------------------------


def _establishment_shown(form: EstablishmentFilterForm) -> Establishment:
    """A coordinator's own establishment; an admin picks one (default the first)."""
    establishments = list(db.session.scalars(coordinated_establishments(current_user)))
    if not establishments:
        abort(404)
    if len(establishments) == 1 and not may(current_user, "manage", Establishment):
        return establishments[0]
    form.establishment.choices = [SelectChoice(e.id, f"{e.name} ({e.city})")
                                  for e in establishments]
    form.validate()  # a value of no establishment listed: the error, and the default
    chosen = {e.id: e for e in establishments}.get(form.establishment.data or 0)
    if chosen is None:
        chosen = current_user.establishment or establishments[0]
    form.establishment.data = chosen.id
    return chosen


def _line_order(machine: Equipment) -> tuple[str, int, str]:
    """Each line followed by its components."""
    head = machine.parent or machine
    return (head.name.casefold(), 0 if machine.parent is None else 1, machine.name.casefold())


@bp.route("/equipment")
@staff_required
def equipment() -> str:
    form = EstablishmentFilterForm(request.args)
    establishment = _establishment_shown(form)
    machines = sorted(db.session.scalars(
        select(Equipment).where(Equipment.establishment_id == establishment.id)
        .options(selectinload(Equipment.opening_hours), selectinload(Equipment.parent))),
        key=_line_order)
    accounts = list(db.session.scalars(members(establishment)))
    return render_template(
        "coordination/equipment.html", form=form, establishment=establishment,
        machines=[(m, describe_opening_hours(m, local_day_names())) for m in machines],
        accounts=accounts)


@bp.route("/equipment/<id:equipment_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_equipment(equipment_id: int) -> str | Response:
    machine = get_or_404(Equipment, equipment_id, current_user, "manage")
    form = EquipmentForm()
    if request.method == "GET":
        form.status.data = machine.status.value
        form.status_reason.data = machine.status_reason
        fill_windows(form, machine)
        for day, field in enumerate(form.hours_fields()):
            field.data = format_hours([(h.opens, h.closes) for h in machine.opening_hours
                                       if h.weekday == day])
    if form.validate_on_submit():
        hours = [{"weekday": day, "opens": opens, "closes": closes}
                 for day, field in enumerate(form.hours_fields())
                 for opens, closes in parse_hours(field.data)]
        if submit(lambda: update_equipment(
                db.session, actor=current_user, equipment=machine, now=utc_now(),
                data={"status": EquipmentStatus(form.status.data),
                      "status_reason": (form.status_reason.data or "").strip(),
                      "opening_hours": hours, **window_data(form)}),
                form=form, fields={"status_reason": "status_reason", "status": "",
                                   **{name: name for name in WINDOW_WHEN_EMPTY}},
                success=_("%(name)s saved.", name=machine.name)):
            return redirect(url_for("coordination.equipment",
                                    establishment=machine.establishment_id))
    return render_template("coordination/equipment_edit.html", form=form, equipment=machine)
