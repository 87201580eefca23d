"""Check-in at the machine: the page the machine's QR label opens on a phone
(check in, check out, report a problem), and the page of an incident, from
which the owning coordinators put the machine in maintenance or close it.
The rules are booking.services.checkin's; refusals are flashed with their
sentence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.checkin.forms import CheckInForm, CheckOutForm, MaintenanceForm, ResolveForm
from booking.extensions import db
from booking.handlers import get_or_404, place_error, submit
from booking.i18n import local_when
from booking.permissions import coordinates, may
from booking.services.checkin import operations
from booking.services.checkin.access import bookings_at_the_machine
from booking.services.equipment.hours import zone_of
from booking.services.errors import DomainError
from booking.timeutil import utc_now
from models import Booking, Equipment, EquipmentStatus
from models.incident import Incident

bp = Blueprint("checkin", __name__)


@dataclass
class Row:
    """One booking on the machine's page and what may be done with it now."""

    booking: Booking
    state: str  # "early", "open", "closed", "in", "done"
    opens: datetime
    closes: datetime
    check_out: CheckOutForm | None = None


def _rows(equipment: Equipment, now: datetime,
          failed: tuple[int, CheckOutForm] | None = None) -> list[Row]:
    rows = []
    for booking in db.session.scalars(bookings_at_the_machine(current_user, equipment, now)):
        opens, closes = operations.check_in_window(booking)
        state = operations.check_in_state(booking, now)
        row = Row(booking, state, opens, closes)
        if state == "in":
            row.check_out = _unique(failed[1] if failed and failed[0] == booking.id
                                    else CheckOutForm(formdata=None), booking.id)
        rows.append(row)
    return rows


def _unique(form: CheckOutForm, booking_id: int) -> CheckOutForm:
    """Ids of the booking's own: the page may hold the forms of several bookings."""
    for field in (form.incident, form.submit):
        field.id = field.label.field_id = f"{field.name}-{booking_id}"
    return form


def _page(equipment: Equipment, failed: tuple[int, CheckOutForm] | None = None) -> str:
    now = utc_now()
    return render_template(
        "checkin/machine.html", equipment=equipment, rows=_rows(equipment, now, failed),
        refused=failed[1] if failed else None,
        coordinator=coordinates(current_user, equipment.establishment_id),
        inactive=equipment.status is not EquipmentStatus.ACTIVE)


@bp.route("/check-in/<id:equipment_id>")
@login_required
def machine(equipment_id: int) -> str:
    """The machine's check-in page (its QR label's address)."""
    return _page(get_or_404(Equipment, equipment_id, current_user))


@bp.route("/check-in/bookings/<id:booking_id>/in", methods=["POST"])
@login_required
def check_in(booking_id: int) -> Response:
    booking = get_or_404(Booking, booking_id, current_user)
    if CheckInForm().validate_on_submit():
        submit(lambda: operations.check_in(db.session, actor=current_user, booking=booking,
                                           now=utc_now()),
               success=lambda done: _("Checked in on %(when)s. Have a good session!",
                                      when=_when(done, done.checked_in_at)))
    return redirect(url_for("checkin.machine", equipment_id=booking.equipment_id))


@bp.route("/check-in/bookings/<id:booking_id>/out", methods=["POST"])
@login_required
def check_out(booking_id: int) -> Response | str:
    booking = get_or_404(Booking, booking_id, current_user)
    form = CheckOutForm()
    if not form.validate_on_submit():
        return _page(booking.equipment, failed=(booking.id, form))
    refused: list[DomainError] = []
    done = submit(lambda: operations.check_out(db.session, actor=current_user, booking=booking,
                                               now=utc_now(), incident=form.incident.data),
                  on_error=refused.append)
    if not done:
        if refused[0].details.get("field") == "incident":
            place_error(form, refused[0])
            return _page(booking.equipment, failed=(booking.id, form))
        flash(refused[0].message, "error")
    elif (form.incident.data or "").strip():
        flash(_("Checked out. The problem was reported to the establishment's coordinators."),
              "success")
    else:
        flash(_("Checked out. Thank you!"), "success")
    return redirect(url_for("checkin.machine", equipment_id=booking.equipment_id))


def _when(booking: Booking, value: datetime | None) -> str:
    return local_when(value.astimezone(zone_of(booking.equipment))) if value else ""


# --- incidents ---------------------------------------------------------------------------


def _incident_page(incident: Incident, maintenance: MaintenanceForm | None = None) -> str:
    manage = may(current_user, "manage", incident)
    if maintenance is None:
        maintenance = MaintenanceForm(formdata=None)
        maintenance.reason.data = _prefilled_reason(incident)
    return render_template("checkin/incident.html", incident=incident, manage=manage,
                           maintenance=maintenance, resolve=ResolveForm(formdata=None),
                           active=incident.equipment.status is EquipmentStatus.ACTIVE)


def _prefilled_reason(incident: Incident) -> str:
    reason = _("Problem reported on %(when)s: %(description)s",
               when=local_when(incident.reported_at.astimezone(zone_of(incident.equipment))),
               description=" ".join(incident.description.split()))
    return reason[:operations.REASON_MAX_LENGTH]


@bp.route("/incidents/<id:incident_id>")
@login_required
def incident(incident_id: int) -> str:
    return _incident_page(get_or_404(Incident, incident_id, current_user))


@bp.route("/incidents/<id:incident_id>/maintenance", methods=["POST"])
@login_required
def maintenance(incident_id: int) -> Response | str:
    found = get_or_404(Incident, incident_id, current_user, "manage")
    form = MaintenanceForm()
    if form.validate_on_submit() and submit(
            lambda: operations.put_in_maintenance(db.session, actor=current_user,
                                                  incident=found, now=utc_now(),
                                                  reason=form.reason.data),
            form=form, fields={"reason": "reason"},
            success=_("%(name)s is in maintenance.", name=found.equipment.name)):
        return redirect(url_for("checkin.incident", incident_id=found.id))
    return _incident_page(found, maintenance=form)


@bp.route("/incidents/<id:incident_id>/resolve", methods=["POST"])
@login_required
def resolve(incident_id: int) -> Response:
    found = get_or_404(Incident, incident_id, current_user, "manage")
    if ResolveForm().validate_on_submit():
        submit(lambda: operations.resolve(db.session, actor=current_user, incident=found,
                                          now=utc_now()),
               success=_("Incident marked as resolved."))
    return redirect(url_for("checkin.incident", incident_id=found.id))
