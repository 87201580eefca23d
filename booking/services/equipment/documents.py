"""A machine's documents and photos: what a file must be, where it is kept,
who reads it.

A file is judged by its content, never by the name or type a browser sends: a
document must begin as a PDF does, a photo as a PNG, JPEG or WebP image does;
anything else (HTML named .pdf, SVG, an empty file) is refused before a byte is
written. It is kept under ``Storage.directory`` with a generated name; the
row keeps a cleaned name for the download, its extension following the content.

Files follow the database: a file written for a change that is rolled back is
removed, and a deleted document's file goes only once the deletion is committed
(the session's commit and rollback events below), so a refused or failed
request leaves neither a row without its file nor a file without its row.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, case, event, select
from sqlalchemy.orm import Session

from booking.permissions import may, require
from booking.services import audit
from booking.services.errors import N_, NotFound, ValidationError
from booking.services.inputs import single_line
from models import DocumentKind, Equipment, EquipmentDocument, User
from models.equipment_document import IMAGE_TYPES, PDF

EXTENSIONS = {PDF: ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
MAX_TITLE = 200
MAX_STEM = 120
# Shown first: what to read before a session, then how to work, then the rest.
KIND_ORDER = (DocumentKind.SAFETY, DocumentKind.PROCEDURE, DocumentKind.OTHER,
              DocumentKind.PHOTO)
_WRITTEN = "equipment_documents.written"
_DOOMED = "equipment_documents.doomed"


@dataclass(frozen=True)
class Storage:
    """Where the files are kept (config DOCUMENTS_DIR) and the largest one taken."""

    directory: Path
    max_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Storage:
        """The app's: DOCUMENTS_DIR and DOCUMENT_MAX_BYTES (documents and the
        training agreements' signed scans share them)."""
        return cls(Path(config["DOCUMENTS_DIR"]), int(config["DOCUMENT_MAX_BYTES"]))

    def path_of(self, document: EquipmentDocument) -> Path:
        return self.directory / document.stored_name


@dataclass(frozen=True)
class Upload:
    """A file as received: its bytes (read up to one byte beyond the limit) and
    the name the browser gave, used only for the name shown."""

    data: bytes
    filename: str
    kind: DocumentKind
    title: str = ""
    required: bool = False


def content_type_of(data: bytes) -> str | None:
    """The type the content says, among those kept; None for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def add_document(session: Session, *, actor: User, equipment: Equipment, upload: Upload,
                 storage: Storage, now: datetime) -> EquipmentDocument:
    require(actor, "manage_documents", equipment,
            N_("Only a coordinator of %(name)s or an admin adds documents to its equipment."),
            name=equipment.establishment.name)
    content_type = _checked_type(upload, storage)
    filename = display_name(upload.filename, content_type)
    title = single_line(upload.title)[:MAX_TITLE].strip() or filename.rsplit(".", 1)[0]
    stored_name = _write(session, storage, upload.data, EXTENSIONS[content_type])
    document = EquipmentDocument(
        equipment=equipment, kind=upload.kind, title=title, filename=filename,
        stored_name=stored_name, content_type=content_type, size_bytes=len(upload.data),
        required=upload.required, uploaded_by_id=actor.id, created_at=now)
    session.add(document)
    session.flush()
    audit.record(session, actor=actor, action="equipment.document_add",
                 object_type="equipment", object_id=equipment.id, now=now,
                 document_id=document.id, title=title, kind=upload.kind.value,
                 size_bytes=document.size_bytes, required=upload.required)
    return document


def _checked_type(upload: Upload, storage: Storage) -> str:
    if not upload.data:
        raise ValidationError(N_("The file is empty."), {"field": "file"})
    if len(upload.data) > storage.max_bytes:
        if storage.max_bytes >= 1024 * 1024:
            raise ValidationError(N_("The file is larger than %(n)d MB."), {"field": "file"},
                                  n=storage.max_bytes // (1024 * 1024))
        raise ValidationError(N_("The file is larger than %(n)d KB."), {"field": "file"},
                              n=max(1, storage.max_bytes // 1024))
    content_type = content_type_of(upload.data)
    if upload.kind is DocumentKind.PHOTO:
        if content_type not in IMAGE_TYPES:
            raise ValidationError(N_("A photo must be a PNG, JPEG or WebP image."),
                                  {"field": "file"})
        if upload.required:
            raise ValidationError(N_("Only a document can be required reading, not a photo."),
                                  {"field": "required"})
    elif content_type != PDF:
        raise ValidationError(N_("A document must be a PDF file."), {"field": "file"})
    assert content_type is not None
    return content_type


def display_name(raw: str, content_type: str) -> str:
    """The browser's file name made a plain name: no directory, no control or
    format character, one line, the extension of the real content."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base)
                   if unicodedata.category(ch)[0] != "C")
    base = " ".join(base.split())
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" .")[:MAX_STEM].strip(" .")
    if not stem:
        stem = "photo" if content_type in IMAGE_TYPES else "document"
    return stem + EXTENSIONS[content_type]


def _write(session: Session, storage: Storage, data: bytes, extension: str) -> str:
    """Write under a new random name (never an existing file), atomically."""
    storage.directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + extension
    final, partial = storage.directory / name, storage.directory / f".{name}.part"
    try:
        with partial.open("xb") as out:
            out.write(data)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    session.info.setdefault(_WRITTEN, []).append(final)
    return name


def delete_document(session: Session, *, actor: User, document: EquipmentDocument,
                    storage: Storage, now: datetime) -> None:
    require(actor, "delete", document)
    path = storage.path_of(document)
    equipment_id, document_id, title = document.equipment_id, document.id, document.title
    session.delete(document)
    session.flush()
    session.info.setdefault(_DOOMED, []).append(path)
    audit.record(session, actor=actor, action="equipment.document_delete",
                 object_type="equipment", object_id=equipment_id, now=now,
                 document_id=document_id, title=title)


def mark_required(session: Session, *, actor: User, document: EquipmentDocument,
                  required: bool, now: datetime) -> EquipmentDocument:
    require(actor, "mark", document)
    if required and document.is_photo:
        raise ValidationError(N_("Only a document can be required reading, not a photo."),
                              {"field": "required"})
    if document.required != required:
        document.required = required
        session.flush()
        audit.record(session, actor=actor, action="equipment.document_required",
                     object_type="equipment", object_id=document.equipment_id, now=now,
                     document_id=document.id, title=document.title, required=required)
    return document


def file_of(actor: User, document: EquipmentDocument, storage: Storage) -> Path:
    """The document's file, for a reader who may see it; NotFound if it is gone."""
    require(actor, "view", document)
    path = storage.path_of(document)
    if not path.is_file():
        raise NotFound(N_("Not found."))
    return path


def _ordered(stmt: Select[tuple[EquipmentDocument]]) -> Select[tuple[EquipmentDocument]]:
    rank = case({kind.value: i for i, kind in enumerate(KIND_ORDER)},
                value=EquipmentDocument.kind)
    return stmt.order_by(EquipmentDocument.required.desc(), rank, EquipmentDocument.title,
                         EquipmentDocument.id)


def listed_documents(equipment: Equipment, actor: User) -> Select[tuple[EquipmentDocument]]:
    """The select of a machine's documents and photos for ``actor`` (404 if they
    may not see the machine): required reading first."""
    require(actor, "view", equipment)
    return _ordered(select(EquipmentDocument).where(
        EquipmentDocument.equipment_id == equipment.id))


def documents_of(session: Session, actor: User, equipment: Equipment) -> list[EquipmentDocument]:
    """A machine's documents and photos as ``actor`` may read them (none if they
    may not see the machine): required reading first."""
    if not may(actor, "view", equipment):
        return []
    return list(session.scalars(listed_documents(equipment, actor)))


def required_reading(session: Session, equipment: Equipment) -> list[EquipmentDocument]:
    """The documents to read before a session on the machine."""
    return list(session.scalars(_ordered(select(EquipmentDocument).where(
        EquipmentDocument.equipment_id == equipment.id, EquipmentDocument.required))))


def reading_note(session: Session, equipment: Equipment,
                 site: str) -> tuple[str, dict[str, str]] | None:
    """The paragraph of a confirmation e-mail that lists the required reading
    (a template and its parameters, written in each reader's language)."""
    documents = required_reading(session, equipment)
    if not documents:
        return None
    lines = "\n".join(f"- {single_line(d.title)}: {site}/documents/{d.id}" for d in documents)
    return N_("Read before the session:\n%(documents)s"), {"documents": lines}


@event.listens_for(Session, "after_commit")
def _files_after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_DOOMED, ()):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _files_after_rollback(session: Session) -> None:
    session.info.pop(_DOOMED, None)
    for path in session.info.pop(_WRITTEN, ()):
        path.unlink(missing_ok=True)
