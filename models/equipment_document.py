"""A machine's documents (safety instructions, operating procedures, others) and photos.

The file itself lives under the documents directory (config ``DOCUMENTS_DIR``)
with a generated name; the row keeps what was checked of it (its type read
from its content, its size) and the name shown to readers, never a path
given by a browser.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.user import User


class DocumentKind(enum.StrEnum):
    SAFETY = "safety"
    PROCEDURE = "procedure"
    OTHER = "other"
    PHOTO = "photo"


PDF = "application/pdf"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")


class EquipmentDocument(Base):
    __tablename__ = "equipment_document"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint(f"content_type IN ('{PDF}', '" + "', '".join(IMAGE_TYPES) + "')",
                        name="known_content_type"),
        # Documents are PDF files, photos images; only a document is required reading.
        CheckConstraint(f"kind = 'photo' OR content_type = '{PDF}'", name="document_is_pdf"),
        CheckConstraint(f"kind <> 'photo' OR content_type <> '{PDF}'", name="photo_is_image"),
        CheckConstraint("kind <> 'photo' OR NOT required", name="photo_not_required"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "kind"))
    title: Mapped[str] = mapped_column(String(200))
    # The cleaned name offered on download (its extension follows the content).
    filename: Mapped[str] = mapped_column(String(160))
    # The generated name under DOCUMENTS_DIR: random hex and the type's extension.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    required: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    equipment: Mapped[Equipment] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def is_photo(self) -> bool:
        return self.kind is DocumentKind.PHOTO

    def __repr__(self) -> str:
        return f"<EquipmentDocument {self.id} {self.kind.value}>"
