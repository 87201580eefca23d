"""Price lists and billing profiles: what an establishment charges for its
machines, trainers, consumables and flat fees, to whom, from which date.

A price is never edited once a quote used it: a change is a new row with a
later ``valid_from`` (the lookup takes the latest row valid on the quote's
date), so an issued quote, which copies its prices into its lines, keeps them.
Money is in euro cents and VAT rates in basis points (2000 = 20 %): integers,
exact on both databases.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.establishment import Establishment


class Public(enum.StrEnum):
    """Who pays: the publics a price list distinguishes."""

    OWN = "own"  # the machine's own establishment
    CAMPUS = "campus"  # another establishment of the campus
    ACADEMIC = "academic"  # an academic partner outside the campus
    COMPANY = "company"
    JOB_SEEKERS = "job_seekers"  # a job seekers' programme (France Travail, Région)


class PriceKind(enum.StrEnum):
    MACHINE_HOUR = "machine_hour"
    TRAINER_HOUR = "trainer_hour"
    CONSUMABLE = "consumable"
    FLAT_FEE = "flat_fee"


class Price(Base):
    __tablename__ = "price"
    __table_args__ = (
        CheckConstraint("unit_price_cents >= 0", name="unit_price_not_negative"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_bounded"),
        # Machine hours name their machine; the other kinds are the establishment's.
        CheckConstraint("(kind = 'machine_hour') = (equipment_id IS NOT NULL)",
                        name="machine_hour_has_equipment"),
        CheckConstraint("length(label) > 0 OR kind IN ('machine_hour', 'trainer_hour')",
                        name="label_for_items"),
        Index("ix_price_lookup", "establishment_id", "kind", "public", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="RESTRICT"))
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[PriceKind] = mapped_column(str_enum(PriceKind, "kind"))
    public: Mapped[Public] = mapped_column(str_enum(Public, "public"))
    # Consumables and flat fees: what is sold (« Flacons 50 ml, le cent »).
    label: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")
    unit_price_cents: Mapped[int]
    vat_rate_bp: Mapped[int] = mapped_column(default=2000)
    valid_from: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment: Mapped[Establishment] = relationship()
    equipment: Mapped[Equipment | None] = relationship()

    def __repr__(self) -> str:
        return f"<Price {self.kind.value} {self.public.value} {self.unit_price_cents}>"


class BillingProfile(Base):
    """An establishment's details on its quotes, agreements and invoice lines,
    and the accounting codes its invoice lines carry (set by an admin)."""

    __tablename__ = "billing_profile"
    __table_args__ = (
        CheckConstraint("quote_validity_days BETWEEN 1 AND 365", name="validity_bounded"),
    )

    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    siret: Mapped[str] = mapped_column(String(14), default="")
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    # Numéro de déclaration d'activité of a training body (on agreements).
    training_declaration: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    quote_validity_days: Mapped[int] = mapped_column(default=30)
    payment_terms: Mapped[str] = mapped_column(Text, default="")
    # Accounting: the analytic section of the establishment, and the revenue
    # account (plan comptable, 706…) of each kind of line.
    analytic_code: Mapped[str] = mapped_column(String(40), default="")
    account_machine_hour: Mapped[str] = mapped_column(String(20), default="")
    account_trainer_hour: Mapped[str] = mapped_column(String(20), default="")
    account_consumable: Mapped[str] = mapped_column(String(20), default="")
    account_flat_fee: Mapped[str] = mapped_column(String(20), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment: Mapped[Establishment] = relationship()


class AnalyticCode(Base):
    """A machine's analytic section on invoice lines, when it is not its
    establishment's (BillingProfile.analytic_code)."""

    __tablename__ = "analytic_code"

    equipment_id: Mapped[int] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
