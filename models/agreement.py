"""Training agreements (conventions de formation).

Generated from a project's accepted quote: what the agreement says (parties,
objectives, programme, dates, duration, place, learners, price, conditions)
is copied into the row when it is generated, so the PDF read back later is the
one that was signed. The signed scan, uploaded back, lives under the
documents directory like a machine's documents. A project's sessions cannot
be booked before its agreement is signed, unless a coordinator waives it
(:class:`AgreementWaiver`, audited).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from models.establishment import Establishment
    from models.project import Project
    from models.quote import Quote
    from models.user import User


class AgreementStatus(enum.StrEnum):
    GENERATED = "generated"  # to sign
    SIGNED = "signed"  # its signed scan recorded
    CANCELLED = "cancelled"  # replaced by a newer one (a revised quote)


class TrainingAgreement(Base):
    __tablename__ = "training_agreement"
    __table_args__ = (
        CheckConstraint("duration_hours_cents > 0", name="duration_positive"),
        CheckConstraint("learners > 0", name="learners_positive"),
        CheckConstraint("starts_on <= ends_on", name="period"),
        CheckConstraint("status <> 'signed' OR stored_name IS NOT NULL", name="signed_has_scan"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"),
                                            index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="RESTRICT"))
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="RESTRICT"))
    status: Mapped[AgreementStatus] = mapped_column(
        str_enum(AgreementStatus, "status"), default=AgreementStatus.GENERATED)
    # What it says, as generated.
    company_name: Mapped[str] = mapped_column(String(255))
    company_address: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str]
    objectives: Mapped[str] = mapped_column(Text, default="")
    programme: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    duration_hours_cents: Mapped[int]  # hundredths of an hour
    learners: Mapped[int]
    total_excl_cents: Mapped[int]
    vat_cents: Mapped[int]
    total_incl_cents: Mapped[int]
    conditions: Mapped[str] = mapped_column(Text, default="")
    generated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The signed scan (PDF or image) under DOCUMENTS_DIR.
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    filename: Mapped[str | None] = mapped_column(String(160))
    content_type: Mapped[str | None] = mapped_column(String(32))
    size_bytes: Mapped[int | None]
    signed_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_recorded_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()
    quote: Mapped[Quote] = relationship()
    establishment: Mapped[Establishment] = relationship()
    generated_by: Mapped[User | None] = relationship(foreign_keys=[generated_by_id])

    def __repr__(self) -> str:
        return f"<TrainingAgreement {self.id} {self.status.value}>"


class AgreementWaiver(Base):
    """A coordinator's word that a project needs no training agreement (an
    internal action, a free discovery): its sessions may then be booked."""

    __tablename__ = "agreement_waiver"
    __table_args__ = (CheckConstraint("length(reason) > 0", name="reason_not_empty"),)

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    waived_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    waived_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)

    waived_by: Mapped[User | None] = relationship()
