"""Fair sharing and people's time: quotas on shared machines, the travel time
between establishments that the trainer guard adds, and the campus settings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import EquipmentCategory, QuotaAppliesTo, QuotaOver, QuotaPeriod

if TYPE_CHECKING:
    from models.equipment import Equipment
    from models.establishment import Establishment

# The longest travel between two sites the guard adds (minutes): it bounds the
# trainer guard's index range, as MAX_SPAN bounds the machine's.
MAX_TRAVEL_MINUTES = 1440


class Quota(Base):
    """A limit on one machine, or on the machines of one category of the owning
    establishment: hours per period and/or future bookings, counted per
    establishment or per user (``beneficiary_establishment_id`` narrows it to
    one establishment; None: each establishment other than the owner)."""

    __tablename__ = "quota"
    __table_args__ = (
        CheckConstraint("(equipment_id IS NULL) <> (category IS NULL)",
                        name="machine_or_category"),
        CheckConstraint("max_minutes IS NOT NULL OR max_future_bookings IS NOT NULL",
                        name="some_limit"),
        CheckConstraint("max_minutes IS NULL OR max_minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("max_future_bookings IS NULL OR max_future_bookings >= 0",
                        name="bookings_not_negative"),
        Index("ix_quota_establishment_id_category", "establishment_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The owning establishment: for a machine's quota, the machine's.
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"))
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE"), index=True)
    category: Mapped[EquipmentCategory | None] = mapped_column(
        str_enum(EquipmentCategory, "quota_category"))
    applies_to: Mapped[QuotaAppliesTo] = mapped_column(
        str_enum(QuotaAppliesTo, "applies_to"))
    beneficiary_establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"))
    period: Mapped[QuotaPeriod] = mapped_column(str_enum(QuotaPeriod, "period"))
    max_minutes: Mapped[int | None]
    max_future_bookings: Mapped[int | None]
    over: Mapped[QuotaOver] = mapped_column(str_enum(QuotaOver, "over"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment: Mapped[Establishment] = relationship(foreign_keys=[establishment_id])
    beneficiary: Mapped[Establishment | None] = relationship(
        foreign_keys=[beneficiary_establishment_id])
    equipment: Mapped[Equipment | None] = relationship()


class TravelTime(Base):
    """Minutes a trainer needs between two establishments, either way
    (stored once, the lower id first)."""

    __tablename__ = "travel_time"
    __table_args__ = (
        CheckConstraint("establishment_a_id < establishment_b_id", name="ordered_pair"),
        CheckConstraint(f"minutes BETWEEN 0 AND {MAX_TRAVEL_MINUTES}", name="minutes_in_range"),
        UniqueConstraint("establishment_a_id", "establishment_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_a_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"))
    establishment_b_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampusSetting(Base):
    """The campus's one row of settings that the database itself reads (the
    trainer guard's default travel time between two establishments)."""

    __tablename__ = "campus_setting"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(f"travel_minutes BETWEEN 0 AND {MAX_TRAVEL_MINUTES}",
                        name="travel_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    travel_minutes: Mapped[int] = mapped_column(server_default=text("60"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
