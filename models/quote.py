"""Quotes (devis): what a project will cost its company.

A coordinator drafts a quote from the price list; issuing it gives it its
number, without gaps per establishment and year (DEV-2027-0001, from
:class:`QuoteCounter` under a row lock) and freezes its lines and totals. The
company accepts or declines it; an accepted quote fixes the project's price.
Revising an issued quote makes a new version under the same number, the
previous one superseded.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.pricing import PriceKind, Public

if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.establishment import Establishment
    from models.project import Project
    from models.user import User


class QuoteStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class QuoteCounter(Base):
    """The last number issued per establishment and year."""

    __tablename__ = "quote_counter"

    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Quote(Base):
    __tablename__ = "quote"
    __table_args__ = (
        UniqueConstraint("number", "version", name="number_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bounded"),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="issued_numbered"),
        Index("ix_quote_project_id_status", "project_id", "status"),
        # One accepted quote per project: it fixes the project's price.
        Index("uq_quote_accepted_per_project", "project_id", unique=True,
              sqlite_where=text("status = 'accepted'"),
              postgresql_where=text("status = 'accepted'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="RESTRICT"), index=True)
    public: Mapped[Public] = mapped_column(str_enum(Public, "public"))
    status: Mapped[QuoteStatus] = mapped_column(
        str_enum(QuoteStatus, "status"), default=QuoteStatus.DRAFT)
    # DEV-2027-0001, given at issue (a draft has none); a revision keeps it.
    number: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    revises_id: Mapped[int | None] = mapped_column(ForeignKey("quote.id", ondelete="SET NULL"))
    price_date: Mapped[date]  # the prices are those valid on this date
    valid_until: Mapped[date | None]
    # A discount on the whole quote, in basis points (1000 = 10 %).
    discount_bp: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Frozen at issue.
    total_excl_cents: Mapped[int] = mapped_column(default=0)
    vat_cents: Mapped[int] = mapped_column(default=0)
    total_incl_cents: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # The company's answer: who, when, from where (address and browser).
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_from: Mapped[str | None] = mapped_column(String(64))
    decided_user_agent: Mapped[str | None] = mapped_column(String(400))
    decline_reason: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project] = relationship()
    establishment: Mapped[Establishment] = relationship()
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", order_by="QuoteLine.position", cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def reference(self) -> str:
        """DEV-2027-0001, DEV-2027-0001-v2 for a revision; a draft has none."""
        if self.number is None:
            return ""
        return self.number if self.version == 1 else f"{self.number}-v{self.version}"

    def __repr__(self) -> str:
        return f"<Quote {self.id} {self.reference or 'draft'} {self.status.value}>"


class QuoteLine(Base):
    __tablename__ = "quote_line"
    __table_args__ = (
        CheckConstraint("quantity_cents > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="unit_price_not_negative"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_bounded"),
        CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bounded"),
        CheckConstraint("length(label) > 0", name="label_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int]
    kind: Mapped[PriceKind] = mapped_column(str_enum(PriceKind, "kind"))
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="SET NULL"))
    price_id: Mapped[int | None] = mapped_column(ForeignKey("price.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40), default="")
    # Quantities in hundredths (1.5 h = 150): exact, like the money.
    quantity_cents: Mapped[int]
    unit_price_cents: Mapped[int]
    vat_rate_bp: Mapped[int] = mapped_column(default=2000)
    discount_bp: Mapped[int] = mapped_column(default=0)

    quote: Mapped[Quote] = relationship(back_populates="lines")
    equipment: Mapped[Equipment | None] = relationship()
