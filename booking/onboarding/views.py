"""/onboarding: choose a kind of file, download its template, upload a file,
read its preview, then « Importer ».

The pages only read the upload and keep it (booking.onboarding.uploads); the
service checks who may import (403), reads the file and runs every line
through the services of the pages, twice: once for the preview (rolled back),
once for the import (committed only when every line passes).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from werkzeug.utils import secure_filename
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from booking.extensions import db
from booking.forms import Form
from booking.handlers import submit
from booking.onboarding import uploads
from booking.onboarding.shown import KINDS, counts_sentence, kind_title, line_view
from booking.permissions import require
from booking.services.errors import DomainError
from booking.services.onboarding.access import Onboarding
from booking.services.onboarding.plan import (
    REQUEST_SECONDS,
    ImportRefused,
    Plan,
    import_file,
    preview,
)
from booking.services.onboarding.reading import MAX_BYTES
from booking.services.onboarding.template import FORMATS, template_file
from booking.services.tables import layout_for
from booking.timeutil import utc_now

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")


class UploadForm(Form):
    kind = SelectField(_l("What the file holds"), validators=[DataRequired()],
                       choices=[SelectChoice(k, _l(title)) for k, title in KINDS])
    file = FileField(_l("File (.csv or .xlsx)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["csv", "txt", "xlsx"], _l("Choose a CSV file or an Excel workbook (.xlsx).")),
        FileSize(MAX_BYTES, message=_l("The file is too large."))])
    submit = SubmitField(_l("Preview"))


class ConfirmForm(Form):
    kind = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Import"))


def _gate() -> None:
    require(current_user, "import", Onboarding)


@bp.route("/", methods=["GET", "POST"])
@login_required
def upload() -> str | Response:
    _gate()
    form = UploadForm()
    if form.validate_on_submit():
        kind, data = form.kind.data, form.file.data.read()
        plan = preview(db.session, actor=current_user, kind=kind, data=data, now=utc_now(),
                       seconds=REQUEST_SECONDS)
        db.session.rollback()  # nothing was written; end the locks the preview took
        confirm = None
        if plan.valid:
            confirm = ConfirmForm(kind=kind, digest=uploads.keep(current_user, kind, data))
        return _preview_page(plan, confirm, secure_filename(form.file.data.filename or ""))
    return render_template("onboarding/upload.html", form=form, kinds=KINDS,
                           formats=FORMATS)


def _preview_page(plan: Plan, confirm: ConfirmForm | None, file_name: str) -> str:
    return render_template(
        "onboarding/preview.html", plan=plan, confirm=confirm, file_name=file_name,
        kind_title=kind_title(plan.kind), counts=counts_sentence(plan.counts),
        lines=[line_view(line) for line in sorted(plan.lines, key=lambda x: x.number)])


@bp.route("/confirm", methods=["POST"])
@login_required
def confirm() -> str | Response:
    _gate()
    form = ConfirmForm()
    if not form.validate_on_submit() or form.kind.data not in dict(KINDS):
        abort(400)
    kind, digest = form.kind.data, form.digest.data
    data = uploads.kept(current_user, kind, digest)
    if data is None:
        flash(_("This file is no longer on the server: upload it again."), "error")
        return redirect(url_for("onboarding.upload"))
    refused: dict[str, Plan] = {}

    def place(error: DomainError) -> None:
        if isinstance(error, ImportRefused):
            refused["plan"] = error.plan
        else:
            flash(error.message, "error")

    done = submit(lambda: import_file(db.session, actor=current_user, kind=kind, data=data,
                                      now=utc_now(), source_name=digest[:12],
                                      seconds=REQUEST_SECONDS),
                  on_error=place, success=lambda plan: _("Import done: %(counts)s.",
                                                         counts=counts_sentence(plan.counts)))
    if done:
        uploads.forget(digest)
        return redirect(url_for("onboarding.upload"))
    if "plan" in refused:  # the database changed since the preview: show why
        return _preview_page(refused["plan"], None, "")
    return redirect(url_for("onboarding.upload"))


@bp.route("/template")
@login_required
def template() -> Response:
    """``?kind=accounts|equipment|certifications&format=csv|xlsx`` (400 otherwise)."""
    _gate()
    kind = request.args.get("kind", "accounts")
    file_format = request.args.get("format", "csv")
    if kind not in dict(KINDS) or file_format not in FORMATS:
        abort(400, description=_("kind is one of %(kinds)s and format csv or xlsx.",
                                 kinds=", ".join(dict(KINDS))))
    body, mimetype, name = template_file(kind, file_format, layout_for(get_locale()))
    return Response(body, content_type=mimetype,
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": f'attachment; filename="{name}"'})
