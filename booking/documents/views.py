"""A machine's documents and photos: /equipment/<id>/documents (list, upload)
and /documents/<id> (download, delete, required reading).

booking.services.equipment.documents decides (who, which file, where); these
views read the upload, call it, and answer the file with headers that keep a
browser from running it: documents as attachments, photos inline (the page
shows them), the type read from the content, nosniff on every answer.
"""

from __future__ import annotations

import io
import math
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from booking.documents.forms import KIND_LABELS, DeleteForm, DocumentForm, MarkForm
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.permissions import may
from booking.services.equipment.documents import (
    Storage,
    Upload,
    add_document,
    delete_document,
    documents_of,
    file_of,
    mark_required,
    required_reading,
)
from booking.timeutil import utc_now
from models import DocumentKind, Equipment, EquipmentDocument

bp = Blueprint("documents", __name__)
# Beyond the file, what a multipart body of the form carries.
FORM_ROOM = 256 * 1024


def _storage() -> Storage:
    return Storage.from_config(current_app.config)


@bp.url_value_preprocessor
def _room_for_a_document(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The upload reads a body up to the documents' own limit; every other
    route keeps MAX_CONTENT_LENGTH. Set before any hook reads the form (CSRF)."""
    if endpoint == "documents.upload":
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"],
                                         _storage().max_bytes + FORM_ROOM)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    """For templates/equipment/_documents.html, included in other blueprints' pages."""

    def equipment_documents(equipment: Equipment) -> list[EquipmentDocument]:
        return documents_of(db.session, current_user, equipment)

    def required_documents(equipment: Equipment) -> list[EquipmentDocument]:
        if not may(current_user, "view", equipment):
            return []
        return required_reading(db.session, equipment)

    return {"equipment_documents": equipment_documents, "required_documents": required_documents,
            "document_kind_labels": KIND_LABELS, "document_size": document_size}


def document_size(size: int) -> str:
    """« 240 Ko », « 1,5 Mo »: in the reader's language."""
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(max(1, math.ceil(size / 1024))))
    return _("%(n)s MB", n=format_decimal(round(size / (1024 * 1024), 1)))


def _page(equipment: Equipment, form: DocumentForm | None) -> str:
    return render_template("documents/index.html", equipment=equipment, form=form,
                           documents=documents_of(db.session, current_user, equipment),
                           max_megabytes=max(1, _storage().max_bytes // (1024 * 1024)))


@bp.route("/equipment/<id:equipment_id>/documents")
@login_required
def index(equipment_id: int) -> str:
    equipment = get_or_404(Equipment, equipment_id, current_user)
    form = DocumentForm() if may(current_user, "manage_documents", equipment) else None
    return _page(equipment, form)


@bp.route("/equipment/<id:equipment_id>/documents", methods=["POST"])
@login_required
def upload(equipment_id: int) -> str | Response:
    equipment = get_or_404(Equipment, equipment_id, current_user, "manage_documents")
    form = DocumentForm()
    if form.validate_on_submit():
        storage = _storage()
        received = form.file.data
        # One byte beyond the limit is enough to refuse; nothing more is held.
        data = received.stream.read(storage.max_bytes + 1)
        done = submit(lambda: add_document(
            db.session, actor=current_user, equipment=equipment, storage=storage, now=utc_now(),
            upload=Upload(data, received.filename or "", DocumentKind(form.kind.data),
                          form.title.data or "", bool(form.required.data))),
            form=form, success=lambda d: _("Photo added: “%(title)s”.", title=d.title)
            if d.is_photo else _("Document added: “%(title)s”.", title=d.title))
        if done:
            return redirect(url_for("documents.index", equipment_id=equipment.id))
    return _page(equipment, form)


@bp.route("/documents/<id:document_id>")
@login_required
def download(document_id: int) -> Response:
    document = get_or_404(EquipmentDocument, document_id, current_user)
    path = file_of(current_user, document, _storage())
    # Read whole (at most DOCUMENT_MAX_BYTES): no file handle outlives the request.
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=document.content_type,
                         as_attachment=not document.is_photo, download_name=document.filename,
                         last_modified=document.created_at, etag=document.stored_name)
    # Private to the reader; revalidated, so a deleted document is not served from a cache.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/documents/<id:document_id>/delete", methods=["GET", "POST"])
@login_required
def delete(document_id: int) -> str | Response:
    document = get_or_404(EquipmentDocument, document_id, current_user, "delete")
    equipment, title = document.equipment, document.title
    done = _("Photo deleted: “%(title)s”.", title=title) if document.is_photo \
        else _("Document deleted: “%(title)s”.", title=title)
    form = DeleteForm()
    if form.validate_on_submit() and submit(
            lambda: delete_document(db.session, actor=current_user, document=document,
                                    storage=_storage(), now=utc_now()),
            success=done):
        return redirect(url_for("documents.index", equipment_id=equipment.id))
    return render_template("documents/delete.html", document=document, equipment=equipment,
                           form=form)


@bp.route("/documents/<id:document_id>/required", methods=["POST"])
@login_required
def mark(document_id: int) -> Response:
    document = get_or_404(EquipmentDocument, document_id, current_user, "mark")
    form = MarkForm()
    if form.validate_on_submit():
        required = form.required.data == "1"
        submit(lambda: mark_required(db.session, actor=current_user, document=document,
                                     required=required, now=utc_now()),
               success=_("“%(title)s” is required reading.", title=document.title) if required
               else _("“%(title)s” is no longer required reading.", title=document.title))
    else:
        flash(_("Nothing was changed."), "error")
    return redirect(url_for("documents.index", equipment_id=document.equipment_id))
