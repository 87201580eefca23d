"""Admins edit the travel times between establishments: the campus default,
and the minutes of a pair (either way: stored once, the lower id first).

The trainer guard reads them when a booking is written (migration 0010), so a
change holds the bookings made or moved after it; those already made stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, Conflict, DomainError, ValidationError
from booking.services.sharing.travel import DEFAULT_TRAVEL_MINUTES, default_minutes, pair
from models import MAX_TRAVEL_MINUTES, CampusSetting, Establishment, TravelTime, User


@dataclass(frozen=True)
class Leg:
    """A pair of establishments and the minutes between them."""

    travel: TravelTime
    a: Establishment
    b: Establishment


def legs(session: Session) -> list[Leg]:
    """Every pair given its own time, by the names of its establishments."""
    first, second = aliased(Establishment), aliased(Establishment)
    rows = session.execute(
        select(TravelTime, first, second)
        .join(first, first.id == TravelTime.establishment_a_id)
        .join(second, second.id == TravelTime.establishment_b_id))
    found = [Leg(travel, a, b) for travel, a, b in rows]
    return sorted(found, key=lambda leg: (leg.a.name.casefold(), leg.b.name.casefold()))


def _minutes_problem(minutes: Any, field: str) -> DomainError | None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not 0 <= minutes <= MAX_TRAVEL_MINUTES:
        return ValidationError(N_("A travel time is from 0 to %(max)d minutes."),
                               {"field": field}, max=MAX_TRAVEL_MINUTES)
    return None


def _refuse(problems: list[DomainError]) -> None:
    """The first refusal, carrying all of them (as the equipment service does)."""
    if problems:
        first = problems[0]
        first.refusals = problems  # type: ignore[attr-defined]
        raise first


def set_default_minutes(session: Session, *, actor: User, minutes: int,
                        now: datetime) -> CampusSetting:
    """The minutes between two establishments that have no time of their own."""
    require(actor, "manage", TravelTime)
    _refuse([p for p in [_minutes_problem(minutes, "minutes")] if p is not None])
    setting = session.get(CampusSetting, 1, with_for_update=True)
    if setting is None:  # a database whose row was removed by hand: as the guard reads it
        setting = CampusSetting(id=1, travel_minutes=DEFAULT_TRAVEL_MINUTES, updated_at=now)
        session.add(setting)
    before = setting.travel_minutes
    setting.travel_minutes = minutes
    setting.updated_at = now
    session.flush()
    if before != minutes:
        audit.record(session, actor=actor, action="travel.default", object_type="campus_setting",
                     object_id=1, now=now, changes={"travel_minutes": [before, minutes]})
    return setting


def _pair_problems(session: Session, a_id: Any, b_id: Any) -> list[DomainError]:
    problems: list[DomainError] = []
    for field, given in (("establishment_a_id", a_id), ("establishment_b_id", b_id)):
        if not isinstance(given, int) or session.get(Establishment, given) is None:
            problems.append(ValidationError(N_("No establishment %(id)s."), {"field": field},
                                            id=given))
    if not problems and a_id == b_id:
        problems.append(ValidationError(
            N_("Choose two different establishments: within one, the travel time is 0."),
            {"field": "establishment_b_id"}))
    return problems


def set_travel_time(session: Session, *, actor: User, establishment_a_id: int,
                    establishment_b_id: int, minutes: int, now: datetime) -> TravelTime:
    """The minutes between two establishments, either way (the ids in any order)."""
    require(actor, "manage", TravelTime)
    problems = _pair_problems(session, establishment_a_id, establishment_b_id)
    minutes_problem = _minutes_problem(minutes, "minutes")
    _refuse([*problems, *([minutes_problem] if minutes_problem else [])])
    a, b = pair(establishment_a_id, establishment_b_id)
    travel = _row(session, a, b)
    before = travel.minutes if travel is not None else None
    if travel is None:
        travel = TravelTime(establishment_a_id=a, establishment_b_id=b, minutes=minutes,
                            updated_at=now)
        try:
            with session.begin_nested():
                session.add(travel)
        except IntegrityError:  # another admin gave this pair at the same moment
            raise Conflict(N_("This pair was changed meanwhile: look again and retry."),
                           {"field": "establishment_b_id"}) from None
    else:
        travel.minutes = minutes
        travel.updated_at = now
        session.flush()
    if before != minutes:
        audit.record(session, actor=actor, action="travel.set", object_type="travel_time",
                     object_id=travel.id, now=now, establishment_a_id=a,
                     establishment_b_id=b, changes={"minutes": [before, minutes]})
    return travel


def clear_travel_time(session: Session, *, actor: User, establishment_a_id: int,
                      establishment_b_id: int, now: datetime) -> bool:
    """The pair takes the default again; False when it had no time of its own."""
    require(actor, "manage", TravelTime)
    _refuse(_pair_problems(session, establishment_a_id, establishment_b_id))
    a, b = pair(establishment_a_id, establishment_b_id)
    travel = _row(session, a, b)
    if travel is None:
        return False
    audit.record(session, actor=actor, action="travel.clear", object_type="travel_time",
                 object_id=travel.id, now=now, establishment_a_id=a, establishment_b_id=b,
                 changes={"minutes": [travel.minutes, None]},
                 default_minutes=default_minutes(session))
    session.delete(travel)
    session.flush()
    return True


def _row(session: Session, a: int, b: int) -> TravelTime | None:
    return session.scalar(select(TravelTime).where(TravelTime.establishment_a_id == a,
                                                   TravelTime.establishment_b_id == b)
                          .with_for_update())
