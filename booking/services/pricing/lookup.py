"""The price of a thing for a public on a date: the row of its kind (and
machine, and label for consumables and flat fees) with the latest
``valid_from`` on or before that date. A change of price is a new row, so a
quote dated before it keeps finding the old one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Price, PriceKind, Public


def price_for(session: Session, *, establishment_id: int, kind: PriceKind, public: Public,
              on: date, equipment_id: int | None = None, label: str | None = None
              ) -> Price | None:
    """The price in force on ``on``, or None when the list has none."""
    stmt = (select(Price)
            .where(Price.establishment_id == establishment_id, Price.kind == kind,
                   Price.public == public, Price.valid_from <= on)
            .order_by(Price.valid_from.desc(), Price.id.desc()).limit(1))
    if kind is PriceKind.MACHINE_HOUR:
        stmt = stmt.where(Price.equipment_id == equipment_id)
    if label is not None:
        stmt = stmt.where(Price.label == label)
    return session.scalars(stmt).first()


def price_list(session: Session, *, establishment_id: int, on: date) -> list[Price]:
    """Every price in force on ``on`` for the establishment: per kind, machine,
    public and label, the latest row valid on that date."""
    rows = session.scalars(
        select(Price).where(Price.establishment_id == establishment_id, Price.valid_from <= on)
        .order_by(Price.valid_from, Price.id)).all()
    latest: dict[tuple[object, ...], Price] = {}
    for row in rows:  # ascending: a later row replaces an earlier one
        latest[(row.kind, row.equipment_id, row.public, row.label)] = row
    return sorted(latest.values(), key=lambda p: (list(PriceKind).index(p.kind),
                                                  p.equipment_id or 0, p.label,
                                                  list(Public).index(p.public)))
