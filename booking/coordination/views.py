"""Coordinator pages: the approval queue, closures, and the establishment's
equipment and accounts. Coordinators act on their own establishment, admins
on all; every decision goes through the same services as the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

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
from booking.i18n import display_zone, local_day_names
from booking.pagination import paginate
from booking.permissions import coordinates, is_admin, may
from booking.services.bookings.approvals import pending_for, review
from booking.services.bookings.operations import decide_booking
from booking.services.bookings.rules import describe_opening_hours
from booking.services.closures.operations import (
    closure_owner,
    closure_target,
    create_closure,
    delete_closure,
)
from booking.services.equipment.operations import update_equipment
from booking.services.errors import DomainError, Forbidden, NotFound
from booking.timeutil import utc_now
from models import (
    Booking,
    BookingStatus,
    Closure,
    ClosureKind,
    Equipment,
    EquipmentStatus,
    Establishment,
    Role,
    User,
)

bp = Blueprint("coordination", __name__, url_prefix="/coordination")
# Ids of the URLs: beyond the database integer they are simply not found (404).
ID = "int(min=1, max=2147483647)"

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
    booking = db.session.get(Booking, booking_id)
    if booking is None or not may(current_user, "view", booking):
        abort(404)
    if not may(current_user, "decide", booking):
        abort(403)
    return booking


@bp.route("/approvals")
@staff_required
def queue() -> str:
    page = paginate(db.session, pending_for(current_user), _page())
    rows = [review(db.session, b) for b in page.items if may(current_user, "decide", b)]
    return render_template("coordination/queue.html", page=page, rows=rows,
                           urgent_before=utc_now() + URGENT)


def _decided(booking: Booking, approve: bool, reason: str | None = None) -> Response | None:
    """Decide; on a refusal (already decided...) flash it and return None."""
    try:
        decide_booking(db.session, actor=current_user, booking=booking, approve=approve,
                       now=utc_now(), reason=reason)
    except (Forbidden, NotFound):
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None
    db.session.commit()
    if approve:
        flash(_("Approved: %(title)s on %(equipment)s.", title=booking.title,
                equipment=booking.equipment.name), "success")
    else:
        flash(_("Rejected: %(title)s on %(equipment)s. The booker can read your reason.",
                title=booking.title, equipment=booking.equipment.name), "success")
    return redirect(url_for("coordination.queue", page=_page()))


@bp.route(f"/approvals/<{ID}:booking_id>/approve", methods=["POST"])
@staff_required
def approve(booking_id: int) -> Response:
    booking = _decidable(booking_id)  # the CSRF token was checked by CSRFProtect
    return _decided(booking, True) or redirect(url_for("coordination.queue", page=_page()))


@bp.route(f"/approvals/<{ID}:booking_id>/reject", methods=["GET", "POST"])
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
    stmt = select(Establishment).order_by(Establishment.name)
    if not is_admin(current_user):
        stmt = stmt.where(Establishment.id == current_user.establishment_id)
    return list(db.session.scalars(stmt))


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


def _visible_closures() -> Select[Any]:
    stmt = select(Closure)
    if not is_admin(current_user):
        own = current_user.establishment_id
        stmt = stmt.where(or_(
            Closure.establishment_id == own,
            Closure.equipment_id.in_(select(Equipment.id).where(
                Equipment.establishment_id == own))))
    return stmt


def _place_error(form: ClosureForm, error: DomainError) -> None:
    """Next to its field ("fields": the last one named, e.g. the end), else on top."""
    name = error.details.get("field") or (error.details.get("fields") or [None])[-1]
    field = {"start": form.start, "end": form.end, "reason": form.reason}.get(name)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _paris(value: datetime) -> datetime:
    """Times entered in these pages are read in Paris time."""
    return value.replace(tzinfo=display_zone()).astimezone(UTC)


@bp.route("/closures", methods=["GET", "POST"])
@staff_required
def closures() -> str | Response:
    form = ClosureForm()
    _closure_choices(form)
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
    if form.validate_on_submit():
        scope, _sep, raw_id = form.target.data.partition("-")
        try:
            target = closure_target(
                db.session,
                establishment_id=int(raw_id) if scope == "establishment" else None,
                equipment_id=int(raw_id) if scope == "equipment" else None)
            if not coordinates(current_user, target.owner_id):
                abort(403)
            closure = create_closure(
                db.session, target, actor=current_user, now=utc_now(),
                start=_paris(form.start.data), end=_paris(form.end.data),
                reason=form.reason.data, kind=ClosureKind(form.kind.data))
        except DomainError as error:
            db.session.rollback()
            _place_error(form, error)
        else:
            db.session.commit()
            flash(_("Closure declared: %(reason)s.", reason=closure.reason), "success")
            return redirect(url_for("coordination.closures"))
    now = utc_now()
    upcoming = Closure.end_at > now
    stmt = _visible_closures().order_by(
        case((upcoming, 0), else_=1),
        case((upcoming, Closure.start_at), else_=None),
        Closure.start_at.desc(), Closure.id)
    page = paginate(db.session, stmt, _page())
    return render_template("coordination/closures.html", form=form, page=page, now=now,
                           targets=_closure_targets(page.items))


def _closure_targets(items: list[Closure]) -> dict[int, Establishment | Equipment]:
    """What each closure closes, by closure id (closures carry ids, not relations)."""
    equipment = {e.id: e for e in db.session.scalars(select(Equipment).where(
        Equipment.id.in_([c.equipment_id for c in items if c.equipment_id])))}
    establishments = {e.id: e for e in db.session.scalars(select(Establishment).where(
        Establishment.id.in_([c.establishment_id for c in items if c.establishment_id])))}
    return {c.id: equipment[c.equipment_id] if c.equipment_id else
            establishments[c.establishment_id] for c in items}


@bp.route(f"/closures/<{ID}:closure_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(closure_id: int) -> str | Response:
    closure = db.session.get(Closure, closure_id)
    if closure is None:
        abort(404)
    if not coordinates(current_user, closure_owner(db.session, closure)):
        abort(403)
    form = DeleteForm()
    if form.validate_on_submit():
        reason = closure.reason
        delete_closure(db.session, closure, actor=current_user, now=utc_now())
        db.session.commit()
        flash(_("Closure deleted: %(reason)s. Its period can be booked again.",
                reason=reason), "success")
        return redirect(url_for("coordination.closures"))
    return render_template("coordination/closure_delete.html", closure=closure, form=form,
                           target=_closure_targets([closure])[closure.id])


# --- equipment and accounts -----------------------------------------------------


def _establishment_shown(form: EstablishmentFilterForm) -> Establishment:
    """A coordinator's own establishment; an admin picks one (default the first)."""
    if not is_admin(current_user):
        establishment = current_user.establishment
        if establishment is None:
            abort(403)
        return establishment
    establishments = list(db.session.scalars(select(Establishment).order_by(Establishment.name)))
    if not establishments:
        abort(404)
    form.establishment.choices = [SelectChoice(e.id, f"{e.name} ({e.city})")
                                  for e in establishments]
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
    accounts = list(db.session.scalars(
        select(User).where(User.establishment_id == establishment.id)
        .order_by(case((User.role == Role.COORDINATOR, 0), else_=1), User.name)))
    return render_template(
        "coordination/equipment.html", form=form, establishment=establishment,
        machines=[(m, describe_opening_hours(m, local_day_names())) for m in machines],
        accounts=accounts)


@bp.route(f"/equipment/<{ID}:equipment_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_equipment(equipment_id: int) -> str | Response:
    machine = db.session.get(Equipment, equipment_id)
    if machine is None:
        abort(404)
    if not may(current_user, "manage", machine):
        abort(403)
    form = EquipmentForm()
    if request.method == "GET":
        form.status.data = machine.status.value
        form.status_reason.data = machine.status_reason
        for day, field in enumerate(form.hours_fields()):
            field.data = format_hours([(h.opens, h.closes) for h in machine.opening_hours
                                       if h.weekday == day])
    if form.validate_on_submit():
        hours = [{"weekday": day, "opens": opens, "closes": closes}
                 for day, field in enumerate(form.hours_fields())
                 for opens, closes in parse_hours(field.data)]
        try:
            update_equipment(db.session, actor=current_user, equipment=machine, now=utc_now(),
                             data={"status": EquipmentStatus(form.status.data),
                                   "status_reason": (form.status_reason.data or "").strip(),
                                   "opening_hours": hours})
        except (Forbidden, NotFound):
            raise
        except DomainError as error:
            db.session.rollback()
            if error.details.get("field") == "status_reason":
                form.status_reason.errors = [*form.status_reason.errors, error.message]
            else:
                form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("%(name)s saved.", name=machine.name), "success")
            return redirect(url_for("coordination.equipment",
                                    establishment=machine.establishment_id))
    return render_template("coordination/equipment_edit.html", form=form, equipment=machine)
