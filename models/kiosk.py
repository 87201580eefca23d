"""Secret links to the read-only kiosk view of a machine or a site (issue 14),
kept like feeds: a digest of the token, revocable."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum, utcnow


class KioskScope(StrEnum):
    EQUIPMENT = "equipment"
    ESTABLISHMENT = "establishment"


class KioskLink(Base):
    """The URL is rebuilt from ``secret`` (sealed with the app's key) as feeds
    do; only ``token_hash`` is looked up."""

    __tablename__ = "kiosk_link"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'equipment' AND equipment_id IS NOT NULL AND establishment_id IS NULL)"
            " OR (scope = 'establishment' AND establishment_id IS NOT NULL"
            " AND equipment_id IS NULL)",
            name="one_target",
        ),
        Index("ix_kiosk_link_establishment_id", "establishment_id"),
        Index("ix_kiosk_link_equipment_id", "equipment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[KioskScope] = mapped_column(str_enum(KioskScope, "scope"))
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE")
    )
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE")
    )
    # Where the screen stands, for the coordinators' list (« Hall B, écran 2 »).
    label: Mapped[str] = mapped_column(default="")
    secret: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
