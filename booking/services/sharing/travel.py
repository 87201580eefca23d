"""The travel time a trainer needs between two establishments: the table's
value for the pair, else the campus default; none within one establishment.

The database's trainer guard (migration 0010) reads the same table and
default, so the check made before writing and the guard agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import CampusSetting, TravelTime

DEFAULT_TRAVEL_MINUTES = 60  # when the campus_setting row is missing (as the guard does)


def default_minutes(session: Session) -> int:
    setting = session.get(CampusSetting, 1)
    return setting.travel_minutes if setting is not None else DEFAULT_TRAVEL_MINUTES


def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


class TravelTable:
    """The minutes between ``origin`` and each of some establishments, read in
    one query."""

    def __init__(self, session: Session, origin: int, others: Iterable[int]) -> None:
        self.origin = origin
        others = {o for o in others if o != origin}
        self.minutes: dict[int, int] = {}
        # Read only when some other establishment is involved: a trainer working
        # at one site (the common case) costs no query here.
        self.default = default_minutes(session) if others else DEFAULT_TRAVEL_MINUTES
        if others:
            rows = session.execute(select(TravelTime).where(or_(
                (TravelTime.establishment_a_id == origin)
                & TravelTime.establishment_b_id.in_(others),
                (TravelTime.establishment_b_id == origin)
                & TravelTime.establishment_a_id.in_(others))))
            for (row,) in rows:
                other = (row.establishment_b_id if row.establishment_a_id == origin
                         else row.establishment_a_id)
                self.minutes[other] = row.minutes

    def to(self, establishment_id: int) -> int:
        if establishment_id == self.origin:
            return 0
        return self.minutes.get(establishment_id, self.default)


def travel_minutes(session: Session, a: int, b: int) -> int:
    return TravelTable(session, a, [b]).to(b)
