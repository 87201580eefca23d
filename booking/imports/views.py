"""GET/POST /coordination/import: closures from an .ics file, for the
coordinator's establishment or one of its machines (admins: any).

The page only reads the upload and the target; booking.services.imports
checks the permission (403), reads the file (a refusal names its line and
writes nothing) and matches the events by UID.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, npgettext
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from sqlalchemy import select
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from booking.coordination.access import staff_required
from booking.extensions import db
from booking.forms import Form
from booking.handlers import submit
from booking.services.accounts.access import coordinated_establishments
from booking.services.closures.imports import MAX_BYTES, ImportSummary, import_closures
from booking.services.errors import DomainError
from booking.services.inbox.closures import all_hits
from booking.services.inputs import parse_id
from booking.timeutil import utc_now
from models import Equipment

bp = Blueprint("imports", __name__, url_prefix="/coordination")
TARGET_FIELDS = ("establishment_id", "equipment_id")


class ImportForm(Form):
    file = FileField(_l("Calendar file (.ics)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["ics", "ical", "ifb"], _l("Choose an iCalendar file (.ics).")),
        FileSize(MAX_BYTES, message=_l("The file is too large."))],
        description=_l("For instance the school-holiday calendar of zone B. Each event "
                       "becomes a closure; importing the file again updates them."))
    # Any value is let through: whether the user may close it is the service's
    # question (403), not a form error.
    target = SelectField(_l("What closes"), validators=[DataRequired()], validate_choice=False)
    submit = SubmitField(_l("Import the closures"))


def _target_choices(form: ImportForm) -> None:
    establishments = list(db.session.scalars(coordinated_establishments(current_user)))
    by_id = {e.id: e for e in establishments}
    machines = db.session.scalars(select(Equipment).where(
        Equipment.establishment_id.in_(list(by_id))).order_by(Equipment.name))
    whole, one = _("The whole establishment"), _("One piece of equipment")
    form.target.choices = [
        *(SelectChoice(f"establishment-{e.id}", f"{e.name} ({e.city})", optgroup=whole)
          for e in establishments),
        *(SelectChoice(f"equipment-{m.id}", f"{m.name} — {by_id[m.establishment_id].city}",
                       optgroup=one) for m in machines),
    ]


def _target_ids(value: str) -> tuple[int | None, int | None] | None:
    scope, _sep, raw_id = value.partition("-")
    target_id = parse_id(raw_id)  # "equipment-²" or a 20-digit id is no target
    if scope not in ("establishment", "equipment") or target_id is None:
        return None
    return (target_id, None) if scope == "establishment" else (None, target_id)


def _import_done(summary: ImportSummary) -> str:
    """Each count with its own plural (French agrees each word with its number)."""
    counts = [
        npgettext("closures import", "%(num)d closure created", "%(num)d closures created",
                  summary.created),
        npgettext("closures import", "%(num)d updated", "%(num)d updated", summary.updated),
        npgettext("closures import", "%(num)d unchanged", "%(num)d unchanged",
                  summary.unchanged),
        npgettext("closures import", "%(num)d removed", "%(num)d removed", summary.removed),
        npgettext("closures import", "%(num)d skipped", "%(num)d skipped", summary.skipped)]
    done = _("Import done: %(counts)s.", counts=", ".join(counts))
    hits = all_hits(db.session, current_user, now=utc_now(), imported=True)
    if not hits:
        return done
    return done + " " + ngettext(
        "Imported closures fall on %(num)d booking: notify, move or cancel it below.",
        "Imported closures fall on %(num)d bookings: notify, move or cancel them below.",
        len(hits))


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def upload() -> str | Response:
    form = ImportForm()
    _target_choices(form)
    if form.validate_on_submit():
        ids = _target_ids(form.target.data)
        if ids is None:
            form.target.errors = [*form.target.errors, _("Choose what closes.")]
        else:
            upload_file = form.file.data

            def place(error: DomainError) -> None:
                # An unknown target (a stale page) is the select's error, the rest the file's.
                field = form.target if error.details.get("field") in TARGET_FIELDS else form.file
                field.errors = [*field.errors, error.message]

            if submit(lambda: import_closures(
                    db.session, actor=current_user, data=upload_file.read(),
                    establishment_id=ids[0], equipment_id=ids[1], now=utc_now(),
                    source_name=secure_filename(upload_file.filename or "") or None),
                    on_error=place, success=_import_done):
                return redirect(url_for("imports.upload"))
    return render_template("imports/upload.html", form=form,
                           hits=all_hits(db.session, current_user, now=utc_now(), imported=True))
