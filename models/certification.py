"""Certification types (habilitations) and the certifications trainers hold."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import CertificationRequestStatus

if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.user import User

OPEN_REQUEST_SQL = "status = 'requested'"


class CertificationType(Base):
    __tablename__ = "certification_type"
    __table_args__ = (
        CheckConstraint("validity_months > 0", name="validity_positive"),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str]
    description: Mapped[str] = mapped_column(Text, default="")
    validity_months: Mapped[int] = mapped_column(default=12)

    def __repr__(self) -> str:
        return f"<CertificationType {self.code}>"


class Certification(Base):
    """A trainer holds a type from ``valid_from`` to ``valid_until``, both
    inclusive, read in Europe/Paris. Revocation keeps the row for history."""

    __tablename__ = "certification"
    __table_args__ = (
        CheckConstraint("valid_from <= valid_until", name="valid_period"),
        CheckConstraint(
            "revoked_by_id IS NULL OR revoked_at IS NOT NULL", name="revoked_by_needs_date"
        ),
        Index("ix_certification_user_id_type_id", "user_id", "certification_type_id"),
        Index("ix_certification_valid_until", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    certification_type_id: Mapped[int] = mapped_column(
        ForeignKey("certification_type.id", ondelete="RESTRICT")
    )
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    certification_type: Mapped[CertificationType] = relationship()

    def covers(self, first_day: date, last_day: date) -> bool:
        """True when this certification is in force on every day of the span."""
        return (
            self.revoked_at is None
            and self.valid_from <= first_day
            and last_day <= self.valid_until
        )


class CertificationRequest(Base):
    """A trainer asks a coordinator for a type, usually from an equipment page
    that requires it. At most one open (``requested``) request per trainer and
    type: a partial unique index, so a double click cannot file two."""

    __tablename__ = "certification_request"
    __table_args__ = (
        CheckConstraint(
            "status = 'requested' OR (decided_at IS NOT NULL)", name="decision_dated"
        ),
        CheckConstraint(
            "status <> 'requested' OR (decided_at IS NULL AND decided_by_id IS NULL)",
            name="open_undecided",
        ),
        Index(
            "uq_certification_request_user_id_certification_type_id",
            "user_id",
            "certification_type_id",
            unique=True,
            sqlite_where=text(OPEN_REQUEST_SQL),
            postgresql_where=text(OPEN_REQUEST_SQL),
        ),
        Index("ix_certification_request_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    certification_type_id: Mapped[int] = mapped_column(
        ForeignKey("certification_type.id", ondelete="RESTRICT"), index=True
    )
    # The page the trainer asked from; the request outlives the equipment.
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[CertificationRequestStatus] = mapped_column(
        str_enum(CertificationRequestStatus, "status"),
        default=CertificationRequestStatus.REQUESTED,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    certification_type: Mapped[CertificationType] = relationship()
    equipment: Mapped[Equipment | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<CertificationRequest {self.id} {self.status}>"
