"""Periods when an establishment or a piece of equipment cannot be booked."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import ClosureKind

if TYPE_CHECKING:
    from models.equipment import Equipment

# The rows of each scope that carry an import UID.
ESTABLISHMENT_UID = "equipment_id IS NULL AND source_uid IS NOT NULL"
EQUIPMENT_UID = "establishment_id IS NULL AND source_uid IS NOT NULL"


class Closure(Base):
    __tablename__ = "closure"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint(
            "(establishment_id IS NULL) <> (equipment_id IS NULL)", name="one_scope"
        ),
        # Re-importing the same calendar file matches its events by UID, once per
        # scope. One scope column is always NULL (and NULLs are distinct in a
        # unique key), so each scope has its own partial index (migration 0004).
        Index("uq_closure_establishment_id_source_uid", "establishment_id", "source_uid",
              unique=True, sqlite_where=text(ESTABLISHMENT_UID),
              postgresql_where=text(ESTABLISHMENT_UID)),
        Index("uq_closure_equipment_id_source_uid", "equipment_id", "source_uid",
              unique=True, sqlite_where=text(EQUIPMENT_UID),
              postgresql_where=text(EQUIPMENT_UID)),
        Index("ix_closure_establishment_id_start_at", "establishment_id", "start_at"),
        Index("ix_closure_equipment_id_start_at", "equipment_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE")
    )
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="CASCADE")
    )
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    kind: Mapped[ClosureKind] = mapped_column(
        str_enum(ClosureKind, "kind"), default=ClosureKind.OTHER
    )
    reason: Mapped[str] = mapped_column(Text)
    source_uid: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The machine closed, when it is one: its establishment owns the closure.
    equipment: Mapped[Equipment | None] = relationship()

    @property
    def owner_id(self) -> int:
        """The establishment whose coordinators manage the closure."""
        if self.establishment_id is not None:
            return self.establishment_id
        assert self.equipment is not None
        return self.equipment.establishment_id
