"""The machines' QR check-in labels: one SVG per machine, and a printable A4
sheet of every active machine of a site (booking.services.kiosk.labels draws
them). The QR code holds the absolute address of the machine's check-in page.
"""

from __future__ import annotations

from flask import Response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from booking.extensions import db
from booking.handlers import get_or_404
from booking.kiosk.views import bp
from booking.public_url import public_url
from booking.services.inputs import ascii_file_name
from booking.services.kiosk.labels import LabelText, label_svg
from models import Equipment, EquipmentStatus, Establishment

LABELS_PER_PAGE = 8  # 2 × 4 on an A4 sheet (static/css/labels.css)


def check_in_url(equipment_id: int) -> str:
    """The absolute address of the machine's check-in page (endpoint
    ``checkin.machine``), as a phone opens it from anywhere."""
    try:
        path = url_for("checkin.machine", equipment_id=equipment_id)
    except BuildError:
        path = _check_in_path_while_the_endpoint_is_missing(equipment_id)
    return public_url() + path


def _check_in_path_while_the_endpoint_is_missing(equipment_id: int) -> str:
    """Fallback only: the path the check-in page is agreed to have, for builds
    where its blueprint (booking/checkin) is not registered yet."""
    return f"/check-in/{equipment_id}"


def _words(equipment: Equipment) -> LabelText:
    site = equipment.establishment
    return LabelText(hint=_("Scan to check in"), site=f"{site.name}, {site.city}")


@bp.route("/equipment/<id:equipment_id>/label.svg", endpoint="label")
@login_required
def label(equipment_id: int) -> Response:
    equipment = get_or_404(Equipment, equipment_id, current_user, "print_label")
    svg = label_svg(equipment, check_in_url(equipment.id), _words(equipment))
    name = ascii_file_name(f"etiquette-{equipment.code}.svg", fallback="etiquette.svg")
    return Response(svg, mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.route("/sites/<id:establishment_id>/labels", endpoint="sheet")
@login_required
def sheet(establishment_id: int) -> str:
    establishment = get_or_404(Establishment, establishment_id, current_user, "manage_kiosks")
    machines = list(db.session.scalars(
        select(Equipment).options(joinedload(Equipment.establishment))
        .where(Equipment.establishment_id == establishment.id,
               Equipment.status == EquipmentStatus.ACTIVE)
        .order_by(Equipment.name, Equipment.code)))
    # Each SVG is built here from escaped text (booking.services.kiosk.labels).
    labels = [(m, Markup(label_svg(m, check_in_url(m.id), _words(m), standalone=False)))  # noqa: S704
              for m in machines]
    pages = [labels[n:n + LABELS_PER_PAGE] for n in range(0, len(labels), LABELS_PER_PAGE)]
    return render_template("kiosk/sheet.html", establishment=establishment, pages=pages,
                           count=len(labels))
